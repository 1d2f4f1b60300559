/** KeyService on an in-memory store with a fixed clock (see test/helpers/services.ts): key states and data keys. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Errors } from '../../src/domain/errors.js';
import { KeyState } from '../../src/domain/keys.js';
import { dataKeyDigest } from '../../src/services/kms.js';
import { ACTOR, refusedWith, type ServiceFixture, START, serviceFixture } from '../helpers/services.js';

describe('KeyService', () => {
  let f: ServiceFixture;
  before(async () => {
    f = await serviceFixture();
  });
  after(() => f.close());

  test('a key is created enabled at the clock time; aliases are checked and unique', async () => {
    const key = await f.keys.createKey(ACTOR, { alias: 'kms-svc', spec: 'AES_256' });
    assert.equal(key.state, KeyState.ENABLED);
    assert.equal(key.created_at, START);
    await assert.rejects(
      f.keys.createKey(ACTOR, { alias: 'kms-svc', spec: 'SM4' }),
      refusedWith(Errors.KEY_ALIAS_EXISTS),
    );
    await assert.rejects(
      f.keys.createKey(ACTOR, { alias: 'x/default', spec: 'SM4' }),
      refusedWith(Errors.INVALID_PARAMETER),
    );
  });

  test('states: disable, schedule deletion, cancel (disabled again), enable', async () => {
    const key = await f.keys.createKey(ACTOR, { alias: 'kms-states', spec: 'SM4' });
    assert.equal((await f.keys.changeKeyState(ACTOR, key.id, 'disable')).state, KeyState.DISABLED);
    const pending = await f.keys.changeKeyState(ACTOR, key.id, 'scheduleDeletion', 30);
    assert.equal(pending.state, KeyState.PENDING_DELETION);
    assert.equal(pending.scheduled_deletion_at, START + 30 * 24 * 60 * 60 * 1000);
    await assert.rejects(
      f.keys.changeKeyState(ACTOR, key.id, 'enable'),
      refusedWith(Errors.KEY_PENDING_DELETION),
    );
    const cancelled = await f.keys.changeKeyState(ACTOR, key.id, 'cancelDeletion');
    assert.equal(cancelled.state, KeyState.DISABLED);
    assert.equal(cancelled.scheduled_deletion_at, null);
    assert.equal((await f.keys.changeKeyState(ACTOR, key.id, 'enable')).state, KeyState.ENABLED);
  });

  test('data keys: created, re-encrypted with their digest, decrypted only with the same context', async () => {
    const key = await f.keys.createKey(ACTOR, { alias: 'kms-data', spec: 'AES_256' });
    const created = await f.keys.createDataKey(ACTOR, key.id, { bits: 512 }, 'ctx');
    assert.equal(created.plaintext.length, 64);
    const opened = await f.keys.decryptDataKey(ACTOR, key.id, created.ciphertext, 'ctx');
    assert.deepEqual(opened.plaintext, created.plaintext);
    assert.deepEqual(opened.digest, dataKeyDigest('AES_256', created.plaintext));
    await assert.rejects(
      f.keys.decryptDataKey(ACTOR, key.id, created.ciphertext, 'other'),
      refusedWith(Errors.CIPHERTEXT_INVALID),
    );

    const withDigest = Buffer.concat([created.plaintext, opened.digest]);
    const again = await f.keys.encryptDataKey(ACTOR, key.id, withDigest, 64);
    assert.deepEqual(
      (await f.keys.decryptDataKey(ACTOR, key.id, again.ciphertext)).plaintext,
      created.plaintext,
    );
    withDigest[70] = withDigest[70]! ^ 1;
    await assert.rejects(
      f.keys.encryptDataKey(ACTOR, key.id, withDigest, 64),
      refusedWith(Errors.DIGEST_MISMATCH),
    );

    await f.keys.changeKeyState(ACTOR, key.id, 'disable');
    await assert.rejects(
      f.keys.decryptDataKey(ACTOR, key.id, created.ciphertext, 'ctx'),
      refusedWith(Errors.KEY_DISABLED),
    );
  });

  test('list: pages by marker; a spec that names no key spec matches nothing', async () => {
    const page = await f.keys.listKeys(ACTOR, { limit: 2 });
    assert.equal(page.keys.length, 2);
    assert.equal(page.truncated, true);
    const next = await f.keys.listKeys(ACTOR, { limit: 1000, marker: page.nextMarker! });
    assert.equal(next.keys.length + 2, page.total);
    assert.deepEqual(await f.keys.listKeys(ACTOR, { limit: 10, spec: 'RSA_2048' }), {
      keys: [],
      truncated: false,
      total: 0,
      nextMarker: null,
    });
  });
});
