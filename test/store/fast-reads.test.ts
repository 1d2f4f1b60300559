import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import {
  type ClusterEncryption,
  deleteCluster,
  findCluster,
  findClusterEncryption,
  insertCluster,
  updateCluster,
} from '../../src/store/clusters.js';
import { openSqlite } from '../../src/store/database.js';
import type { ClusterRow } from '../../src/store/schema.js';

const P = 'c'.repeat(32);
const OTHER = 'd'.repeat(32);
const ID = '7d85f602-a948-4a30-afd4-e84f47471c15';

const cluster = (id: string, name: string): ClusterRow => ({
  id,
  project_id: P,
  name,
  status: 'AVAILABLE',
  datastore_version: '9.1.0',
  guest_agent_version: '9.1.0',
  spec_json: '{}',
  db_password_sealed: null,
  encryption_state: 'plain',
  encrypt_id: null,
  master_key_id: null,
  master_key_name: null,
  crypt_algorithm: null,
  dek_wrapped: null,
  dek_version: 0,
  last_rotate_key_at: null,
  created_at: 1_000,
  updated_at: 1_000,
});

test('the cached SQLite encryption read sees every write of this process at once, and is scoped', async () => {
  const database = await openSqlite(':memory:');
  try {
    const db = database.db;
    assert.equal(await findClusterEncryption(db, P, ID), undefined);
    await insertCluster(db, cluster(ID, 'first'));
    const first = await findClusterEncryption(db, P, ID);
    assert.deepEqual(
      first,
      {
        id: ID,
        encryption_state: 'plain',
        encrypt_id: null,
        master_key_id: null,
        master_key_name: null,
        crypt_algorithm: null,
        last_rotate_key_at: null,
      },
      'a miss is not cached; only the encryption columns are read',
    );
    assert.equal(await findClusterEncryption(db, P, ID), first, 'the second read is served from the cache');
    assert.ok(Object.isFrozen(first), 'cached rows cannot be changed by a caller');
    assert.equal(await findClusterEncryption(db, OTHER, ID), undefined, 'another project does not see it');

    await updateCluster(db, P, ID, { encryption_state: 'encrypted', updated_at: 2_000 });
    assert.equal((await findClusterEncryption(db, P, ID))?.encryption_state, 'encrypted');

    // A write in a transaction empties it too (the counter is per connection, any table).
    await database.transaction(async (trx) => {
      await updateCluster(trx, P, ID, { master_key_name: 'renamed' });
    });
    assert.equal((await findClusterEncryption(db, P, ID))?.master_key_name, 'renamed');
    assert.equal((await findCluster(db, P, ID))?.master_key_name, 'renamed', 'the full row agrees');

    await deleteCluster(db, P, ID);
    assert.equal(await findClusterEncryption(db, P, ID), undefined);
  } finally {
    await database.close();
  }
});

test('a read during an open SQLite transaction never sees its uncommitted writes', async () => {
  const database = await openSqlite(':memory:');
  try {
    const db = database.db;
    await insertCluster(db, cluster(ID, 'before'));
    assert.equal((await findClusterEncryption(db, P, ID))?.master_key_name, null);
    let readDuring: Promise<ClusterEncryption | undefined> | undefined;
    let fullReadDuring: Promise<ClusterRow | undefined> | undefined;
    await assert.rejects(
      database.transaction(async (trx) => {
        await updateCluster(trx, P, ID, { name: 'uncommitted', master_key_name: 'uncommitted' });
        // Other requests read while the transaction is open (they wait for the connection).
        readDuring = findClusterEncryption(db, P, ID);
        fullReadDuring = findCluster(db, P, ID);
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal((await readDuring)?.master_key_name, null);
    assert.equal((await fullReadDuring)?.name, 'before');
    assert.equal((await findClusterEncryption(db, P, ID))?.master_key_name, null);
    assert.equal((await findCluster(db, P, ID))?.name, 'before');
  } finally {
    await database.close();
  }
});

test('DWS_SQLITE_ROW_CACHE=0: every encrypt-info read goes to SQLite', async () => {
  const database = await openSqlite(':memory:', { rowCache: 0 });
  try {
    await insertCluster(database.db, cluster(ID, 'uncached'));
    const first = await findClusterEncryption(database.db, P, ID);
    const second = await findClusterEncryption(database.db, P, ID);
    assert.deepEqual(first, second);
    assert.notEqual(first, second, 'two reads, two rows');
  } finally {
    await database.close();
  }
});

test('the row cache is emptied by writes made through raw SQL too', async () => {
  const database = await openSqlite(':memory:');
  try {
    const db = database.db;
    await insertCluster(db, cluster(ID, 'raw'));
    const first = await findClusterEncryption(db, P, ID);
    assert.equal(await findClusterEncryption(db, P, ID), first, 'cached');
    await sql`UPDATE clusters SET master_key_name = 'by-sql' WHERE id = ${ID}`.execute(db);
    assert.equal((await findClusterEncryption(db, P, ID))?.master_key_name, 'by-sql');
    await sql.raw(`UPDATE clusters SET master_key_name = 'by-exec' WHERE id = '${ID}'`).execute(db);
    assert.equal((await findClusterEncryption(db, P, ID))?.master_key_name, 'by-exec');
  } finally {
    await database.close();
  }
});
