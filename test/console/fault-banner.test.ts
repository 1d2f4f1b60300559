/**
 * The console's fault banner counts the active fault rules (console/src/api/endpoints.ts
 * activeFaultCount) from a real instance: 0 without rules, without the permission, or once used up.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient } from '../../console/src/api/client.js';
import { activeFaultCount } from '../../console/src/api/endpoints.js';
import { importSecretKey } from '../../console/src/api/signer.js';
import { type Dws, startDws } from '../../src/testing/index.js';

let dws: Dws;
const realFetch = globalThis.fetch;
const reader = { ak: 'BANNERREADERAK000001', sk: 'banner-reader-secret-key-00000000000001' };

before(async () => {
  dws = await startDws({
    identities: {
      accounts: [
        {
          name: 'acme',
          domain_id: 'cd'.repeat(16),
          projects: [{ id: 'ab'.repeat(16), name: 'cn-north-4' }],
          users: [{ name: 'reader', credentials: [reader], allow: ['dws:openAPICluster:list'] }],
        },
      ],
    },
  });
  // The console calls same-origin paths: send them to the instance.
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) =>
    realFetch(`${dws.endpoint}${String(input)}`, init)) as typeof fetch;
});
after(async () => {
  globalThis.fetch = realFetch;
  await dws.close();
});

const client = async (ak: string, sk: string, projectId: string) =>
  new ApiClient(
    { kind: 'aksk', ak, key: await importSecretKey(sk), projectId },
    undefined,
    new URL(dws.endpoint).host,
  );

test('active rules are counted; used-up rules and callers without the permission count 0', async () => {
  const admin = await client(dws.ak, dws.sk, dws.projectId);
  assert.equal(await activeFaultCount(admin), 0);
  dws.faults.add({ operation: 'ListClusters', count: 1, error: { status: 503 } });
  dws.faults.add({ operation: 'RotateKey', latency_ms: 5 });
  assert.equal(await activeFaultCount(admin), 2);
  assert.equal(await activeFaultCount(await client(reader.ak, reader.sk, 'ab'.repeat(16))), 0);
  const listed = await admin.request('GET', `/v1.0/${dws.projectId}/clusters`).catch((error: Error) => error);
  assert.ok(listed instanceof Error, 'the count-1 rule answered once');
  assert.equal(await activeFaultCount(admin), 1);
  dws.faults.clear();
  assert.equal(await activeFaultCount(admin), 0);
});
