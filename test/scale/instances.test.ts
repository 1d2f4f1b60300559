/**
 * Several instances on one PostgreSQL database, in one process (fast): rotations of one cluster sent to
 * two instances at once serialize on the cluster row, and conversions raced by several job runners —
 * one of them with a clock far ahead (which, leases being timed by the database's clock, no longer lets
 * it take leases early: test/scale/clock-skew.test.ts) — take effect once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JobRunner } from '../../src/jobs/runner.js';
import { ClusterService } from '../../src/services/clusters.js';
import { KeyService } from '../../src/services/kms.js';
import { clusterBody, startTestServer, type TestServer, waitForJob } from '../helpers/server.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/stores.js';

describe('two instances on one PostgreSQL database', { skip: postgresSkip() }, () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let p: string;

  before(async () => {
    database = await createTestDatabase();
    // Conversions are due at once, so that every runner reaches the finish transaction together.
    const env = { DWS_ENCRYPT_JOB_SECONDS: '0', DWS_JOB_POLL_MS: '10', DWS_JOB_LEASE_SECONDS: '2' };
    a = await startTestServer({ database, env });
    b = await startTestServer({ database, env });
    p = a.projectId;
  });
  after(async () => {
    await a.close({ removeData: true });
    await b.close({ removeData: true });
    await database.drop();
  });

  async function createKey(alias: string): Promise<string> {
    const res = await a.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: alias, key_spec: 'AES_256' });
    assert.equal(res.status, 200, res.text);
    return res.body.key_info.key_id;
  }

  async function startConversion(ts: TestServer, name: string, keyId: string) {
    const created = await ts.call('POST', `/v2/${p}/clusters`, clusterBody(name));
    assert.equal(created.status, 200, created.text);
    const clusterId: string = created.body.cluster.id;
    const res = await ts.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, {
      encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(res.status, 200, res.text);
    return { clusterId, jobId: res.body.job_id as string };
  }

  test('concurrent rotations of one cluster on two instances never interleave', async () => {
    const first = await createKey('rotate-one');
    const second = await createKey('rotate-two');
    const { clusterId, jobId } = await startConversion(a, 'rotated', first);
    assert.equal((await waitForJob(a, jobId)).status, 'SUCCESS');
    // 20 rotations at once, alternating instances; every fifth one moves the cluster to the other master key.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const ts = i % 2 === 0 ? a : b;
        const body = i % 5 === 4 ? { master_key_id: i % 10 === 4 ? second : first } : undefined;
        return ts.call('POST', `/v1/${p}/clusters/${clusterId}/rotate-key`, body);
      }),
    );
    for (const res of results) assert.equal(res.status, 200, res.text);
    const latest = results
      .map((r) => r.body.rotate_key_time as string)
      .sort()
      .at(-1);
    const info = await b.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`);
    assert.equal(info.body.last_rotate_key_time, latest);

    const db = a.server.database.db;
    const audits = await db
      .selectFrom('audit_events')
      .select('detail')
      .where('resource_id', '=', clusterId)
      .where('action', '=', 'dws:cluster:rotateKey')
      .where('result', '=', 'success')
      .execute();
    assert.equal(audits.length, 20);
    // A master-key request naming the current key rotates the data key instead: count what happened.
    const dataKeyRotations = audits.filter((e) => e.detail?.includes('data_key')).length;
    assert.ok(dataKeyRotations >= 16, 'dataKeyRotations >= 16');
    const cluster = await db
      .selectFrom('clusters')
      .selectAll()
      .where('id', '=', clusterId)
      .executeTakeFirstOrThrow();
    const versions = await db
      .selectFrom('cluster_data_keys')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .orderBy('version')
      .execute();
    // 1 from the conversion + one per data-key rotation, numbered without gaps, all under the current master key.
    assert.deepEqual(
      versions.map((v) => v.version),
      Array.from({ length: 1 + dataKeyRotations }, (_, i) => i + 1),
    );
    assert.equal(cluster.dek_version, 1 + dataKeyRotations);
    assert.equal(cluster.dek_wrapped, versions.at(-1)?.wrapped);
    for (const v of versions) assert.equal(v.master_key_id, cluster.master_key_id);
  });

  test('conversions raced by three runners, one stealing every lease, take effect exactly once', async (t) => {
    const keyId = await createKey('race');
    const rootKey = Buffer.from(database.rootKey, 'base64');
    const keys = new KeyService(a.server.database, rootKey);
    const clusters = new ClusterService(a.server.database, keys, rootKey, {
      encryptJobMs: 0,
      clusterCreateMs: 0,
      maxActiveJobs: 10_000,
    });
    // Its clock runs two minutes ahead (its due dates and progress; its leases are timed by the database).
    const thief = new JobRunner(
      a.server.database,
      { clusters, keys, now: Date.now },
      {
        leaseMs: 2_000,
        pollMs: 5,
        maxConcurrent: 64,
        owner: 'instance-thief',
        now: () => Date.now() + 120_000,
      },
    );
    thief.start();
    let started: { clusterId: string; jobId: string }[];
    try {
      started = await Promise.all(
        Array.from({ length: 16 }, (_, i) => startConversion(i % 2 ? a : b, `race-${i}`, keyId)),
      );
      for (const { jobId } of started) assert.equal((await waitForJob(a, jobId)).status, 'SUCCESS');
    } finally {
      await thief.stop();
    }
    const db = b.server.database.db;
    const reclaimed = await db
      .selectFrom('jobs')
      .select('id')
      .where(
        'id',
        'in',
        started.map((s) => s.jobId),
      )
      .where('attempts', '>', 1)
      .execute();
    t.diagnostic(`${reclaimed.length} of ${started.length} jobs were claimed more than once`);
    for (const { clusterId } of started) {
      const successes = await db
        .selectFrom('audit_events')
        .select('id')
        .where('resource_id', '=', clusterId)
        .where('action', '=', 'dws:cluster:encrypt')
        .where('result', '=', 'success')
        .execute();
      assert.equal(successes.length, 1, `cluster ${clusterId}: one conversion`);
      const versions = await db
        .selectFrom('cluster_data_keys')
        .select('version')
        .where('cluster_id', '=', clusterId)
        .execute();
      assert.deepEqual(versions, [{ version: 1 }]);
    }
  });
});
