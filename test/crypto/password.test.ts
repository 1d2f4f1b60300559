import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hashPassword,
  parsePasswordHash,
  passwordHashProblem,
  verifyPassword,
} from '../../src/crypto/password.js';

const FAST = { N: 1024, r: 8, p: 1 };

test('hashPassword makes scrypt$N$r$p$salt$hash that verifies the password and nothing else', async () => {
  const encoded = await hashPassword('correct horse', FAST);
  assert.match(encoded, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
  assert.equal(passwordHashProblem(encoded), null);
  const parsed = parsePasswordHash(encoded);
  assert.equal(parsed.salt.length, 16);
  assert.equal(parsed.hash.length, 32);
  assert.equal(await verifyPassword('correct horse', parsed), true);
  assert.equal(await verifyPassword('correct horsE', parsed), false);
  assert.equal(await verifyPassword('', parsed), false);
  assert.notEqual(await hashPassword('correct horse', FAST), encoded, 'a fresh salt every time');
});

test('the default parameters are N=16384, r=8, p=1', async () => {
  const encoded = await hashPassword('pw');
  assert.match(encoded, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifyPassword('pw', parsePasswordHash(encoded)), true);
});

test('unicode passwords are normalized (NFC) before hashing', async () => {
  const parsed = parsePasswordHash(await hashPassword('caf\u00e9', FAST));
  assert.equal(await verifyPassword('cafe\u0301', parsed), true);
});

test('malformed hashes are refused with a reason that does not repeat the value', () => {
  const salt = Buffer.alloc(16, 1).toString('base64');
  const hash = Buffer.alloc(32, 2).toString('base64');
  const bad = [
    'plain-text-password',
    `bcrypt$16384$8$1$${salt}$${hash}`,
    `scrypt$1000$8$1$${salt}$${hash}`, // not a power of two
    `scrypt$512$8$1$${salt}$${hash}`, // too cheap
    `scrypt$${2 ** 21}$8$1$${salt}$${hash}`, // too expensive
    `scrypt$16384$0$1$${salt}$${hash}`,
    `scrypt$16384$8$99$${salt}$${hash}`,
    `scrypt$16384$8$1$${Buffer.alloc(4).toString('base64')}$${hash}`, // short salt
    `scrypt$16384$8$1$${salt}$${Buffer.alloc(8).toString('base64')}`, // short hash
    `scrypt$16384$8$1$${salt}$not base64!`,
    `scrypt$16384$8$1$${salt}`,
  ];
  for (const value of bad) {
    const problem = passwordHashProblem(value);
    assert.ok(problem, `refused: ${value}`);
    assert.ok(!problem.includes(salt) && !problem.includes(hash), 'the reason never quotes the value');
    assert.throws(() => parsePasswordHash(value), /invalid password hash/);
  }
});

test('hashPassword refuses parameters outside the accepted range', async () => {
  await assert.rejects(hashPassword('pw', { N: 1000, r: 8, p: 1 }), RangeError);
});
