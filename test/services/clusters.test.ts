/** ClusterService on an in-memory store with a fixed clock (see test/helpers/services.ts): conversion, rotation, guards. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Errors } from '../../src/domain/errors.js';
import { JOB_KINDS } from '../../src/jobs/kinds.js';
import { listDataKeyVersions } from '../../src/store/clusters.js';
import {
  ACTOR,
  clusterInput,
  refusedWith,
  type ServiceFixture,
  START,
  serviceFixture,
} from '../helpers/services.js';

describe('ClusterService', () => {
  let f: ServiceFixture;
  before(async () => {
    f = await serviceFixture();
  });
  after(() => f.close());

  /** Finishes a job as the runner would: its kind's `complete`, in one transaction. */
  async function complete(jobId: string) {
    const job = await f.clusters.getJob(ACTOR, jobId);
    const kind = JOB_KINDS.encryptCluster;
    const payload = JSON.parse(job.payload_json);
    const deps = { clusters: f.clusters, keys: f.keys, now: () => f.clock.now };
    return f.database.transaction((trx) => kind.complete(trx, job, payload, deps));
  }

  test('a conversion: converting with its job, then encrypted under the master key by the job kind', async () => {
    const key = await f.keys.createKey(ACTOR, { alias: 'svc-aes', spec: 'AES_256' });
    const cluster = await f.clusters.createCluster(ACTOR, clusterInput('svc-convert'));
    assert.equal(cluster.status, 'AVAILABLE');
    assert.equal(cluster.encryption_state, 'plain');

    const jobId = await f.clusters.startEncryption(ACTOR, cluster.id, {
      masterKeyId: key.id,
      cryptAlgorithm: 'generalCipher',
    });
    const job = await f.clusters.getJob(ACTOR, jobId);
    assert.equal(job.name, 'encryptCluster');
    assert.equal(job.master_key_id, key.id);
    assert.equal(job.due_at, START + 60_000);
    assert.equal((await f.clusters.showCluster(ACTOR, cluster.id)).encryption_state, 'converting');
    await assert.rejects(
      f.clusters.startEncryption(ACTOR, cluster.id, { masterKeyId: key.id, cryptAlgorithm: 'generalCipher' }),
      refusedWith(Errors.CLUSTER_CONVERSION_IN_PROGRESS),
    );

    f.clock.now = START + 60_000;
    assert.equal(await complete(jobId), undefined);
    const info = await f.clusters.encryptInfo(ACTOR, cluster.id);
    assert.equal(info.encryption_state, 'encrypted');
    assert.equal(info.master_key_id, key.id);
    assert.equal(info.master_key_name, 'svc-aes');
    assert.equal(info.crypt_algorithm, 'generalCipher');
    const versions = await listDataKeyVersions(f.database.db, ACTOR.projectId, cluster.id);
    assert.deepEqual(
      versions.map((v) => [v.version, v.master_key_id, v.created_at]),
      [[1, key.id, START + 60_000]],
    );
  });

  test('a key disabled while the conversion runs fails the job and leaves the cluster plain', async () => {
    const key = await f.keys.createKey(ACTOR, { alias: 'svc-disabled-later', spec: 'AES_256' });
    const cluster = await f.clusters.createCluster(ACTOR, clusterInput('svc-fails'));
    const jobId = await f.clusters.startEncryption(ACTOR, cluster.id, {
      masterKeyId: key.id,
      cryptAlgorithm: 'generalCipher',
    });
    await f.keys.changeKeyState(ACTOR, key.id, 'disable');
    const refusal = await complete(jobId);
    assert.equal(refusal?.def, Errors.MASTER_KEY_NOT_ENABLED);
    assert.equal((await f.clusters.showCluster(ACTOR, cluster.id)).encryption_state, 'plain');
  });

  test('the rules refuse before anything changes: old versions, disabled keys, the wrong spec, a name that is not the alias', async () => {
    const aes = await f.keys.createKey(ACTOR, { alias: 'svc-rules-aes', spec: 'AES_256' });
    const sm4 = await f.keys.createKey(ACTOR, { alias: 'svc-rules-sm4', spec: 'SM4' });
    const old = await f.clusters.createCluster(ACTOR, clusterInput('svc-old', { datastoreVersion: '7.9.9' }));
    const ready = await f.clusters.createCluster(ACTOR, clusterInput('svc-ready'));
    const start = (clusterId: string, masterKeyId: string, extra = {}) =>
      f.clusters.startEncryption(ACTOR, clusterId, {
        masterKeyId,
        cryptAlgorithm: 'generalCipher',
        ...extra,
      });
    await assert.rejects(start(old.id, aes.id), refusedWith(Errors.CLUSTER_VERSION_TOO_OLD));
    await assert.rejects(start(ready.id, sm4.id), refusedWith(Errors.MASTER_KEY_SPEC_MISMATCH));
    await assert.rejects(
      start(ready.id, aes.id, { masterKeyName: 'other' }),
      refusedWith(Errors.MASTER_KEY_NAME_MISMATCH),
    );
    await f.keys.changeKeyState(ACTOR, aes.id, 'disable');
    await assert.rejects(start(ready.id, aes.id), refusedWith(Errors.MASTER_KEY_NOT_ENABLED));
    assert.equal((await f.clusters.showCluster(ACTOR, ready.id)).encryption_state, 'plain');
  });

  test('rotation: a new data key version at the clock time, never earlier than the last; a master-key rotation re-wraps every version', async () => {
    const first = await f.keys.createKey(ACTOR, { alias: 'svc-rotate-1', spec: 'SM4' });
    const second = await f.keys.createKey(ACTOR, { alias: 'svc-rotate-2', spec: 'SM4' });
    const cluster = await f.clusters.createCluster(
      ACTOR,
      clusterInput('svc-rotate', { encryption: { masterKeyId: first.id, cryptAlgorithm: 'SMcompatible' } }),
    );
    f.clock.now = START + 1_000;
    const rotated = await f.clusters.rotateKey(ACTOR, cluster.id);
    assert.deepEqual(rotated, {
      clusterId: cluster.id,
      masterKeyName: 'svc-rotate-1',
      rotatedAt: START + 1_000,
    });
    f.clock.now = START + 500; // this instance's clock is behind the last rotation
    assert.equal((await f.clusters.rotateKey(ACTOR, cluster.id)).rotatedAt, START + 1_000);

    const moved = await f.clusters.rotateKey(ACTOR, cluster.id, second.id);
    assert.equal(moved.masterKeyName, 'svc-rotate-2');
    const versions = await listDataKeyVersions(f.database.db, ACTOR.projectId, cluster.id);
    assert.deepEqual(
      versions.map((v) => [v.version, v.master_key_id]),
      [1, 2, 3].map((version) => [version, second.id]),
    );
    const row = await f.clusters.showCluster(ACTOR, cluster.id);
    assert.equal(row.dek_version, 3);
    assert.equal(row.dek_wrapped, versions[2]!.wrapped);
  });

  test('a key that protects a cluster, or one being converted, cannot be scheduled for deletion', async () => {
    const key = await f.keys.createKey(ACTOR, { alias: 'svc-guarded', spec: 'AES_256' });
    const cluster = await f.clusters.createCluster(ACTOR, clusterInput('svc-guarded'));
    await f.clusters.startEncryption(ACTOR, cluster.id, {
      masterKeyId: key.id,
      cryptAlgorithm: 'generalCipher',
    });
    await assert.rejects(
      f.keys.changeKeyState(ACTOR, key.id, 'scheduleDeletion', 7),
      refusedWith(Errors.KEY_STATE_CONFLICT),
    );
    const unused = await f.keys.createKey(ACTOR, { alias: 'svc-unused', spec: 'AES_256' });
    const scheduled = await f.keys.changeKeyState(ACTOR, unused.id, 'scheduleDeletion', 7);
    assert.equal(scheduled.scheduled_deletion_at, f.clock.now + 7 * 24 * 60 * 60 * 1000);
  });
});
