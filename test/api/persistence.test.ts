/** State survives a restart, and a conversion interrupted by a stop is resumed at the next start. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { clusterBody, startTestServer, waitForJob } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

for (const store of stores()) {
  test(`keys, clusters, encryption and jobs survive a restart; an interrupted conversion resumes (${store})`, async () => {
    const first = await startTestServer({ store, env: { DWS_ENCRYPT_JOB_SECONDS: '1.5' } });
    const { dataDir, projectId: p } = first;
    let second: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      const key = (
        await first.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'persist', key_spec: 'AES_256' })
      ).body.key_info.key_id;
      const done = (await first.call('POST', `/v2/${p}/clusters`, clusterBody('persist-done'))).body.cluster
        .id;
      const job1 = await first.call('POST', `/v2/${p}/clusters/${done}/encrypt`, {
        encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
      });
      assert.equal((await waitForJob(first, job1.body.job_id)).status, 'SUCCESS');
      const rotated = await first.call('POST', `/v1/${p}/clusters/${done}/rotate-key`);
      const dek = await first.call('POST', `/v1.0/${p}/kms/create-datakey`, {
        key_id: key,
        datakey_length: '256',
      });

      const pending = (await first.call('POST', `/v2/${p}/clusters`, clusterBody('persist-pending'))).body
        .cluster.id;
      const job2 = await first.call('POST', `/v2/${p}/clusters/${pending}/encrypt`, {
        encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
      });
      assert.equal(job2.status, 200);
      await first.close(); // stops mid-conversion: the job is stored, its lease handed back

      second = await startTestServer({ store, dataDir, env: { DWS_ENCRYPT_JOB_SECONDS: '1.5' } });
      const info = await second.call('GET', `/v1/${p}/clusters/${done}/encrypt-info`);
      assert.equal(info.status, 200);
      assert.equal(info.body.master_key_id, key);
      assert.equal(info.body.last_rotate_key_time, rotated.body.rotate_key_time);
      const back = await second.call('POST', `/v1.0/${p}/kms/decrypt-datakey`, {
        key_id: key,
        cipher_text: dek.body.cipher_text,
        datakey_cipher_length: '32',
      });
      assert.equal(back.status, 200, 'the root key and the sealed key material survive');
      assert.equal(back.body.data_key, dek.body.plain_text);

      const resumed = await waitForJob(second, job2.body.job_id);
      assert.equal(resumed.status, 'SUCCESS');
      const pendingInfo = await second.call('GET', `/v1/${p}/clusters/${pending}/encrypt-info`);
      assert.equal(pendingInfo.body.cluster_id, pending);
    } finally {
      await second?.close({ removeData: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
