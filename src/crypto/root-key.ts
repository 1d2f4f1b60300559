// The root key: 32 bytes held outside the database (see src/store/root-key-file.ts), used only to seal
// master-key material at rest. No I/O here.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';

export const ROOT_KEY_BYTES = 32;

/** Format version of a root-sealed blob; first byte of every blob. */
const SEAL_VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// Strict, canonical base64 only: Buffer.from(..., 'base64') silently skips junk characters, which would
// let a corrupted key file decode to "some" 32 bytes.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a base64 root key. Throws (without echoing the input) unless it is exactly 32 bytes. */
export function parseRootKey(base64: string): Buffer {
  const text = base64.trim();
  if (!BASE64.test(text)) {
    throw new Error(
      `root key must be standard base64 encoding exactly ${ROOT_KEY_BYTES} bytes (not valid base64)`,
    );
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== ROOT_KEY_BYTES) {
    throw new Error(
      `root key must be standard base64 encoding exactly ${ROOT_KEY_BYTES} bytes (decodes to ${key.length} bytes)`,
    );
  }
  return key;
}

export function generateRootKey(): Buffer {
  return randomBytes(ROOT_KEY_BYTES);
}

function checkRootKey(rootKey: Buffer): void {
  if (rootKey.length !== ROOT_KEY_BYTES) throw new RangeError(`root key must be ${ROOT_KEY_BYTES} bytes`);
}

// The version byte is part of the GCM aad so it cannot be swapped without detection; `aad` names the owner
// (e.g. the key id) so a blob copied onto another row fails to open.
function sealAad(version: number, aad: string): Buffer {
  return Buffer.concat([Buffer.from([version]), Buffer.from(aad, 'utf8')]);
}

/** AES-256-GCM under the root key. Layout: version(1)=0x01 | iv(12) | ciphertext | tag(16). */
export function sealWithRootKey(rootKey: Buffer, plaintext: Buffer, aad: string): Buffer {
  checkRootKey(rootKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', rootKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(sealAad(SEAL_VERSION, aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, body, cipher.getAuthTag()]);
}

/** Opens a blob from sealWithRootKey; throws CryptoError('malformed' | 'tampered'). */
export function openWithRootKey(rootKey: Buffer, sealed: Buffer, aad: string): Buffer {
  checkRootKey(rootKey);
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES)
    throw new CryptoError('malformed', 'sealed blob is too short');
  const version = sealed[0]!;
  if (version !== SEAL_VERSION) {
    throw new CryptoError('malformed', `sealed blob has unknown format version ${version}`);
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const body = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', rootKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(sealAad(version, aad));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new CryptoError(
      'tampered',
      'sealed blob failed authentication (modified, wrong root key or owner)',
    );
  }
}

/**
 * Names a root key without revealing it (a keyed hash of a fixed label): a state snapshot carries it so
 * that an import under another root key is refused before any sealed value fails to open.
 */
export function rootKeyFingerprint(rootKey: Buffer): string {
  checkRootKey(rootKey);
  return createHmac('sha256', rootKey).update('dws-encryption root key id').digest('hex').slice(0, 32);
}

/**
 * The key of the identities' credential fingerprints (src/services/directory.ts): derived from the root
 * key with HKDF, so fingerprints compare across restarts and instances, and a stolen store alone cannot
 * test password guesses against them.
 */
export function credentialFingerprintKey(rootKey: Buffer): Buffer {
  checkRootKey(rootKey);
  return Buffer.from(
    hkdfSync('sha256', rootKey, Buffer.alloc(0), 'dws-encryption iam credential fingerprint v1', 32),
  );
}
