// A complete test with vitest: `npx vitest run vitest.test.mjs` (docs/testing.md).
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import { startDws } from 'dws-encryption/testing';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';

let dws;
let ids;
let call;

beforeAll(async () => {
  dws = await startDws();
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
afterAll(() => dws.close());

beforeEach(async () => {
  await dws.reset();
  ids = await dws.seed({
    keys: [{ alias: 'k1' }],
    clusters: [{ name: 'c1', encryption: { key: 'k1', last_rotate_key_time: '2026-01-02 03:04:05' } }],
  });
});

test('reads the encryption of a seeded cluster', async () => {
  const info = await call('GET', `/v1/{project_id}/clusters/${ids.clusters.c1}/encrypt-info`);
  expect(info).toMatchObject({
    crypt_algorithm: 'generalCipher',
    last_rotate_key_time: '2026-01-02 03:04:05',
  });
});

test('a rotation refused with a chosen error', async () => {
  dws.faults.add({
    operation: 'RotateKey',
    cluster_id: ids.clusters.c1,
    error: { status: 400, error_code: 'DWS.0411', error_msg: 'The cluster is busy.' },
  });
  await expect(call('POST', `/v1/{project_id}/clusters/${ids.clusters.c1}/rotate-key`)).rejects.toMatchObject(
    {
      httpStatusCode: 400,
      errorCode: 'DWS.0411',
    },
  );
});

test('state snapshots: export, change, import', async () => {
  const snapshot = await dws.exportState();
  await call('DELETE', `/v1.0/{project_id}/clusters/${ids.clusters.c1}`);
  await dws.importState(snapshot);
  const { cluster } = await call('GET', `/v1.0/{project_id}/clusters/${ids.clusters.c1}`);
  expect(cluster.name).toBe('c1');
});
