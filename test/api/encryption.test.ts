/**
 * The whole encryption story over real HTTP, every request signed by the official signer:
 * the seed's example, conversion to SUCCESS, rotations, and every refusal of the encryption rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clusterBody, startTestServer, type TestServer, waitForJob } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

const ROTATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const JOB_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

for (const store of stores()) {
  describe(`cluster encryption (${store})`, () => {
    let ts: TestServer;
    let p: string;
    let aesKey: string;
    let sm4Key: string;
    let seq = 0;

    async function createKey(alias: string, spec: string): Promise<string> {
      const res = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: alias, key_spec: spec });
      assert.equal(res.status, 200, res.text);
      return res.body.key_info.key_id;
    }

    async function createCluster(extra: Record<string, unknown> = {}): Promise<string> {
      const res = await ts.call('POST', `/v2/${p}/clusters`, clusterBody(`cluster-${++seq}`, extra));
      assert.equal(res.status, 200, res.text);
      return res.body.cluster.id;
    }

    async function encrypt(clusterId: string, body: Record<string, unknown>) {
      return ts.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, { encrypt: body });
    }

    async function encryptedCluster(keyId = aesKey, algorithm = 'generalCipher'): Promise<string> {
      const id = await createCluster();
      const res = await encrypt(id, { master_key_id: keyId, crypt_algorithm: algorithm });
      assert.equal(res.status, 200, res.text);
      assert.equal((await waitForJob(ts, res.body.job_id)).status, 'SUCCESS');
      return id;
    }

    before(async () => {
      ts = await startTestServer({ store });
      p = ts.projectId;
      aesKey = await createKey('aes-master', 'AES_256');
      sm4Key = await createKey('sm4-master', 'SM4');
    });
    after(() => ts.close({ removeData: true }));

    test("the seed's example: a cluster that is not encrypted answers 200 with six nulls", async () => {
      const id = await createCluster();
      const res = await ts.call('GET', `/v1/${p}/clusters/${id}/encrypt-info`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        id: null,
        cluster_id: null,
        master_key_id: null,
        master_key_name: null,
        last_rotate_key_time: null,
        crypt_algorithm: null,
      });
      assert.match(res.headers.get('x-request-id') ?? '', /^[A-Za-z0-9._-]+$/);
    });

    test('conversion runs as a job INIT/RUNNING -> SUCCESS and fills the encryption info', async () => {
      const id = await createCluster();
      const res = await encrypt(id, {
        master_key_id: aesKey,
        master_key_name: 'aes-master',
        crypt_algorithm: 'generalCipher',
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body), ['job_id']);
      const first = await ts.call('GET', `/v1.0/${p}/job/${res.body.job_id}`);
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.body).sort(), [
        'begin_time',
        'end_time',
        'failed_code',
        'failed_detail',
        'job_id',
        'job_name',
        'progress',
        'status',
      ]);
      assert.equal(first.body.job_name, 'encryptCluster');
      assert.ok(['INIT', 'RUNNING', 'SUCCESS'].includes(first.body.status), first.body.status);
      assert.match(first.body.progress, /^\d{1,3}%$/);
      assert.match(first.body.begin_time, JOB_TIME);

      const job = await waitForJob(ts, res.body.job_id);
      assert.equal(job.status, 'SUCCESS');
      assert.equal(job.progress, '100%');
      assert.match(job.end_time, JOB_TIME);
      assert.equal(job.failed_code, null);

      const info = await ts.call('GET', `/v1/${p}/clusters/${id}/encrypt-info`);
      assert.equal(info.status, 200);
      assert.equal(info.body.cluster_id, id);
      assert.equal(info.body.master_key_id, aesKey);
      assert.equal(info.body.master_key_name, 'aes-master');
      assert.equal(info.body.crypt_algorithm, 'generalCipher');
      assert.equal(info.body.last_rotate_key_time, null, 'null until the first rotation');
      assert.match(info.body.id, /^[0-9a-f-]{36}$/);

      const detail = await ts.call('GET', `/v1.0/${p}/clusters/${id}`);
      assert.equal(detail.body.cluster.encrypted, true);
    });

    test('SMcompatible needs an SM4 key; generalCipher an AES_256 key', async () => {
      const id = await encryptedCluster(sm4Key, 'SMcompatible');
      const info = await ts.call('GET', `/v1/${p}/clusters/${id}/encrypt-info`);
      assert.equal(info.body.crypt_algorithm, 'SMcompatible');
      assert.equal(info.body.master_key_name, 'sm4-master');

      const plain = await createCluster();
      const wrongSpec = await encrypt(plain, { master_key_id: aesKey, crypt_algorithm: 'SMcompatible' });
      assert.equal(wrongSpec.status, 400);
      assert.equal(wrongSpec.body.error_code, 'DWS.0409');
      const wrongSpec2 = await encrypt(plain, { master_key_id: sm4Key, crypt_algorithm: 'generalCipher' });
      assert.equal(wrongSpec2.body.error_code, 'DWS.0409');
    });

    test('refusals of the conversion: versions, state, key', async () => {
      const cases: [string, () => Promise<{ status: number; body: any }>, string, RegExp?][] = [
        [
          'cluster version below 8.0.0',
          async () =>
            encrypt(await createCluster({ datastore_version: '7.9.9' }), {
              master_key_id: aesKey,
              crypt_algorithm: 'generalCipher',
            }),
          'DWS.0404',
          /7\.9\.9/,
        ],
        [
          'guestAgent below 8.3.0.200',
          async () =>
            encrypt(await createCluster({ guest_agent_version: '8.3.0.100' }), {
              master_key_id: aesKey,
              crypt_algorithm: 'generalCipher',
            }),
          'DWS.0405',
          /8\.3\.0\.100/,
        ],
        [
          'unknown master key',
          async () =>
            encrypt(await createCluster(), {
              master_key_id: '00000000-0000-4000-8000-000000000000',
              crypt_algorithm: 'generalCipher',
            }),
          'DWS.0407',
        ],
        [
          'master_key_name that is not the alias',
          async () =>
            encrypt(await createCluster(), {
              master_key_id: aesKey,
              master_key_name: 'nope',
              crypt_algorithm: 'generalCipher',
            }),
          'DWS.0410',
        ],
        [
          'already encrypted',
          async () =>
            encrypt(await encryptedCluster(), { master_key_id: aesKey, crypt_algorithm: 'generalCipher' }),
          'DWS.0402',
        ],
        [
          'unknown crypt_algorithm',
          async () => encrypt(await createCluster(), { master_key_id: aesKey, crypt_algorithm: 'rot13' }),
          'DWS.0001',
        ],
      ];
      for (const [name, run, code, message] of cases) {
        const res = await run();
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error_code, code, name);
        if (message) assert.match(res.body.error_msg, message, name);
      }
    });

    test('newer versions compare numerically (8.10.0 > 8.9.0, 8.3.0.1000 > 8.3.0.200)', async () => {
      const id = await createCluster({ datastore_version: '8.10.0', guest_agent_version: '8.3.0.1000' });
      const res = await encrypt(id, { master_key_id: aesKey, crypt_algorithm: 'generalCipher' });
      assert.equal(res.status, 200, res.text);
      assert.equal((await waitForJob(ts, res.body.job_id)).status, 'SUCCESS');
    });

    test('a second conversion while one runs is refused; so is deleting the converting cluster', async () => {
      const slow = await startTestServer({ store, env: { DWS_ENCRYPT_JOB_SECONDS: '30' } });
      try {
        const q = slow.projectId;
        const key = (
          await slow.call('POST', `/v1.0/${q}/kms/create-key`, { key_alias: 'k', key_spec: 'AES_256' })
        ).body.key_info.key_id;
        const id = (await slow.call('POST', `/v2/${q}/clusters`, clusterBody('slowcluster'))).body.cluster.id;
        const first = await slow.call('POST', `/v2/${q}/clusters/${id}/encrypt`, {
          encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
        });
        assert.equal(first.status, 200);
        const second = await slow.call('POST', `/v2/${q}/clusters/${id}/encrypt`, {
          encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
        });
        assert.equal(second.status, 400);
        assert.equal(second.body.error_code, 'DWS.0403');
        const rotate = await slow.call('POST', `/v1/${q}/clusters/${id}/rotate-key`);
        assert.equal(rotate.body.error_code, 'DWS.0403');
        const deletion = await slow.call('POST', `/v1.0/${q}/kms/schedule-key-deletion`, {
          key_id: key,
          pending_days: '7',
        });
        assert.equal(deletion.status, 400, 'the key of a running conversion is not scheduled for deletion');
        assert.equal(deletion.body.error_code, 'KMS.0305');
        const del = await slow.call('DELETE', `/v1.0/${q}/clusters/${id}`);
        assert.equal(del.status, 400);
        assert.equal(del.body.error_code, 'DWS.0403');
        const info = await slow.call('GET', `/v1/${q}/clusters/${id}/encrypt-info`);
        assert.equal(info.body.id, null, 'not encrypted before the job finishes');
        const detail = await slow.call('GET', `/v1.0/${q}/clusters/${id}`);
        assert.equal(detail.body.cluster.task_status, 'ENCRYPTING');
      } finally {
        await slow.close({ removeData: true });
      }
    });

    test('a conversion whose key is disabled before it finishes fails cleanly and can be retried', async () => {
      const slow = await startTestServer({ store, env: { DWS_ENCRYPT_JOB_SECONDS: '1' } });
      try {
        const q = slow.projectId;
        const key = (
          await slow.call('POST', `/v1.0/${q}/kms/create-key`, { key_alias: 'k', key_spec: 'AES_256' })
        ).body.key_info.key_id;
        const id = (await slow.call('POST', `/v2/${q}/clusters`, clusterBody('retrycluster'))).body.cluster
          .id;
        const first = await slow.call('POST', `/v2/${q}/clusters/${id}/encrypt`, {
          encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
        });
        assert.equal((await slow.call('POST', `/v1.0/${q}/kms/disable-key`, { key_id: key })).status, 200);
        const job = await waitForJob(slow, first.body.job_id);
        assert.equal(job.status, 'FAIL');
        assert.match(job.failed_code, /DWS\.0408/);
        assert.match(job.failed_detail, /^DWS\.0408:/);
        const info = await slow.call('GET', `/v1/${q}/clusters/${id}/encrypt-info`);
        assert.equal(info.body.id, null, 'the cluster is left as it was');
        assert.equal((await slow.call('POST', `/v1.0/${q}/kms/enable-key`, { key_id: key })).status, 200);
        const retry = await slow.call('POST', `/v2/${q}/clusters/${id}/encrypt`, {
          encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
        });
        assert.equal(retry.status, 200, retry.text);
        assert.equal((await waitForJob(slow, retry.body.job_id)).status, 'SUCCESS');
      } finally {
        await slow.close({ removeData: true });
      }
    });

    test('rotating the data key sets last_rotate_key_time; rotating the master key switches the key', async () => {
      const id = await encryptedCluster();
      const plain = await createCluster();
      const refused = await ts.call('POST', `/v1/${p}/clusters/${plain}/rotate-key`);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error_code, 'DWS.0406');

      const dataKey = await ts.call('POST', `/v1/${p}/clusters/${id}/rotate-key`);
      assert.equal(dataKey.status, 200, dataKey.text);
      assert.deepEqual(Object.keys(dataKey.body).sort(), [
        'cluster_id',
        'master_key_name',
        'rotate_key_time',
      ]);
      assert.equal(dataKey.body.cluster_id, id);
      assert.equal(dataKey.body.master_key_name, 'aes-master');
      assert.match(dataKey.body.rotate_key_time, ROTATE_TIME);
      let info = await ts.call('GET', `/v1/${p}/clusters/${id}/encrypt-info`);
      assert.equal(info.body.last_rotate_key_time, dataKey.body.rotate_key_time);
      assert.equal(info.body.master_key_id, aesKey);

      const otherAes = (
        await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'aes-second', key_spec: 'AES_256' })
      ).body.key_info.key_id;
      const master = await ts.call('POST', `/v1/${p}/clusters/${id}/rotate-key`, { master_key_id: otherAes });
      assert.equal(master.status, 200, master.text);
      assert.equal(master.body.master_key_name, 'aes-second');
      info = await ts.call('GET', `/v1/${p}/clusters/${id}/encrypt-info`);
      assert.equal(info.body.master_key_id, otherAes);
      assert.equal(info.body.master_key_name, 'aes-second');
      assert.equal(info.body.last_rotate_key_time, master.body.rotate_key_time);

      // The cluster's master key cannot be scheduled for deletion while it protects the cluster.
      const del = await ts.call('POST', `/v1.0/${p}/kms/schedule-key-deletion`, {
        key_id: otherAes,
        pending_days: '7',
      });
      assert.equal(del.status, 400, 'a key that protects a cluster is not deleted');

      const wrongSpec = await ts.call('POST', `/v1/${p}/clusters/${id}/rotate-key`, {
        master_key_id: sm4Key,
      });
      assert.equal(wrongSpec.body.error_code, 'DWS.0409');
      const missing = await ts.call('POST', `/v1/${p}/clusters/${id}/rotate-key`, {
        master_key_id: '00000000-0000-4000-8000-000000000001',
      });
      assert.equal(missing.body.error_code, 'DWS.0407');
    });

    test('a disabled master key refuses rotation', async () => {
      const key = (
        await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'to-disable', key_spec: 'AES_256' })
      ).body.key_info.key_id;
      const id = await encryptedCluster(key);
      await ts.call('POST', `/v1.0/${p}/kms/disable-key`, { key_id: key });
      const res = await ts.call('POST', `/v1/${p}/clusters/${id}/rotate-key`);
      assert.equal(res.status, 400);
      assert.equal(res.body.error_code, 'DWS.0408');
    });

    test('a cluster can be created encrypted', async () => {
      const id = await createCluster({
        master_key_id: sm4Key,
        master_key_name: 'sm4-master',
        crypt_algorithm: 'SMcompatible',
      });
      const info = await ts.call('GET', `/v1/${p}/clusters/${id}/encrypt-info`);
      assert.equal(info.body.crypt_algorithm, 'SMcompatible');
      assert.equal(info.body.master_key_id, sm4Key);
      const half = await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('halfencrypted', { master_key_id: sm4Key }),
      );
      assert.equal(half.status, 400);
      assert.equal(half.body.error_code, 'DWS.0413');
    });
  });
}
