// Barbican-style pluggable crypto backends: each one wraps (encrypts + authenticates) data under a master
// key of one key spec. The backend's name is recorded in every ciphertext blob (as a one-byte id, see
// key-material.ts), so adding a backend never changes how existing blobs open.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { CryptoError } from './errors.js';
import type { KeySpec } from './key-specs.js';

export { KEY_SPECS, type KeySpec } from './key-specs.js';

export interface CryptoBackend {
  /** Stored inside every ciphertext blob. */
  readonly name: string;
  supports(spec: KeySpec): boolean;
  /** Returns the raw ciphertext part (including the backend's own IV and tag). */
  wrap(masterKey: Buffer, plaintext: Buffer, aad: Buffer): Buffer;
  /** Throws CryptoError on tamper / wrong key / wrong aad. */
  unwrap(masterKey: Buffer, ciphertext: Buffer, aad: Buffer): Buffer;
}

/** Master-key length per spec, in bytes. */
export const KEY_SPEC_BYTES: Readonly<Record<KeySpec, number>> = { AES_256: 32, SM4: 16 };

function checkMasterKey(masterKey: Buffer, bytes: number, backend: string): void {
  if (masterKey.length !== bytes) {
    throw new CryptoError('wrong_key', `${backend} needs a ${bytes}-byte master key`);
  }
}

// --- aes-256-gcm: layout iv(12) | ciphertext | tag(16) ------------------------------------------------

const GCM_IV = 12;
const GCM_TAG = 16;

export const aes256GcmBackend: CryptoBackend = {
  name: 'aes-256-gcm',
  supports: (spec) => spec === 'AES_256',
  wrap(masterKey, plaintext, aad) {
    checkMasterKey(masterKey, 32, this.name);
    const iv = randomBytes(GCM_IV);
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: GCM_TAG });
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  },
  unwrap(masterKey, ciphertext, aad) {
    checkMasterKey(masterKey, 32, this.name);
    if (ciphertext.length < GCM_IV + GCM_TAG) throw new CryptoError('malformed', 'ciphertext is too short');
    const iv = ciphertext.subarray(0, GCM_IV);
    const body = ciphertext.subarray(GCM_IV, ciphertext.length - GCM_TAG);
    const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: GCM_TAG });
    decipher.setAAD(aad);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG));
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new CryptoError('tampered', 'ciphertext failed authentication');
    }
  },
};

// --- sm4-ctr-hmac-sha256: layout iv(16) | ciphertext | tag(32) ------------------------------------------
// Node/OpenSSL has no SM4-GCM everywhere, so this is encrypt-then-MAC: SM4-CTR for confidentiality and
// HMAC-SHA256 for integrity, with independent keys derived from the one 16-byte master key (never reuse
// one key for two primitives).

const SM4_IV = 16;
const SM4_TAG = 32;
// Distinct HKDF info labels give independent encryption and MAC keys; bump "v1" only with a new backend.
const SM4_ENC_INFO = 'dws-encryption sm4-ctr-hmac-sha256 v1 enc';
const SM4_MAC_INFO = 'dws-encryption sm4-ctr-hmac-sha256 v1 mac';
// Prefixed to the MAC input as a domain-separation header.
const SM4_MAC_HEADER = Buffer.from('sm4-ctr-hmac-sha256/v1', 'utf8');

function sm4Keys(masterKey: Buffer): { encKey: Buffer; macKey: Buffer } {
  // Empty salt is fine (RFC 5869 §3.1): the input keying material is already uniformly random.
  const encKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), SM4_ENC_INFO, 16));
  const macKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), SM4_MAC_INFO, 32));
  return { encKey, macKey };
}

function sm4Tag(macKey: Buffer, iv: Buffer, body: Buffer, aad: Buffer): Buffer {
  // The aad length is encoded (u64 big-endian) so (body, aad) boundaries cannot be shifted.
  const aadLength = Buffer.alloc(8);
  aadLength.writeBigUInt64BE(BigInt(aad.length));
  return createHmac('sha256', macKey)
    .update(SM4_MAC_HEADER)
    .update(iv)
    .update(body)
    .update(aadLength)
    .update(aad)
    .digest();
}

export const sm4CtrHmacSha256Backend: CryptoBackend = {
  name: 'sm4-ctr-hmac-sha256',
  supports: (spec) => spec === 'SM4',
  wrap(masterKey, plaintext, aad) {
    checkMasterKey(masterKey, 16, this.name);
    const { encKey, macKey } = sm4Keys(masterKey);
    const iv = randomBytes(SM4_IV);
    const cipher = createCipheriv('sm4-ctr', encKey, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, body, sm4Tag(macKey, iv, body, aad)]);
  },
  unwrap(masterKey, ciphertext, aad) {
    checkMasterKey(masterKey, 16, this.name);
    if (ciphertext.length < SM4_IV + SM4_TAG) throw new CryptoError('malformed', 'ciphertext is too short');
    const { encKey, macKey } = sm4Keys(masterKey);
    const iv = ciphertext.subarray(0, SM4_IV);
    const body = ciphertext.subarray(SM4_IV, ciphertext.length - SM4_TAG);
    const tag = ciphertext.subarray(ciphertext.length - SM4_TAG);
    // Verify before decrypting (encrypt-then-MAC); constant-time compare so the tag cannot be guessed
    // byte by byte. Both buffers are 32 bytes, as timingSafeEqual requires.
    if (!timingSafeEqual(sm4Tag(macKey, iv, body, aad), tag)) {
      throw new CryptoError('tampered', 'ciphertext failed authentication');
    }
    const decipher = createDecipheriv('sm4-ctr', encKey, iv);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  },
};

// --- registry -------------------------------------------------------------------------------------------

/** Stable one-byte ids written into ciphertext blobs. Never renumber; only append. */
export const BACKEND_IDS: ReadonlyMap<string, number> = new Map([
  [aes256GcmBackend.name, 0x01],
  [sm4CtrHmacSha256Backend.name, 0x02],
]);

const BACKENDS: readonly CryptoBackend[] = [aes256GcmBackend, sm4CtrHmacSha256Backend];

/** The backend used for new ciphertexts under a master key of this spec. */
export function backendFor(spec: KeySpec): CryptoBackend {
  const backend = BACKENDS.find((b) => b.supports(spec));
  if (!backend) throw new RangeError(`no crypto backend supports key spec ${String(spec)}`);
  return backend;
}

/** Looks a backend up by the name stored in a blob; undefined if unknown. */
export function backendByName(name: string): CryptoBackend | undefined {
  return BACKENDS.find((b) => b.name === name);
}
