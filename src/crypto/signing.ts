// SDK-HMAC-SHA256 on the node side: a client signer (CLI, benchmarks, tests) and the server-side
// verifier run on every signed request. Canonicalization lives in `signing-canonical.ts` (shared with
// the browser console); this file only adds hashing, HMAC and the verification rules. No I/O.

import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  canonicalHeadersOrNull,
  canonicalQueryStringOrNull,
  canonicalUri,
  EMPTY_BODY_SHA256,
  formatAuthorization,
  formatSdkDate,
  parseAuthorizationHeader,
  parseSdkDate,
  pythonCanonicalUri,
  SDK_SIGNING_ALGORITHM,
  signedHeaderNames,
  UNSIGNED_PAYLOAD,
} from './signing-canonical.js';

export const DEFAULT_SIGNATURE_WINDOW_MS = 15 * 60 * 1000;

// One-shot hashing (node ≥ 20.12) skips the Hash object a streaming hash allocates: it runs twice on
// every signed request. Same bytes either way (strings are hashed as UTF-8).
const oneShotHash = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;

function sha256Hex(data: string | Buffer): string {
  return oneShotHash !== undefined
    ? oneShotHash('sha256', data, 'hex')
    : createHash('sha256').update(data).digest('hex');
}

function findHeaderKey(headers: Readonly<Record<string, string>>, lowerName: string): string | undefined {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lowerName) return key;
  return undefined;
}

export interface SignRequestInput {
  /** Used verbatim, like the official signer: pass it upper-case, as it goes on the wire. */
  method: string;
  /** Path plus optional `?query`, as it will be sent (percent-encoded); or an absolute http(s) URL. */
  url: string;
  /** Every header here is signed (the official signer signs all request headers). */
  headers?: Readonly<Record<string, string>>;
  body?: Buffer | string | undefined;
  ak: string;
  sk: string;
  /** Signing time (default now). If `headers` already has X-Sdk-Date, that is used; a different `date` throws. */
  date?: Date;
}

function splitUrl(url: string): { host: string | undefined; path: string; query: string } {
  let rest = url;
  let host: string | undefined;
  const scheme = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : 0;
  if (scheme > 0) {
    let end = scheme;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      end++;
    }
    host = url.slice(scheme, end);
    rest = url.slice(end);
    if (rest === '' || rest.charCodeAt(0) !== 0x2f) rest = `/${rest}`;
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return q < 0 ? { host, path: rest, query: '' } : { host, path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/**
 * Signs a request like the official `AKSKSigner.sign` and returns the headers to ADD to it:
 * `Authorization`, plus `X-Sdk-Date` and `host` when they are not already among `headers` (the host
 * is taken from an absolute `url`; one of the two is required, since the official signer always
 * signs the host). The payload hash is X-Sdk-Content-Sha256 when given, else the hex SHA-256 of the
 * raw body bytes — what the official signer computes for a JSON object body it sends as
 * JSON.stringify(data). The query is signed in its decoded form, so `?a=%41` and `?a=A` sign alike.
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const { host: urlHost, path, query } = splitUrl(input.url);
  const all: Record<string, string> = { ...input.headers };
  const added: Record<string, string> = {};

  const dateKey = findHeaderKey(all, 'x-sdk-date');
  let sdkDate: string;
  if (dateKey !== undefined) {
    sdkDate = all[dateKey]!;
    if (input.date !== undefined && formatSdkDate(input.date) !== sdkDate) {
      throw new Error('signRequest: both `date` and a different X-Sdk-Date header were given');
    }
  } else {
    sdkDate = formatSdkDate(input.date ?? new Date());
    added['X-Sdk-Date'] = sdkDate;
  }

  if (findHeaderKey(all, 'host') === undefined) {
    if (urlHost === undefined || urlHost === '') {
      throw new Error('signRequest: a host header or an absolute url is required (the host is signed)');
    }
    added.host = urlHost;
  }
  Object.assign(all, added);

  const shaKey = findHeaderKey(all, 'x-sdk-content-sha256');
  const payloadHash =
    shaKey !== undefined
      ? all[shaKey]!
      : input.body === undefined || input.body.length === 0
        ? EMPTY_BODY_SHA256
        : sha256Hex(input.body);

  const names = signedHeaderNames(all);
  const headers = canonicalHeadersOrNull(all, names);
  const canonicalQuery = canonicalQueryStringOrNull(query);
  if (headers === null || canonicalQuery === null) throw new TypeError('signRequest: malformed request');
  const signedNames = names.join(';');
  const canonical = `${input.method}\n${canonicalUri(path)}\n${canonicalQuery}\n${headers}\n${signedNames}\n${payloadHash}`;
  const toSign = `${SDK_SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
  const signature = createHmac('sha256', input.sk).update(toSign).digest('hex');
  added.Authorization = formatAuthorization(input.ak, names, signature);
  return added;
}

export type VerifyFailureReason =
  | 'missing'
  | 'malformed'
  | 'bad_date'
  | 'expired'
  | 'bad_signature'
  | 'unknown_access_key'
  | 'content_hash_mismatch';

/**
 * On 'bad_signature': what the server computed, for the caller to compare with its own signer's
 * (neither depends on the secret key).
 */
export interface SignatureDebug {
  canonicalRequest: string;
  stringToSign: string;
}

export type VerifyResult =
  | { ok: true; ak: string }
  | { ok: false; reason: VerifyFailureReason; debug?: SignatureDebug };

export interface VerifyInput {
  /** As received (upper-case on the wire). */
  method: string;
  /** Path exactly as received, still percent-encoded (e.g. the part of `req.url` before '?'). */
  rawPath: string;
  /** Query exactly as received, without the '?' ('' when none). */
  rawQuery: string;
  /** Lower-case names (node's IncomingHttpHeaders); `host` as received. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body bytes (empty buffer when none). */
  body: Buffer;
  /** Server time, epoch ms. */
  now: number;
  lookupSecret: (ak: string) => string | undefined;
  windowMs?: number;
  /**
   * Accept `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` with a non-empty body, i.e. a body the signature
   * does not cover (what the official client sends for non-JSON content types). Default false: such a
   * request fails with 'content_hash_mismatch'. With an empty body UNSIGNED-PAYLOAD is always accepted.
   */
  allowUnsignedPayload?: boolean;
}

// HMAC key for unknown access keys, so that they cost the same as a wrong signature.
const DUMMY_SECRET = randomBytes(30).toString('base64'); // 40 chars, the length of a real SK

function fail(reason: VerifyFailureReason): VerifyResult {
  return { ok: false, reason };
}

function equalsIgnoreAsciiCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Verifies an SDK-HMAC-SHA256 signed request. Checks, in order: Authorization present ('missing');
 * parseable, x-sdk-date signed, every signed header present, query well-formed ('malformed');
 * X-Sdk-Date strict ('bad_date') and within ±windowMs of `now` ('expired'); X-Sdk-Content-Sha256,
 * when sent, equal to the real body hash, or UNSIGNED-PAYLOAD with an empty body
 * ('content_hash_mismatch'); then the HMAC ('bad_signature', with the canonical request and string to sign
 * computed, or 'unknown_access_key', computed with a dummy secret so that both cost the same). The HMAC
 * comparison is constant-time. The path may be canonicalized the Node SDK's way or, when it holds '%',
 * the Python SDK's way (`pythonCanonicalUri`).
 *
 * UNSIGNED-PAYLOAD (what the official client sends for non-JSON content types) leaves the body
 * unauthenticated, so with a body it is refused unless `allowUnsignedPayload` is set.
 */
export function verifySignature(input: VerifyInput): VerifyResult {
  const { headers } = input;
  const authorization = headers.authorization;
  if (authorization === undefined || authorization === '') return fail('missing');
  if (typeof authorization !== 'string') return fail('malformed');
  const auth = parseAuthorizationHeader(authorization);
  if (auth === null || !auth.signedHeaders.includes('x-sdk-date')) return fail('malformed');

  // Arrays (only set-cookie in node) are never legitimately signed: the lookup treats them as absent.
  const canonicalHeaders = canonicalHeadersOrNull(
    headers as Readonly<Record<string, string>>,
    auth.signedHeaders,
  );
  if (canonicalHeaders === null) return fail('malformed');
  const canonicalQuery = canonicalQueryStringOrNull(input.rawQuery);
  if (canonicalQuery === null) return fail('malformed');

  const sdkDate = headers['x-sdk-date'];
  if (typeof sdkDate !== 'string') return fail('malformed'); // signed, so present unless mis-cased
  const signedAt = parseSdkDate(sdkDate);
  if (signedAt === null) return fail('bad_date');
  if (Math.abs(input.now - signedAt) > (input.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS))
    return fail('expired');

  // Verify over the raw body bytes. The declared content hash is what was signed (per the official
  // signer) but must also match the body actually received.
  const declared = headers['x-sdk-content-sha256'];
  let payloadHash: string;
  if (declared === undefined) {
    payloadHash = input.body.length === 0 ? EMPTY_BODY_SHA256 : sha256Hex(input.body);
  } else if (typeof declared !== 'string') {
    return fail('malformed');
  } else if (declared === UNSIGNED_PAYLOAD) {
    if (input.body.length > 0 && input.allowUnsignedPayload !== true) return fail('content_hash_mismatch');
    payloadHash = declared;
  } else {
    const actual = input.body.length === 0 ? EMPTY_BODY_SHA256 : sha256Hex(input.body);
    if (!equalsIgnoreAsciiCase(declared, actual)) return fail('content_hash_mismatch');
    payloadHash = declared;
  }

  const secret = input.lookupSecret(auth.access);
  const known = secret !== undefined && secret !== '';
  // parseAuthorizationHeader guarantees 64 hex characters, hence 32 bytes: equal lengths.
  const given = Buffer.from(auth.signature, 'hex');
  const rest = `${canonicalQuery}\n${canonicalHeaders}\n${auth.signedHeadersRaw}\n${payloadHash}`;
  const canonicalOf = (uri: string): string => `${input.method}\n${uri}\n${rest}`;
  const stringToSignOf = (canonical: string): string =>
    `${SDK_SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
  const matches = (uri: string): boolean => {
    const expected = createHmac('sha256', known ? secret : DUMMY_SECRET)
      .update(stringToSignOf(canonicalOf(uri)))
      .digest();
    return timingSafeEqual(expected, given);
  };
  // The Node signer encodes the raw path once more (`%20` → `%2520`), the Python signer decodes it
  // first and encodes once (`%20` stays): both are official, so a path holding '%' may match either.
  const nodeUri = canonicalUri(input.rawPath);
  let match = matches(nodeUri);
  if (!match && input.rawPath.includes('%')) {
    const pythonUri = pythonCanonicalUri(input.rawPath);
    if (pythonUri !== null && pythonUri !== nodeUri) match = matches(pythonUri);
  }
  if (!known) return fail('unknown_access_key');
  if (!match) {
    // What the server computed (the Node SDK's form), for the caller to compare with its own signer's.
    const canonicalRequest = canonicalOf(nodeUri);
    return {
      ok: false,
      reason: 'bad_signature',
      debug: { canonicalRequest, stringToSign: stringToSignOf(canonicalRequest) },
    };
  }
  return { ok: true, ak: auth.access };
}
