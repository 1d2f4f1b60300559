import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CryptoError } from '../../src/crypto/errors.js';
import {
  generateRootKey,
  openWithRootKey,
  parseRootKey,
  sealWithRootKey,
} from '../../src/crypto/root-key.js';

const isReason = (reason: string) => (err: unknown) => err instanceof CryptoError && err.reason === reason;

test('parseRootKey accepts exactly 32 bytes of base64 (surrounding whitespace ignored)', () => {
  const key = randomBytes(32);
  assert.deepEqual(parseRootKey(key.toString('base64')), key);
  assert.deepEqual(parseRootKey(`  ${key.toString('base64')}\n`), key);
});

test('parseRootKey rejects wrong lengths and non-base64 without echoing the value', () => {
  const secretish = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==';
  const bad = [
    '',
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('base64'),
    randomBytes(16).toString('base64'),
    `${randomBytes(32).toString('base64').slice(0, -1)}!`,
    randomBytes(32).toString('hex'),
    `${randomBytes(32).toString('base64')}junk`,
    secretish,
  ];
  for (const value of bad) {
    assert.throws(
      () => parseRootKey(value),
      (err: unknown) => {
        assert.ok(err instanceof Error, 'err instanceof Error');
        assert.match(err.message, /32 bytes/);
        if (value.length > 0) assert.ok(!err.message.includes(value), 'message must not contain the value');
        return true;
      },
    );
  }
});

test('generateRootKey returns 32 fresh random bytes', () => {
  const a = generateRootKey();
  const b = generateRootKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  assert.deepEqual(parseRootKey(a.toString('base64')), a);
});

test('sealWithRootKey round trips and is randomized', () => {
  const root = generateRootKey();
  for (const plaintext of [Buffer.alloc(0), randomBytes(16), randomBytes(32), randomBytes(1000)]) {
    const a = sealWithRootKey(root, plaintext, 'key-1');
    const b = sealWithRootKey(root, plaintext, 'key-1');
    assert.notDeepEqual(a, b, 'fresh IV each time');
    assert.equal(a[0], 0x01, 'version byte');
    assert.equal(a.length, 1 + 12 + plaintext.length + 16);
    assert.deepEqual(openWithRootKey(root, a, 'key-1'), plaintext);
  }
});

test('sealed blobs are bound to their aad and root key', () => {
  const root = generateRootKey();
  const sealed = sealWithRootKey(root, randomBytes(32), 'key-A');
  assert.throws(() => openWithRootKey(root, sealed, 'key-B'), isReason('tampered'));
  assert.throws(() => openWithRootKey(root, sealed, ''), isReason('tampered'));
  assert.throws(() => openWithRootKey(generateRootKey(), sealed, 'key-A'), isReason('tampered'));
});

test('flipping any bit of a sealed blob is detected', () => {
  const root = generateRootKey();
  const sealed = sealWithRootKey(root, randomBytes(32), 'owner');
  for (let i = 0; i < sealed.length; i++) {
    const copy = Buffer.from(sealed);
    copy[i]! ^= 0x01;
    assert.throws(() => openWithRootKey(root, copy, 'owner'), CryptoError, `byte ${i}`);
  }
  assert.throws(() => openWithRootKey(root, sealed.subarray(0, 28), 'owner'), isReason('malformed'));
  assert.throws(() => openWithRootKey(root, sealed.subarray(0, sealed.length - 1), 'owner'), CryptoError);
});

test('root key of the wrong length is a programmer error', () => {
  assert.throws(() => sealWithRootKey(randomBytes(16), Buffer.from('x'), 'a'), RangeError);
  assert.throws(() => openWithRootKey(randomBytes(16), Buffer.alloc(40), 'a'), RangeError);
});

test('golden sealed blob still opens, and matches the documented layout', () => {
  // Pins the format: blobs already stored in databases must keep opening.
  const root = Buffer.alloc(32, 0x33);
  const owner = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
  const plaintext = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const sealed = Buffer.from(
    '01d6f650e507b751adbb37ce2800bad3ee40e93ff2e376ad418a92b184eb968d18c005231f56b044996d2c57132a194c6955ab0a62b560de1876d41a3c',
    'hex',
  );
  assert.deepEqual(openWithRootKey(root, sealed, owner), plaintext);
  // Independent decode from the README: version | iv(12) | ct | tag(16), aad = version || utf8(owner).
  const d = createDecipheriv('aes-256-gcm', root, sealed.subarray(1, 13));
  d.setAAD(Buffer.concat([Buffer.from([1]), Buffer.from(owner)]));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  assert.deepEqual(Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()]), plaintext);
});
