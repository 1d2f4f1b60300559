/**
 * startDws on the other stores: an SQLite file (its root key file beside it) and PostgreSQL (a database
 * of its own, mandatory under CI): seed, reset, export and import behave as on the in-memory store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Dws, startDws } from '../../src/testing/index.js';
import { signedCall } from '../helpers/server.js';
import { createTestDatabase, postgresSkip } from '../helpers/stores.js';

const SEED = {
  keys: [{ alias: 'k1' }],
  clusters: [{ name: 'c1', encryption: { key: 'k1' } }, { name: 'c2' }],
};

/** Seed, snapshot, reset, import: the answers are the same; a new audit record after import gets a fresh id. */
async function roundTrip(dws: Dws): Promise<void> {
  const call = (method: string, path: string, body?: unknown) =>
    signedCall(dws.endpoint, method, path, body, { ak: dws.ak, sk: dws.sk });
  const ids = await dws.seed(SEED);
  const paths = [
    `/v1.0/${dws.projectId}/clusters`,
    `/v1/${dws.projectId}/clusters/${ids.clusters.c1}/encrypt-info`,
  ];
  const read = async () => Promise.all(paths.map(async (p) => (await call('GET', p)).body));
  const before = await read();
  const snapshot = await dws.exportState();
  await dws.reset();
  assert.equal((await call('GET', paths[0]!)).body.count, 0);
  await dws.importState(snapshot);
  assert.deepEqual(await read(), before);
  // Writes after the import work (serial ids moved past the imported ones on PostgreSQL).
  const created = await call('POST', `/v1.0/${dws.projectId}/kms/create-key`, { key_alias: 'after-import' });
  assert.equal(created.status, 200, created.text);
}

test('an SQLite file store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dws-startdws-file-'));
  const dws = await startDws({ store: join(dir, 'state.db') });
  try {
    await roundTrip(dws);
  } finally {
    await dws.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL store', { skip: postgresSkip() }, async () => {
  const database = await createTestDatabase();
  const dws = await startDws({ store: database.url, rootKey: database.rootKey });
  try {
    await roundTrip(dws);
  } finally {
    await dws.close();
    await database.drop();
  }
});
