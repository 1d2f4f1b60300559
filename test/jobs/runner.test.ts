/** The job runner: lease take-over, and jobs that keep failing are stopped instead of retried forever. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterBody, startTestServer, type TestServer, waitForJob } from '../helpers/server.js';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ env: { DWS_ENCRYPT_JOB_SECONDS: '2' } });
});
after(() => ts.close({ removeData: true }));

async function startConversion(name: string): Promise<{ clusterId: string; jobId: string }> {
  const p = ts.projectId;
  const key = (
    await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: `key-${name}`, key_spec: 'AES_256' })
  ).body.key_info.key_id;
  const clusterId = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody(name))).body.cluster.id;
  const res = await ts.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, {
    encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
  });
  assert.equal(res.status, 200, res.text);
  return { clusterId, jobId: res.body.job_id };
}

test('a job whose lease was taken by a dead owner is resumed after the lease expires, and finishes once', async () => {
  const { clusterId, jobId } = await startConversion('takeover');
  // Another (dead) instance "holds" the job with a lease that has already run out.
  await ts.server.database.db
    .updateTable('jobs')
    .set({ lease_owner: 'instance-dead', lease_expires_at: 1 })
    .where('id', '=', jobId)
    .execute();
  const job = await waitForJob(ts, jobId);
  assert.equal(job.status, 'SUCCESS');
  const successes = await ts.server.database.db
    .selectFrom('audit_events')
    .select('id')
    .where('resource_id', '=', clusterId)
    .where('action', '=', 'dws:cluster:encrypt')
    .where('result', '=', 'success')
    .execute();
  assert.equal(successes.length, 1, 'the conversion took effect exactly once');
});

test('a job claimed too many times is failed cleanly and the cluster is left plain', async () => {
  const { clusterId, jobId } = await startConversion('giveup');
  await ts.server.database.db
    .updateTable('jobs')
    .set({ attempts: 50, lease_owner: 'instance-dead', lease_expires_at: 1 })
    .where('id', '=', jobId)
    .execute();
  const job = await waitForJob(ts, jobId);
  assert.equal(job.status, 'FAIL');
  assert.equal(job.failed_code, 'EncryptCluster-fail:DWS.0500');
  const info = await ts.call('GET', `/v1/${ts.projectId}/clusters/${clusterId}/encrypt-info`);
  assert.equal(info.body.id, null);
  const detail = await ts.call('GET', `/v1.0/${ts.projectId}/clusters/${clusterId}`);
  assert.equal(detail.body.cluster.task_status, '', 'no longer converting');
});
