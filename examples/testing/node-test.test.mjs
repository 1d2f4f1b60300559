// A complete test with node:test: `node --test node-test.test.mjs` (docs/testing.md).
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import { startDws } from 'dws-encryption/testing';

const SEED = {
  keys: [{ alias: 'k1', spec: 'AES_256' }],
  clusters: [{ name: 'c1', encryption: { key: 'k1', crypt_algorithm: 'generalCipher' } }, { name: 'c2' }],
};

let dws;
let ids;
let call;

before(async () => {
  dws = await startDws();
  // The official SDK's client, pointed at the emulator.
  const credentials = new BasicCredentials().withAk(dws.ak).withSk(dws.sk).withProjectId(dws.projectId);
  const client = new HcClient(new DefaultHttpClient({}, [dws.endpoint]))
    .withEndpoints([dws.endpoint])
    .withCredential(credentials);
  call = (method, url, data) =>
    client.sendRequest({
      method,
      url,
      contentType: 'application/json',
      pathParams: { project_id: dws.projectId },
      queryParams: {},
      headers: {},
      ...(data ? { data } : {}),
    });
});
after(() => dws.close());

// Every test starts from the same clean, seeded state.
beforeEach(async () => {
  await dws.reset();
  ids = await dws.seed(SEED);
});

test('reads the encryption of a seeded cluster', async () => {
  const info = await call('GET', `/v1/{project_id}/clusters/${ids.clusters.c1}/encrypt-info`);
  assert.equal(info.crypt_algorithm, 'generalCipher');
  assert.equal(info.master_key_name, 'k1');
});

test('retries once after a 503', async () => {
  dws.faults.add({ operation: 'ShowClusterEncryptInfo', count: 1, error: { status: 503 } });
  const url = `/v1/{project_id}/clusters/${ids.clusters.c1}/encrypt-info`;
  await assert.rejects(call('GET', url), (error) => error.httpStatusCode === 503);
  assert.equal((await call('GET', url)).crypt_algorithm, 'generalCipher');
});

test('reports a conversion that fails at 40 %', async () => {
  dws.faults.add({
    operation: 'EncryptCluster',
    job: {
      fail_at_percent: 40,
      failed_code: 'EncryptCluster-fail:DWS.0500',
      failed_detail: 'DWS.0500:disk full',
    },
  });
  const { job_id } = await call('POST', `/v2/{project_id}/clusters/${ids.clusters.c2}/encrypt`, {
    encrypt: { master_key_id: ids.keys.k1, crypt_algorithm: 'generalCipher' },
  });
  await dws.completeJobs(); // no waiting for the conversion's duration
  const job = await call('GET', `/v1.0/{project_id}/job/${job_id}`);
  assert.equal(job.status, 'FAIL');
  assert.equal(job.progress, '40%');
  assert.equal(job.failed_code, 'EncryptCluster-fail:DWS.0500');
});
