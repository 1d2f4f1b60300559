// Master-key material, data keys, and the self-describing ciphertext blob used for KMS `cipher_text`
// (hex on the wire) and for stored wrapped DEKs. No I/O here.
import { randomBytes } from 'node:crypto';
import { BACKEND_IDS, backendByName, backendFor, KEY_SPEC_BYTES, type KeySpec } from './backends.js';
import { CryptoError } from './errors.js';

/** Fresh random master-key material: 32 bytes for AES_256, 16 for SM4. */
export function generateKeyMaterial(spec: KeySpec): Buffer {
  const bytes = KEY_SPEC_BYTES[spec];
  if (bytes === undefined) throw new RangeError(`unknown key spec ${String(spec)}`);
  return randomBytes(bytes);
}

export const DATA_KEY_MIN_BYTES = 1;
export const DATA_KEY_MAX_BYTES = 1024;

/**
 * A random data key of `lengthBytes` bytes (1..1024). KMS `datakey_length` is in BITS (8..8192, a multiple
 * of 8): the API layer validates it and passes bits / 8.
 */
export function generateDataKey(lengthBytes: number): Buffer {
  if (
    !Number.isInteger(lengthBytes) ||
    lengthBytes < DATA_KEY_MIN_BYTES ||
    lengthBytes > DATA_KEY_MAX_BYTES
  ) {
    throw new RangeError(
      `data key length must be an integer of ${DATA_KEY_MIN_BYTES}..${DATA_KEY_MAX_BYTES} bytes`,
    );
  }
  return randomBytes(lengthBytes);
}

// --- ciphertext blob --------------------------------------------------------------------------------------
// version(1)=0x01 | backend id(1) | key id(16, UUID bytes) | backend ciphertext (own IV and tag)

export const BLOB_VERSION = 0x01;
export const BLOB_HEADER_BYTES = 18;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidToBytes(keyId: string): Buffer {
  if (!UUID.test(keyId)) throw new RangeError('key id must be a UUID');
  return Buffer.from(keyId.replaceAll('-', ''), 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface CiphertextBlob {
  /** Lower-case UUID of the master key that wrapped the data. */
  keyId: string;
  /** Backend name, e.g. 'aes-256-gcm'. */
  backend: string;
  /** The backend's raw ciphertext (its own IV and tag included). */
  ciphertext: Buffer;
}

function encodeHeader(keyId: string, backend: string): Buffer {
  const backendId = BACKEND_IDS.get(backend);
  if (backendId === undefined) throw new RangeError(`unknown crypto backend ${backend}`);
  return Buffer.concat([Buffer.from([BLOB_VERSION, backendId]), uuidToBytes(keyId)]);
}

export function encodeCiphertextBlob(blob: CiphertextBlob): Buffer {
  return Buffer.concat([encodeHeader(blob.keyId, blob.backend), blob.ciphertext]);
}

/** Parses the header only (nothing is authenticated yet); throws CryptoError('malformed'). */
export function decodeCiphertextBlob(buf: Buffer): CiphertextBlob {
  if (buf.length <= BLOB_HEADER_BYTES) throw new CryptoError('malformed', 'ciphertext blob is too short');
  const version = buf[0]!;
  if (version !== BLOB_VERSION) {
    throw new CryptoError('malformed', `ciphertext blob has unknown format version ${version}`);
  }
  const backendId = buf[1]!;
  const backend = [...BACKEND_IDS].find(([, id]) => id === backendId)?.[0];
  if (backend === undefined)
    throw new CryptoError('malformed', `ciphertext blob has unknown backend ${backendId}`);
  return {
    keyId: bytesToUuid(buf.subarray(2, BLOB_HEADER_BYTES)),
    backend,
    ciphertext: buf.subarray(BLOB_HEADER_BYTES),
  };
}

// The backend's aad is header || caller aad: the header is fixed-length, so the split is unambiguous, and
// authenticating it means the version, backend id and key id cannot be edited without detection.
function backendAad(header: Buffer, aad: Buffer | string | undefined): Buffer {
  return Buffer.concat([
    header,
    typeof aad === 'string' ? Buffer.from(aad, 'utf8') : (aad ?? Buffer.alloc(0)),
  ]);
}

export interface WrapDataKeyInput {
  keyId: string;
  spec: KeySpec;
  masterKey: Buffer;
  plaintext: Buffer;
  /** Optional extra context bound to the blob; the same value must be given to unwrapDataKey. */
  aad?: Buffer | string;
}

/** Wraps `plaintext` under the master key; returns the full blob (hex-encode it for the wire). */
export function wrapDataKey({ keyId, spec, masterKey, plaintext, aad }: WrapDataKeyInput): Buffer {
  const backend = backendFor(spec);
  const header = encodeHeader(keyId, backend.name);
  return Buffer.concat([header, backend.wrap(masterKey, plaintext, backendAad(header, aad))]);
}

export interface UnwrapDataKeyInput {
  keyId: string;
  spec: KeySpec;
  masterKey: Buffer;
  blob: Buffer;
  aad?: Buffer | string;
}

/**
 * Opens a blob from wrapDataKey. Throws CryptoError: 'malformed' (unparseable), 'key_mismatch' (blob
 * belongs to another key id or its backend does not serve `spec`), 'wrong_key' (master key length),
 * 'tampered' (authentication failed: modified blob, wrong master key or wrong aad).
 */
export function unwrapDataKey({ keyId, spec, masterKey, blob, aad }: UnwrapDataKeyInput): Buffer {
  const decoded = decodeCiphertextBlob(blob);
  if (decoded.keyId !== keyId.toLowerCase()) {
    throw new CryptoError('key_mismatch', 'ciphertext blob was made under another key');
  }
  const backend = backendByName(decoded.backend);
  if (!backend?.supports(spec)) {
    throw new CryptoError(
      'key_mismatch',
      `ciphertext blob backend ${decoded.backend} does not serve ${spec} keys`,
    );
  }
  const header = blob.subarray(0, BLOB_HEADER_BYTES);
  return backend.unwrap(masterKey, decoded.ciphertext, backendAad(header, aad));
}
