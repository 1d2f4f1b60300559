// Password hashes for the identities file: scrypt (node:crypto), encoded as one self-describing string
//   scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>
// e.g. scrypt$16384$8$1$3q2+7w...$Jm9v... (N a power of two; salt >= 16 bytes; hash >= 32 bytes).
// No I/O. `hashPassword` makes one (npm run hash-password); `verifyPassword` compares in constant time.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelization. */
  p: number;
}

export interface PasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** About 50 ms and 16 MiB on a current server core. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 16384, r: 8, p: 1 };

const PREFIX = 'scrypt';
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds keep a hostile or mistyped file from making a start-up or a login take minutes or gigabytes.
const MIN_LOG2_N = 10;
const MAX_LOG2_N = 20;
const MAX_R = 32;
const MAX_P = 16;
const MIN_SALT_BYTES = 16;
const MIN_HASH_BYTES = 32;
const MAX_BYTES = 256;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(text: string): Buffer | null {
  if (!BASE64.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, 'base64');
}

function integer(text: string): number | null {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) return null;
  return Number(text);
}

function paramsProblem({ N, r, p }: ScryptParams): string | null {
  if (!Number.isInteger(N) || (N & (N - 1)) !== 0 || N < 2 ** MIN_LOG2_N || N > 2 ** MAX_LOG2_N) {
    return `N must be a power of two from ${2 ** MIN_LOG2_N} to ${2 ** MAX_LOG2_N}`;
  }
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) return `r must be an integer from 1 to ${MAX_R}`;
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) return `p must be an integer from 1 to ${MAX_P}`;
  return null;
}

/**
 * Why `encoded` is not a usable password hash, or null when it is one. The reason never repeats the
 * value (it is a secret of sorts).
 */
export function passwordHashProblem(encoded: string): string | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) {
    return 'must have the form scrypt$N$r$p$<salt base64>$<hash base64>';
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const params = paramsProblem({ N: integer(n) ?? 0, r: integer(r) ?? 0, p: integer(p) ?? 0 });
  if (params !== null) return params;
  const saltBytes = decodeBase64(salt);
  if (saltBytes === null || saltBytes.length < MIN_SALT_BYTES || saltBytes.length > MAX_BYTES) {
    return `the salt must be base64 of ${MIN_SALT_BYTES} to ${MAX_BYTES} bytes`;
  }
  const hashBytes = decodeBase64(hash);
  if (hashBytes === null || hashBytes.length < MIN_HASH_BYTES || hashBytes.length > MAX_BYTES) {
    return `the hash must be base64 of ${MIN_HASH_BYTES} to ${MAX_BYTES} bytes`;
  }
  return null;
}

/** Parses an encoded hash; throws (without the value) when it is not one. */
export function parsePasswordHash(encoded: string): PasswordHash {
  const problem = passwordHashProblem(encoded);
  if (problem !== null) throw new Error(`invalid password hash: ${problem}`);
  const [, n, r, p, salt, hash] = encoded.split('$') as [string, string, string, string, string, string];
  return {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt, 'base64'),
    hash: Buffer.from(hash, 'base64'),
  };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      length,
      // maxmem: scrypt needs about 128 * N * r bytes; node's default limit (32 MiB) is too tight for N=2^20.
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** A new encoded hash of `password` with a random salt. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const problem = paramsProblem(params);
  if (problem !== null) throw new RangeError(`scrypt parameters out of range: ${problem}`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `${PREFIX}$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches; the comparison is constant-time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored, stored.hash.length);
  return timingSafeEqual(candidate, stored.hash);
}
