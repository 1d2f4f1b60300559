/**
 * Leases use the database's clock, so an instance whose own clock is wrong cannot matter: a runner whose
 * process clock runs two minutes ahead does not take a lease another instance holds, and the store clock
 * of an instance with a skewed process clock still reads the database's time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JobRunner } from '../../src/jobs/runner.js';
import { ClusterService } from '../../src/services/clusters.js';
import { KeyService } from '../../src/services/kms.js';
import { StoreClock } from '../../src/store/clock.js';
import { eventually } from '../helpers/eventually.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/stores.js';

describe('clock skew between instances', { skip: postgresSkip() }, () => {
  let database: TestDatabase;
  let ts: TestServer;

  before(async () => {
    database = await createTestDatabase();
    ts = await startTestServer({
      database,
      env: { DWS_ENCRYPT_JOB_SECONDS: '60', DWS_JOB_LEASE_SECONDS: '30', DWS_JOB_POLL_MS: '20' },
    });
  });
  after(async () => {
    await ts.close({ removeData: true });
    await database.drop();
  });

  test('a store clock reads the database time whatever the process clock says', async () => {
    const clock = await StoreClock.start(ts.server.database, () => Date.now() + 10_000);
    try {
      // The database runs on this machine: its clock is this process's unskewed one.
      assert.ok(Math.abs(clock.now() - Date.now()) < 2_000, `${clock.now() - Date.now()} ms off`);
    } finally {
      clock.stop();
    }
  });

  test('a runner whose clock runs two minutes ahead does not take a lease another instance holds', async () => {
    const p = ts.projectId;
    const key = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'skew' });
    const cluster = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('skew'));
    const started = await ts.call('POST', `/v2/${p}/clusters/${cluster.body.cluster.id}/encrypt`, {
      encrypt: { master_key_id: key.body.key_info.key_id, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(started.status, 200, started.text);
    const jobId = started.body.job_id as string;
    const db = ts.server.database.db;
    const owner = async () =>
      (await db.selectFrom('jobs').select('lease_owner').where('id', '=', jobId).executeTakeFirstOrThrow())
        .lease_owner;
    await eventually('the instance claims the job', async () => (await owner()) === ts.server.runner.owner);

    const rootKey = Buffer.from(database.rootKey, 'base64');
    const keys = new KeyService(ts.server.database, rootKey);
    const clusters = new ClusterService(ts.server.database, keys, rootKey, {
      encryptJobMs: 0,
      clusterCreateMs: 0,
      maxActiveJobs: 10_000,
    });
    const skewed = () => Date.now() + 120_000;
    const runner = new JobRunner(
      ts.server.database,
      { clusters, keys, now: skewed },
      { leaseMs: 30_000, pollMs: 1_000, maxConcurrent: 8, owner: 'instance-skewed', now: skewed },
    );
    await runner.poll();
    assert.equal(runner.activeJobs, 0);
    assert.equal(await owner(), ts.server.runner.owner, 'the lease stays with its holder');
    await runner.stop();
  });
});
