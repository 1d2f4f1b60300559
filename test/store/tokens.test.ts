import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqlite } from '../../src/store/database.js';
import { deleteExpiredTokens, findTokenByHash, insertToken } from '../../src/store/tokens.js';

const row = (id: string, hash: string, expiresAt: number) => ({
  id,
  token_hash: hash,
  domain_id: 'a'.repeat(32),
  user_id: 'b'.repeat(32),
  user_name: 'alice',
  project_id: 'c'.repeat(32),
  issued_at: 1_000,
  expires_at: expiresAt,
  credential_version: 1,
});

test('tokens are found by hash only, unique per hash, and expired ones are swept', async () => {
  const database = await openSqlite(':memory:');
  try {
    await insertToken(database.db, row('t1', 'h1', 5_000));
    await insertToken(database.db, row('t2', 'h2', 9_000));
    assert.equal((await findTokenByHash(database.db, 'h1'))?.id, 't1');
    assert.equal(await findTokenByHash(database.db, 'nope'), undefined);
    await assert.rejects(insertToken(database.db, row('t3', 'h1', 9_000)), 'the hash is unique');
    assert.equal(await deleteExpiredTokens(database.db, 6_000), 1);
    assert.equal(await findTokenByHash(database.db, 'h1'), undefined);
    assert.equal((await findTokenByHash(database.db, 'h2'))?.expires_at, 9_000);
  } finally {
    await database.close();
  }
});
