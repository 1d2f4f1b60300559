import assert from 'node:assert/strict';
import {
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { test } from 'node:test';
import type { KeySpec } from '../../src/crypto/backends.js';
import { CryptoError } from '../../src/crypto/errors.js';
import {
  decodeCiphertextBlob,
  encodeCiphertextBlob,
  generateDataKey,
  generateKeyMaterial,
  unwrapDataKey,
  wrapDataKey,
} from '../../src/crypto/key-material.js';

const isReason = (reason: string) => (err: unknown) => err instanceof CryptoError && err.reason === reason;
const specs: KeySpec[] = ['AES_256', 'SM4'];

test('generateKeyMaterial sizes by spec', () => {
  assert.equal(generateKeyMaterial('AES_256').length, 32);
  assert.equal(generateKeyMaterial('SM4').length, 16);
  assert.notDeepEqual(generateKeyMaterial('AES_256'), generateKeyMaterial('AES_256'));
  assert.throws(() => generateKeyMaterial('RSA_2048' as KeySpec), RangeError);
});

test('generateDataKey validates 1..1024 bytes', () => {
  assert.equal(generateDataKey(1).length, 1);
  assert.equal(generateDataKey(64).length, 64);
  assert.equal(generateDataKey(1024).length, 1024);
  for (const bad of [0, -1, 1025, 1.5, Number.NaN]) assert.throws(() => generateDataKey(bad), RangeError);
});

test('ciphertext blob encode/decode round trip', () => {
  const keyId = randomUUID();
  const ciphertext = randomBytes(40);
  const buf = encodeCiphertextBlob({ keyId, backend: 'sm4-ctr-hmac-sha256', ciphertext });
  assert.equal(buf[0], 1);
  assert.equal(buf[1], 2);
  assert.equal(buf.subarray(2, 18).toString('hex'), keyId.replaceAll('-', ''));
  assert.deepEqual(decodeCiphertextBlob(buf), { keyId, backend: 'sm4-ctr-hmac-sha256', ciphertext });
  // key ids are normalized to lower case
  const upper = encodeCiphertextBlob({ keyId: keyId.toUpperCase(), backend: 'aes-256-gcm', ciphertext });
  assert.equal(decodeCiphertextBlob(upper).keyId, keyId);
  assert.throws(
    () => encodeCiphertextBlob({ keyId: 'not-a-uuid', backend: 'aes-256-gcm', ciphertext }),
    RangeError,
  );
  assert.throws(() => encodeCiphertextBlob({ keyId, backend: 'rot13', ciphertext }), RangeError);
});

test('decodeCiphertextBlob rejects malformed input', () => {
  const good = encodeCiphertextBlob({
    keyId: randomUUID(),
    backend: 'aes-256-gcm',
    ciphertext: randomBytes(30),
  });
  assert.throws(() => decodeCiphertextBlob(Buffer.alloc(0)), isReason('malformed'));
  assert.throws(() => decodeCiphertextBlob(good.subarray(0, 18)), isReason('malformed'));
  const v2 = Buffer.from(good);
  v2[0] = 2;
  assert.throws(() => decodeCiphertextBlob(v2), isReason('malformed'));
  const unknownBackend = Buffer.from(good);
  unknownBackend[1] = 0x7f;
  assert.throws(() => decodeCiphertextBlob(unknownBackend), isReason('malformed'));
});

for (const spec of specs) {
  test(`${spec}: wrapDataKey/unwrapDataKey round trip, with and without aad`, () => {
    const keyId = randomUUID();
    const masterKey = generateKeyMaterial(spec);
    for (const plaintext of [generateDataKey(32), generateDataKey(1), generateDataKey(1024)]) {
      const blob = wrapDataKey({ keyId, spec, masterKey, plaintext });
      assert.equal(decodeCiphertextBlob(blob).keyId, keyId);
      assert.deepEqual(unwrapDataKey({ keyId, spec, masterKey, blob }), plaintext);
      assert.deepEqual(unwrapDataKey({ keyId: keyId.toUpperCase(), spec, masterKey, blob }), plaintext);
      const withAad = wrapDataKey({ keyId, spec, masterKey, plaintext, aad: 'cluster:1' });
      assert.deepEqual(unwrapDataKey({ keyId, spec, masterKey, blob: withAad, aad: 'cluster:1' }), plaintext);
      assert.deepEqual(
        unwrapDataKey({ keyId, spec, masterKey, blob: withAad, aad: Buffer.from('cluster:1') }),
        plaintext,
      );
    }
  });

  test(`${spec}: flipping any bit of the blob throws a CryptoError`, () => {
    const keyId = randomUUID();
    const masterKey = generateKeyMaterial(spec);
    const blob = wrapDataKey({ keyId, spec, masterKey, plaintext: generateDataKey(32), aad: 'x' });
    for (let i = 0; i < blob.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(blob);
        copy[i]! ^= bit;
        assert.throws(
          () => unwrapDataKey({ keyId, spec, masterKey, blob: copy, aad: 'x' }),
          CryptoError,
          `byte ${i}`,
        );
      }
    }
    assert.throws(
      () => unwrapDataKey({ keyId, spec, masterKey, blob: blob.subarray(0, -1), aad: 'x' }),
      CryptoError,
    );
  });

  test(`${spec}: wrong master key, wrong aad and missing aad fail as tampered`, () => {
    const keyId = randomUUID();
    const masterKey = generateKeyMaterial(spec);
    const blob = wrapDataKey({ keyId, spec, masterKey, plaintext: generateDataKey(32), aad: 'a' });
    const other = generateKeyMaterial(spec);
    assert.throws(
      () => unwrapDataKey({ keyId, spec, masterKey: other, blob, aad: 'a' }),
      isReason('tampered'),
    );
    assert.throws(() => unwrapDataKey({ keyId, spec, masterKey, blob, aad: 'b' }), isReason('tampered'));
    assert.throws(() => unwrapDataKey({ keyId, spec, masterKey, blob }), isReason('tampered'));
  });

  test(`${spec}: a blob made for key A does not open as key B`, () => {
    const keyA = randomUUID();
    const keyB = randomUUID();
    const masterKey = generateKeyMaterial(spec);
    const blob = wrapDataKey({ keyId: keyA, spec, masterKey, plaintext: generateDataKey(32) });
    // Even with the same material, the id check refuses it ...
    assert.throws(() => unwrapDataKey({ keyId: keyB, spec, masterKey, blob }), isReason('key_mismatch'));
    // ... and rewriting the header's key id to B breaks authentication.
    const relabeled = Buffer.from(blob);
    Buffer.from(keyB.replaceAll('-', ''), 'hex').copy(relabeled, 2);
    assert.throws(
      () => unwrapDataKey({ keyId: keyB, spec, masterKey, blob: relabeled }),
      isReason('tampered'),
    );
  });
}

test('a blob whose backend does not serve the key spec is a key mismatch', () => {
  const keyId = randomUUID();
  const blob = wrapDataKey({
    keyId,
    spec: 'SM4',
    masterKey: generateKeyMaterial('SM4'),
    plaintext: randomBytes(8),
  });
  assert.throws(
    () => unwrapDataKey({ keyId, spec: 'AES_256', masterKey: generateKeyMaterial('AES_256'), blob }),
    isReason('key_mismatch'),
  );
});

// Golden vectors pin the on-disk / on-wire format: they were produced by this code and must keep opening.
// Each one is also decoded independently from the layout documented in src/crypto/README.md.
const goldenKeyId = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const goldenPlaintext = Buffer.from(
  '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  'hex',
);

test('golden AES_256 blob (aes-256-gcm)', () => {
  const masterKey = Buffer.alloc(32, 0x11);
  const blob = Buffer.from(
    '01013f2504e04f8941d39a0c0305e82c33017c58b6d7f1ef80f8411e21936a221599a59f9f0182967a652de2b1e5cb39f1fce0f6a6519520deca48e81dd21d4dd120d7b5e5f6b40e6e7915f81b77',
    'hex',
  );
  assert.deepEqual(
    unwrapDataKey({ keyId: goldenKeyId, spec: 'AES_256', masterKey, blob, aad: 'ctx' }),
    goldenPlaintext,
  );
  // header(18) | iv(12) | ct | tag(16); GCM aad = header || aad
  const header = blob.subarray(0, 18);
  const d = createDecipheriv('aes-256-gcm', masterKey, blob.subarray(18, 30));
  d.setAAD(Buffer.concat([header, Buffer.from('ctx')]));
  d.setAuthTag(blob.subarray(blob.length - 16));
  assert.deepEqual(
    Buffer.concat([d.update(blob.subarray(30, blob.length - 16)), d.final()]),
    goldenPlaintext,
  );
});

test('golden SM4 blob (sm4-ctr-hmac-sha256)', () => {
  const masterKey = Buffer.alloc(16, 0x22);
  const blob = Buffer.from(
    '01023f2504e04f8941d39a0c0305e82c3301f42a4a0a9befd466a7fb5c41d7bc3ba91565919f7d33c6731b39b5d1bcedb9dc89b82597965e4f9c409deeb93fa775e761234492d75a856e4cdf55d21504e4d1a8581cd37e5e6613c6edc759ceb3efe9',
    'hex',
  );
  assert.deepEqual(
    unwrapDataKey({ keyId: goldenKeyId, spec: 'SM4', masterKey, blob, aad: 'ctx' }),
    goldenPlaintext,
  );
  // header(18) | iv(16) | ct | tag(32), keys from HKDF-SHA256 with empty salt and the documented labels.
  const header = blob.subarray(0, 18);
  const iv = blob.subarray(18, 34);
  const ct = blob.subarray(34, blob.length - 32);
  const tag = blob.subarray(blob.length - 32);
  const enc = Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), 'dws-encryption sm4-ctr-hmac-sha256 v1 enc', 16),
  );
  const mac = Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), 'dws-encryption sm4-ctr-hmac-sha256 v1 mac', 32),
  );
  const aad = Buffer.concat([header, Buffer.from('ctx')]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(aad.length));
  const expected = createHmac('sha256', mac)
    .update(Buffer.concat([Buffer.from('sm4-ctr-hmac-sha256/v1'), iv, ct, len, aad]))
    .digest();
  assert.ok(timingSafeEqual(expected, tag), 'timingSafeEqual(expected, tag)');
  const d = createDecipheriv('sm4-ctr', enc, iv);
  assert.deepEqual(Buffer.concat([d.update(ct), d.final()]), goldenPlaintext);
});
