/**
 * SDK-HMAC-SHA256 request signing in the browser, with WebCrypto. The canonical request is built by
 * the same pure code the server verifies with (src/crypto/signing-canonical.ts); only hashing and
 * the HMAC happen here. The secret key is imported once as a non-extractable CryptoKey, so the
 * console never keeps the SK as a string after sign-in.
 *
 * Browsers do not let scripts set `Host`; they send the page's host (host:port, default ports
 * omitted). The signer therefore signs `host` with the value the browser will send (location.host
 * for same-origin requests) and the caller must not try to send it.
 */
import {
  canonicalRequest,
  formatAuthorization,
  formatSdkDate,
  signedHeaderNames,
  stringToSign,
} from '../../../src/crypto/signing-canonical.js';

const encoder = new TextEncoder();

function toHex(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Imports the secret access key for HMAC-SHA256 signing only; the key cannot be read back. */
export async function importSecretKey(sk: string): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(sk),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
}

export async function hmacSha256Hex(key: CryptoKey, text: string): Promise<string> {
  return toHex(await globalThis.crypto.subtle.sign('HMAC', key, encoder.encode(text)));
}

export interface SignInput {
  method: string;
  /** The URL path exactly as it will be requested, without the query string. */
  path: string;
  /** Query parameters as they will be sent (values already plain strings). */
  query?: Readonly<Record<string, string>>;
  /** The headers the request will carry, `host` included (see the note above); all are signed. */
  headers: Readonly<Record<string, string>>;
  /** The exact body text that will be sent, or undefined for none. */
  body?: string;
  ak: string;
  key: CryptoKey;
  /** The signing time; defaults to now. */
  date?: Date;
}

export interface SignedRequest {
  /** X-Sdk-Date as sent and signed. */
  sdkDate: string;
  /** `h1;h2;...`, lower-case and sorted. */
  signedHeaders: string;
  authorization: string;
  /** The input headers plus X-Sdk-Date and Authorization, `host` removed (the browser sets it). */
  headers: Record<string, string>;
}

export async function signRequest(input: SignInput): Promise<SignedRequest> {
  const sdkDate = formatSdkDate(input.date ?? new Date());
  const all: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (name.toLowerCase() === 'x-sdk-date' || name.toLowerCase() === 'authorization') continue;
    all[name.toLowerCase()] = value;
  }
  all['x-sdk-date'] = sdkDate;
  const names = signedHeaderNames(all);
  const payloadHash = await sha256Hex(input.body ?? '');
  const request = canonicalRequest({
    method: input.method.toUpperCase(),
    path: input.path,
    query: input.query ?? {},
    headers: all,
    signedHeaders: names,
    payloadHash,
  });
  const signature = await hmacSha256Hex(input.key, stringToSign(sdkDate, await sha256Hex(request)));
  const signedHeaders = names.join(';');
  const authorization = formatAuthorization(input.ak, names, signature);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'x-sdk-date' || lower === 'authorization') continue;
    headers[name] = value;
  }
  headers['X-Sdk-Date'] = sdkDate;
  headers.Authorization = authorization;
  return { sdkDate, signedHeaders, authorization, headers };
}
