/**
 * A start on an SQLite store that cannot be written (a full disk after a kill -9): the start-up clean-up
 * of the dead process's job leases fails, yet the service starts, serves reads, reports not ready, and
 * retries the clean-up until the store takes writes again. The fault is injected as in
 * storage-faults.test.ts, on the service's own connection (`PRAGMA query_only`, which fails writes the
 * way a full or read-only disk does), before the service writes anything.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { eventually } from '../helpers/eventually.js';
import { clusterBody, startTestServer } from '../helpers/server.js';

test('an unwritable store at start: reads served, not ready, stale leases cleared once writable', async () => {
  const first = await startTestServer({ store: 'sqlite', env: { DWS_ENCRYPT_JOB_SECONDS: '3600' } });
  const p = first.projectId;
  const key = await first.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'startup' });
  const cluster = await first.call('POST', `/v2/${p}/clusters`, clusterBody('startup'));
  const clusterId = cluster.body.cluster.id as string;
  const job = await first.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, {
    encrypt: { master_key_id: key.body.key_info.key_id, crypt_algorithm: 'generalCipher' },
  });
  assert.equal(job.status, 200, job.text);
  await first.server.close();
  // What a kill -9 leaves: the job still leased by the dead process, for a long while.
  const file = new SqliteDatabase(join(first.dataDir, 'dws-encryption.db'));
  file
    .prepare('UPDATE jobs SET lease_owner = ?, lease_expires_at = ? WHERE id = ?')
    .run('dead-process', Date.now() + 3_600_000, job.body.job_id);
  file.close();

  const second = await startTestServer({
    store: 'sqlite',
    dataDir: first.dataDir,
    env: { DWS_ENCRYPT_JOB_SECONDS: '3600' },
    afterStoreOpen: async (database) => {
      await sql`PRAGMA query_only = 1`.execute(database.db);
    },
  });
  try {
    const read = await second.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`);
    assert.equal(read.status, 200, read.text);
    const list = await second.call('GET', `/v1.0/${p}/clusters`);
    assert.equal(list.status, 200, list.text);
    const ready = await fetch(`${second.baseUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.doesNotMatch(((await ready.json()) as { error_msg: string }).error_msg, /lease|readonly/i);

    await sql`PRAGMA query_only = 0`.execute(second.server.database.db);
    await eventually(
      'ready once writable',
      async () => (await fetch(`${second.baseUrl}/readyz`)).status === 200,
    );
    const row = await second.server.database.db
      .selectFrom('jobs')
      .select('lease_owner')
      .where('id', '=', job.body.job_id)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.lease_owner, 'dead-process');
  } finally {
    await second.close({ removeData: true });
  }
});
