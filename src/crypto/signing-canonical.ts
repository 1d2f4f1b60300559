// SDK-HMAC-SHA256 canonicalization, byte-compatible with the official Huawei Cloud signer
// (`@huaweicloud/huaweicloud-sdk-core`, auth/AKSKSigner.js).
//
// PURE and ISOMORPHIC: no `node:` imports, no Buffer. The browser console imports this module and
// hashes with WebCrypto; the server (`signing.ts`) hashes with node:crypto.
//
// Things the official signer does that are easy to get wrong (all reproduced here):
// - The canonical URI is built from the path *as it appears in the URL* (already percent-encoded),
//   split on '/', and every segment is percent-encoded AGAIN: `%20` becomes `%2520`. The server must
//   therefore canonicalize the raw request path, never a decoded one. A trailing '/' is always added.
//   The official PYTHON signer decodes the path first and encodes once (`pythonCanonicalUri`); the
//   server accepts both (see README.md, "Request signatures").
// - The canonical query is built from the *decoded* parameters (the SDK signs its `queryParams`
//   object, not the URL), sorted by decoded key (UTF-16 code-unit order, `Array#sort`), repeated keys
//   sorted by value, then each key and value encoded with RFC 3986 unreserved characters only
//   (`A-Z a-z 0-9 - . _ ~`). The wire form (node's `querystring.stringify`) leaves `!'()*` unescaped,
//   so the server decodes the raw query and re-encodes it.
// - Every header present on the request when it is signed is signed (plus `host` and `X-Sdk-Date`),
//   names lower-cased; only a lower-case `content-type` key holding multipart/form-data is skipped.
//   Values are used verbatim (no trimming). The SignedHeaders list is sorted by code unit but the
//   canonical header lines by `localeCompare`; the two orders only differ for names with
//   punctuation other than '-' (e.g. '_'), see `canonicalHeaderOrder`.

export const SDK_SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';
/** Hex SHA-256 of the empty string. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Literal payload hash the official client sends (in X-Sdk-Content-Sha256) for non-JSON bodies. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

const HEX_TABLE: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => `%${i < 16 ? '0' : ''}${i.toString(16).toUpperCase()}`,
);

// 1 for RFC 3986 unreserved ASCII characters, which are left as they are.
const NO_ESCAPE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  ) {
    NO_ESCAPE[c] = 1;
  }
}

/**
 * Percent-encodes everything but RFC 3986 unreserved characters as UTF-8, exactly like the official
 * `AKSKSigner.urlEncode` (a port of node's old `querystring.escape`), including its surrogate
 * handling: a surrogate code unit always consumes the next unit; a trailing one throws.
 * Returns the input string itself when nothing needs escaping.
 */
export function urlEncode(str: string): string {
  let out = '';
  let lastPos = 0;
  const len = str.length;
  for (let i = 0; i < len; ++i) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      if (NO_ESCAPE[c] === 1) continue;
      if (lastPos < i) out += str.slice(lastPos, i);
      lastPos = i + 1;
      out += HEX_TABLE[c];
      continue;
    }
    if (lastPos < i) out += str.slice(lastPos, i);
    if (c < 0x800) {
      lastPos = i + 1;
      out += HEX_TABLE[0xc0 | (c >> 6)]! + HEX_TABLE[0x80 | (c & 0x3f)]!;
      continue;
    }
    if (c < 0xd800 || c >= 0xe000) {
      lastPos = i + 1;
      out +=
        HEX_TABLE[0xe0 | (c >> 12)]! + HEX_TABLE[0x80 | ((c >> 6) & 0x3f)]! + HEX_TABLE[0x80 | (c & 0x3f)]!;
      continue;
    }
    ++i;
    if (i >= len) throw new URIError('ERR_INVALID_URI');
    const c2 = str.charCodeAt(i) & 0x3ff;
    lastPos = i + 1;
    c = 0x10000 + (((c & 0x3ff) << 10) | c2);
    out +=
      HEX_TABLE[0xf0 | (c >> 18)]! +
      HEX_TABLE[0x80 | ((c >> 12) & 0x3f)]! +
      HEX_TABLE[0x80 | ((c >> 6) & 0x3f)]! +
      HEX_TABLE[0x80 | (c & 0x3f)]!;
  }
  if (lastPos === 0) return str;
  if (lastPos < len) return out + str.slice(lastPos);
  return out;
}

/**
 * Canonical URI of a raw (still percent-encoded, as received) request path: every '/'-separated
 * segment percent-encoded again, always ending in '/'. `''` stays `''` like the official signer.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '';
  // Fast path: only unreserved characters and '/' (the usual API path) encode to themselves.
  let plain = true;
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c !== 0x2f && (c >= 0x80 || NO_ESCAPE[c] !== 1)) {
      plain = false;
      break;
    }
  }
  const path = plain ? rawPath : rawPath.split('/').map(urlEncode).join('/');
  return path.charCodeAt(path.length - 1) === 0x2f ? path : `${path}/`;
}

// Python's urllib.parse.unquote(s) (UTF-8, errors='replace'): every `%XX` of an ASCII run becomes a
// byte, the bytes decode as UTF-8 with U+FFFD for invalid sequences; a '%' not followed by two hex
// digits stays as it is; non-ASCII characters pass through.
const LENIENT_UTF8 = new TextDecoder('utf-8', { fatal: false });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function unquoteLikePython(s: string): string {
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += LENIENT_UTF8.decode(new Uint8Array(bytes));
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      flush();
      out += s[i];
      continue;
    }
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    bytes.push(c);
  }
  flush();
  return out;
}

/**
 * Canonical URI as the official PYTHON signer builds it (huaweicloudsdkcore `signer.py`,
 * `process_canonical_uri`): the path is percent-DECODED first (`unquote`, so `%2F` becomes a
 * separator), split on '/', and each segment encoded once with RFC 3986 unreserved characters kept
 * (`quote(seg, safe='~')`, the same set as `urlEncode`), then a trailing '/' is added. So the Python
 * form of `/a%20b` is `/a%20b/` where the Node form (`canonicalUri`) is `/a%2520b/`. For a path
 * without '%' both forms are equal. Null when a segment cannot be encoded (a lone surrogate).
 */
export function pythonCanonicalUri(rawPath: string): string | null {
  if (rawPath === '') return '';
  try {
    const path = unquoteLikePython(rawPath).split('/').map(urlEncode).join('/');
    return path.charCodeAt(path.length - 1) === 0x2f ? path : `${path}/`;
  } catch {
    return null;
  }
}

export type QueryValue = string | number | boolean;
export type QueryParams = Readonly<Record<string, QueryValue | readonly QueryValue[]>>;

interface QueryPair {
  key: string;
  value: string;
}

function comparePairs(a: QueryPair, b: QueryPair): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}

function joinPairs(pairs: QueryPair[]): string {
  if (pairs.length === 0) return '';
  if (pairs.length > 1) pairs.sort(comparePairs);
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    if (i > 0) out += '&';
    out += `${urlEncode(p.key)}=${urlEncode(p.value)}`;
  }
  return out;
}

// Decodes one raw query component ('+' is a space, as in querystring.parse / URLSearchParams).
// Returns null for a malformed percent-escape or invalid UTF-8.
function decodeQueryComponent(s: string): string | null {
  let pct = false;
  let plus = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) pct = true;
    else if (c === 0x2b) plus = true;
  }
  if (!pct && !plus) return s;
  const t = plus ? s.replaceAll('+', ' ') : s;
  if (!pct) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return null;
  }
}

/**
 * Canonical query string of a raw query (without the leading '?'), or null when it holds a
 * malformed percent-escape. Empty `&&` segments are skipped; `k` without '=' is `k=`.
 */
export function canonicalQueryStringOrNull(rawQuery: string): string | null {
  if (rawQuery === '') return '';
  const pairs: QueryPair[] = [];
  let start = 0;
  const len = rawQuery.length;
  while (start <= len) {
    let end = rawQuery.indexOf('&', start);
    if (end < 0) end = len;
    if (end > start) {
      const eq = rawQuery.indexOf('=', start);
      const hasEq = eq >= 0 && eq < end;
      const key = decodeQueryComponent(rawQuery.slice(start, hasEq ? eq : end));
      const value = hasEq ? decodeQueryComponent(rawQuery.slice(eq + 1, end)) : '';
      if (key === null || value === null) return null;
      pairs.push({ key, value });
    }
    start = end + 1;
  }
  return joinPairs(pairs);
}

/**
 * Canonical query string, either from a raw query string (as on the wire, without '?'; decoded then
 * re-encoded) or from a parameter object (what the official SDK signs: values are `String()`-ed,
 * arrays become repeated keys). Throws TypeError on a malformed raw query.
 */
export function canonicalQueryString(rawQuery: string | QueryParams): string {
  if (typeof rawQuery === 'string') {
    const out = canonicalQueryStringOrNull(rawQuery);
    if (out === null) throw new TypeError('malformed query string');
    return out;
  }
  const pairs: QueryPair[] = [];
  for (const key of Object.keys(rawQuery)) {
    const v = rawQuery[key]!;
    if (Array.isArray(v)) {
      for (const item of v as readonly QueryValue[]) pairs.push({ key, value: String(item) });
    } else {
      pairs.push({ key, value: String(v) });
    }
  }
  return joinPairs(pairs);
}

/**
 * Names the official signer signs for these headers (which must already include `host` and
 * `X-Sdk-Date`): all of them, lower-cased, sorted by code unit. The one exception, reproduced
 * literally: a lower-case `content-type` key whose value contains multipart/form-data (the
 * multipart boundary is only known later).
 */
export function signedHeaderNames(headers: Readonly<Record<string, string>>): string[] {
  const names: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key === 'content-type' && headers[key]!.includes('multipart/form-data')) continue;
    names.push(key.toLowerCase());
  }
  return names.sort();
}

// Header-name characters for which `localeCompare` order equals code-unit order.
function isPlainHeaderName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) return false;
  }
  return true;
}

/**
 * Order of the canonical header lines for a SignedHeaders list. The official signer sorts the list
 * by code unit but the lines by `localeCompare`; for names made of `a-z 0-9 -` the two agree, so the
 * list order is kept (no per-request sort); otherwise (e.g. `x_a` vs `x-b`) a localeCompare-sorted
 * copy is returned.
 */
export function canonicalHeaderOrder(signedHeaders: readonly string[]): readonly string[] {
  for (const name of signedHeaders) {
    if (!isPlainHeaderName(name)) return [...signedHeaders].sort((a, b) => a.localeCompare(b));
  }
  return signedHeaders;
}

function lookupHeader(
  headers: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const direct = headers[name];
  if (typeof direct === 'string') return direct;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) {
      const v = headers[key];
      if (typeof v === 'string') return v;
    }
  }
  return undefined;
}

/**
 * `name:value\n` for every signed header (values verbatim), or null when one is absent. Header
 * names are looked up as given (lower-case), then case-insensitively.
 */
export function canonicalHeadersOrNull(
  headers: Readonly<Record<string, string | undefined>>,
  signedHeaders: readonly string[],
): string | null {
  const order = canonicalHeaderOrder(signedHeaders);
  let out = '';
  for (const name of order) {
    const value = lookupHeader(headers, name);
    if (value === undefined) return null;
    out += `${name}:${value}\n`;
  }
  return out;
}

/** Like `canonicalHeadersOrNull` but throws when a signed header is absent. */
export function canonicalHeaders(
  headers: Readonly<Record<string, string>>,
  signedHeaders: readonly string[],
): string {
  const out = canonicalHeadersOrNull(headers, signedHeaders);
  if (out === null) throw new TypeError('a signed header is missing');
  return out;
}

export interface CanonicalRequestInput {
  method: string;
  /** Raw path, as sent on the wire (percent-encoded, not decoded). */
  path: string;
  /** Raw query string (no '?') or the parameter object. */
  query: string | QueryParams;
  headers: Readonly<Record<string, string>>;
  /** Lower-case names, in SignedHeaders order. */
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the raw body, or the X-Sdk-Content-Sha256 value. */
  payloadHash: string;
}

/** method \n URI \n query \n headers (each line ending in \n) \n signed-names \n payload-hash */
export function canonicalRequest(input: CanonicalRequestInput): string {
  return `${input.method}\n${canonicalUri(input.path)}\n${canonicalQueryString(input.query)}\n${canonicalHeaders(
    input.headers,
    input.signedHeaders,
  )}\n${input.signedHeaders.join(';')}\n${input.payloadHash}`;
}

export function stringToSign(sdkDate: string, canonicalRequestHash: string): string {
  return `${SDK_SIGNING_ALGORITHM}\n${sdkDate}\n${canonicalRequestHash}`;
}

export function formatAuthorization(
  access: string,
  signedHeaders: readonly string[],
  signature: string,
): string {
  return `${SDK_SIGNING_ALGORITHM} Access=${access}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
}

export interface ParsedAuthorization {
  access: string;
  signedHeaders: string[];
  /** The SignedHeaders value exactly as sent (it goes into the canonical request verbatim). */
  signedHeadersRaw: string;
  /** 64 hex characters. */
  signature: string;
}

const MAX_SIGNED_HEADERS = 64;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

// RFC 9110 token characters, lower-case letters only (the official signer lower-cases names).
function isLowerTokenChar(c: number): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) return true;
  switch (c) {
    case 0x21: // !
    case 0x23: // #
    case 0x24: // $
    case 0x25: // %
    case 0x26: // &
    case 0x27: // '
    case 0x2a: // *
    case 0x2b: // +
    case 0x2d: // -
    case 0x2e: // .
    case 0x5e: // ^
    case 0x5f: // _
    case 0x60: // `
    case 0x7c: // |
    case 0x7e: // ~
      return true;
    default:
      return false;
  }
}

function parseSignedHeaders(raw: string): string[] | null {
  const names: string[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw.charCodeAt(i) === 0x3b) {
      if (i === start) return null;
      const name = raw.slice(start, i);
      if (names.includes(name)) return null;
      names.push(name);
      if (names.length > MAX_SIGNED_HEADERS) return null;
      start = i + 1;
    } else if (!isLowerTokenChar(raw.charCodeAt(i))) {
      return null;
    }
  }
  return names;
}

/**
 * Parses `SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<h1;h2>, Signature=<64 hex>`. Strict: exact
 * algorithm name, each parameter exactly once (any order, spaces around commas allowed), non-empty
 * access key without spaces or commas, lower-case token header names without duplicates.
 */
export function parseAuthorizationHeader(value: string): ParsedAuthorization | null {
  const algLen = SDK_SIGNING_ALGORITHM.length;
  if (!value.startsWith(SDK_SIGNING_ALGORITHM) || value.charCodeAt(algLen) !== 0x20) return null;
  let access: string | undefined;
  let signedHeadersRaw: string | undefined;
  let signature: string | undefined;
  let pos = algLen;
  const len = value.length;
  while (pos < len) {
    while (pos < len && value.charCodeAt(pos) === 0x20) pos++;
    let end = value.indexOf(',', pos);
    if (end < 0) end = len;
    let partEnd = end;
    while (partEnd > pos && value.charCodeAt(partEnd - 1) === 0x20) partEnd--;
    const eq = value.indexOf('=', pos);
    if (eq < 0 || eq >= partEnd) return null;
    const name = value.slice(pos, eq);
    const v = value.slice(eq + 1, partEnd);
    if (v === '') return null;
    if (name === 'Access') {
      if (access !== undefined) return null;
      access = v;
    } else if (name === 'SignedHeaders') {
      if (signedHeadersRaw !== undefined) return null;
      signedHeadersRaw = v;
    } else if (name === 'Signature') {
      if (signature !== undefined) return null;
      signature = v;
    } else {
      return null;
    }
    pos = end + 1;
    if (end < len && pos >= len) return null; // trailing comma
  }
  if (access === undefined || signedHeadersRaw === undefined || signature === undefined) return null;
  for (let i = 0; i < access.length; i++) {
    const c = access.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2c) return null;
  }
  if (signature.length !== 64) return null;
  for (let i = 0; i < 64; i++) if (!isHex(signature.charCodeAt(i))) return null;
  const signedHeaders = parseSignedHeaders(signedHeadersRaw);
  if (signedHeaders === null) return null;
  return { access, signedHeaders, signedHeadersRaw, signature };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** `YYYYMMDDTHHmmssZ` in UTC (what the official signer puts in X-Sdk-Date). */
export function formatSdkDate(date: Date): string {
  const y = date.getUTCFullYear();
  if (!Number.isFinite(y) || y < 0 || y > 9999) throw new RangeError('date out of range for X-Sdk-Date');
  return `${String(y).padStart(4, '0')}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}T${pad2(
    date.getUTCHours(),
  )}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}Z`;
}

function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Epoch ms of a strict `YYYYMMDDTHHmmssZ` (real calendar date, seconds 00-59), else null. */
export function parseSdkDate(s: string): number | null {
  if (s.length !== 16 || s.charCodeAt(8) !== 0x54 || s.charCodeAt(15) !== 0x5a) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 4, 6);
  const d = digits(s, 6, 8);
  const h = digits(s, 9, 11);
  const mi = digits(s, 11, 13);
  const sec = digits(s, 13, 15);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) {
    return null;
  }
  if (d > daysInMonth(y, mo)) return null; // e.g. 20230230
  if (y >= 100) return Date.UTC(y, mo - 1, d, h, mi, sec); // no Date object on the hot path
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // setUTCFullYear: no 0-99 => 1900-1999 mapping
  date.setUTCHours(h, mi, sec, 0);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
