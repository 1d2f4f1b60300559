import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  aes256GcmBackend,
  BACKEND_IDS,
  backendByName,
  backendFor,
  type CryptoBackend,
  sm4CtrHmacSha256Backend,
} from '../../src/crypto/backends.js';
import { CryptoError } from '../../src/crypto/errors.js';

const isReason = (reason: string) => (err: unknown) => err instanceof CryptoError && err.reason === reason;

const cases: { backend: CryptoBackend; keyBytes: number; overhead: number }[] = [
  { backend: aes256GcmBackend, keyBytes: 32, overhead: 12 + 16 },
  { backend: sm4CtrHmacSha256Backend, keyBytes: 16, overhead: 16 + 32 },
];

test('backendFor picks the backend by key spec', () => {
  assert.equal(backendFor('AES_256').name, 'aes-256-gcm');
  assert.equal(backendFor('SM4').name, 'sm4-ctr-hmac-sha256');
  assert.equal(aes256GcmBackend.supports('SM4'), false);
  assert.equal(sm4CtrHmacSha256Backend.supports('AES_256'), false);
  assert.throws(() => backendFor('RSA_2048' as never), RangeError);
  assert.equal(backendByName('sm4-ctr-hmac-sha256'), sm4CtrHmacSha256Backend);
  assert.equal(backendByName('nope'), undefined);
  assert.deepEqual(
    [...BACKEND_IDS],
    [
      ['aes-256-gcm', 1],
      ['sm4-ctr-hmac-sha256', 2],
    ],
  );
});

for (const { backend, keyBytes, overhead } of cases) {
  test(`${backend.name}: round trip, randomized, expected size`, () => {
    const key = randomBytes(keyBytes);
    const aad = Buffer.from('context');
    for (const plaintext of [Buffer.alloc(0), randomBytes(1), randomBytes(32), randomBytes(1024)]) {
      const a = backend.wrap(key, plaintext, aad);
      const b = backend.wrap(key, plaintext, aad);
      assert.notDeepEqual(a, b);
      assert.equal(a.length, plaintext.length + overhead);
      assert.deepEqual(backend.unwrap(key, a, aad), plaintext);
      if (plaintext.length >= 16)
        assert.ok(!a.includes(plaintext), 'plaintext must not appear in ciphertext');
    }
  });

  test(`${backend.name}: every flipped byte, wrong key, wrong aad, truncation are rejected`, () => {
    const key = randomBytes(keyBytes);
    const aad = Buffer.from('context');
    const ct = backend.wrap(key, randomBytes(32), aad);
    for (let i = 0; i < ct.length; i++) {
      const copy = Buffer.from(ct);
      copy[i]! ^= 0x80;
      assert.throws(() => backend.unwrap(key, copy, aad), isReason('tampered'), `byte ${i}`);
    }
    assert.throws(() => backend.unwrap(randomBytes(keyBytes), ct, aad), isReason('tampered'));
    assert.throws(() => backend.unwrap(key, ct, Buffer.from('contexT')), isReason('tampered'));
    assert.throws(() => backend.unwrap(key, ct, Buffer.alloc(0)), isReason('tampered'));
    assert.throws(() => backend.unwrap(key, ct.subarray(0, ct.length - 1), aad), isReason('tampered'));
    assert.throws(() => backend.unwrap(key, ct.subarray(0, overhead - 1), aad), isReason('malformed'));
    assert.throws(
      () => backend.unwrap(key, Buffer.concat([ct, Buffer.from([0])]), aad),
      isReason('tampered'),
    );
  });

  test(`${backend.name}: master key of the wrong length is refused`, () => {
    const other = keyBytes === 32 ? 16 : 32;
    assert.throws(
      () => backend.wrap(randomBytes(other), Buffer.from('x'), Buffer.alloc(0)),
      isReason('wrong_key'),
    );
    const ct = backend.wrap(randomBytes(keyBytes), Buffer.from('x'), Buffer.alloc(0));
    assert.throws(() => backend.unwrap(randomBytes(other), ct, Buffer.alloc(0)), isReason('wrong_key'));
  });
}

test('sm4-ctr is real SM4 (GB/T 32907-2016 example 1 keystream)', () => {
  // CTR over a zero block yields E_K(counter block); with counter = plaintext of the standard's example,
  // the keystream must equal the standard's ciphertext.
  const k = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
  const c = createCipheriv('sm4-ctr', k, k);
  assert.equal(c.update(Buffer.alloc(16)).toString('hex'), '681edf34d206965e86b3e94f536e4246');
});
