/** The job-kind registry and the store's job guards, on an in-memory SQLite store. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { JOB_KINDS, jobKind, readPayload } from '../../src/jobs/kinds.js';
import { type Database, openSqlite } from '../../src/store/database.js';
import { countActiveJobsUsingKey, insertJob, updateOwnedJob } from '../../src/store/jobs.js';
import { buildMigrations } from '../../src/store/migrations.js';
import type { JobTable } from '../../src/store/schema.js';
import { jobRow } from '../helpers/services.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
let database: Database;
before(async () => {
  database = await openSqlite(':memory:');
});
after(() => database.close());

/** A job this test's instance ('me') holds the lease of. */
function job(extra: Partial<JobTable> = {}): JobTable {
  return jobRow(0, { lease_owner: 'me', lease_expires_at: 1_000, attempts: 1, ...extra });
}

test('every kind is found by its name; an unknown name has no kind', () => {
  for (const [name, kind] of Object.entries(JOB_KINDS)) assert.equal(kind.name, name);
  assert.equal(jobKind('encryptCluster'), JOB_KINDS.encryptCluster);
  assert.equal(jobKind('toString' as never), undefined);
});

test('a payload is read through its kind schema: a malformed or mistyped one is refused, not cast', () => {
  const kind = JOB_KINDS.encryptCluster;
  const good = {
    masterKeyId: randomUUID(),
    cryptAlgorithm: 'SMcompatible',
    requestedBy: { domainId: 'd', userName: 'u' },
  };
  assert.deepEqual(readPayload(kind, { ...job(), payload_json: JSON.stringify(good) }), good);
  assert.equal(readPayload(kind, { ...job(), payload_json: '{not json' }), undefined);
  const wrong = { ...good, cryptAlgorithm: 'rot13' };
  assert.equal(readPayload(kind, { ...job(), payload_json: JSON.stringify(wrong) }), undefined);
});

test('updateOwnedJob follows the transition table: INIT cannot jump to SUCCESS, a final job never changes', async () => {
  const row = job();
  await insertJob(database.db, row);
  assert.equal(await updateOwnedJob(database.db, row.id, 'me', { status: 'SUCCESS' }), false);
  assert.equal(await updateOwnedJob(database.db, row.id, 'other', { status: 'RUNNING' }), false);
  assert.equal(await updateOwnedJob(database.db, row.id, 'me', { status: 'RUNNING' }), true);
  assert.equal(await updateOwnedJob(database.db, row.id, 'me', { status: 'SUCCESS' }), true);
  assert.equal(await updateOwnedJob(database.db, row.id, 'me', { status: 'RUNNING' }), false);
  assert.equal(await updateOwnedJob(database.db, row.id, 'me', { progress: 5 }), false);
});

test('the key-deletion guard counts active jobs naming the key, by equality', async () => {
  const keyId = randomUUID();
  await insertJob(database.db, job({ name: 'encryptCluster', master_key_id: keyId }));
  await insertJob(database.db, job({ name: 'encryptCluster', master_key_id: keyId, status: 'FAIL' }));
  await insertJob(database.db, job({ name: 'encryptCluster', master_key_id: randomUUID() }));
  assert.equal(await countActiveJobsUsingKey(database.db, PROJECT, keyId), 1);
  assert.equal(await countActiveJobsUsingKey(database.db, 'f'.repeat(32), keyId), 0);
});

test('migration 0003 copies the master key of conversions stored before it out of their payload', async () => {
  const sqlite = new SqliteDatabase(':memory:');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
  const all = buildMigrations('sqlite');
  const upTo = (last: string) => ({
    getMigrations: async () => Object.fromEntries(Object.entries(all).filter(([name]) => name <= last)),
  });
  assert.ok(
    (await new Migrator({ db, provider: upTo('0002_tokens') }).migrateToLatest()).results,
    "(await new Migrator({ db, provider: upTo('0002_tokens') }).migrateToLatest()).results",
  );
  const keyId = randomUUID();
  const { master_key_id: _, ...old } = job({
    name: 'encryptCluster',
    payload_json: JSON.stringify({ masterKeyId: keyId, cryptAlgorithm: 'generalCipher', requestedBy: {} }),
  });
  await db.insertInto('jobs').values(old).execute();
  await new Migrator({ db, provider: upTo('0003_jobs_master_key') }).migrateToLatest();
  const row = await db.selectFrom('jobs').select('master_key_id').executeTakeFirstOrThrow();
  assert.equal(row.master_key_id, keyId);
  await db.destroy();
});
