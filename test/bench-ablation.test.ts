/** DWS_BENCH_ABLATE: the benchmark's switches exist only outside production, and do what they say. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { clusterBody, signedCall } from './helpers/server.js';

test('DWS_BENCH_ABLATE is refused with NODE_ENV=production, off loopback for signature, and when unknown', () => {
  assert.throws(
    () => loadConfig({ DWS_BENCH_ABLATE: 'metrics', NODE_ENV: 'production' }),
    (error: unknown) => error instanceof ConfigError && /NODE_ENV=production/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ DWS_BENCH_ABLATE: 'signature', HOST: '0.0.0.0' }),
    (error: unknown) => error instanceof ConfigError && /loopback/.test(error.message),
  );
  assert.throws(() => loadConfig({ DWS_BENCH_ABLATE: 'everything' }), ConfigError);
  assert.deepEqual(loadConfig({}).benchAblations, new Set());
  assert.deepEqual(loadConfig({ NODE_ENV: 'production' }).benchAblations, new Set());
  assert.deepEqual(
    loadConfig({ DWS_BENCH_ABLATE: 'store, serialize' }).benchAblations,
    new Set(['store', 'serialize']),
  );
});

test('with every switch on, encrypt-info still answers through the whole pipeline', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-ablate-'));
  const projectId = 'abcdef0123456789abcdef0123456789';
  const credentials = { ak: 'ABLATEAKEXAMPLE00001', sk: 'ablate-secret-key-for-dws-encryption-01' };
  try {
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: dataDir,
      DWS_BOOTSTRAP_AK: credentials.ak,
      DWS_BOOTSTRAP_SK: credentials.sk,
      DWS_BOOTSTRAP_PROJECT_ID: projectId,
      DWS_BENCH_ABLATE: 'signature,metrics,request-log,request-id,serialize,store,client-signal',
    });
    const server = await startServer(config, { logger: false });
    try {
      const created = await signedCall(
        server.url,
        'POST',
        `/v2/${projectId}/clusters`,
        clusterBody('ablated'),
        credentials,
      );
      assert.ok(created.status < 300, created.text);
      const id = created.body.cluster.id as string;
      const path = `/v1/${projectId}/clusters/${id}/encrypt-info`;
      const first = await signedCall(server.url, 'GET', path, undefined, credentials);
      assert.equal(first.status, 200, first.text);
      // A plain (unencrypted) cluster: the contract's answer has every field null.
      assert.equal(first.body.cluster_id, null, first.text);
      // The access key is trusted without its signature (the switch the benchmark measures) ...
      const wrongSecret = await signedCall(server.url, 'GET', path, undefined, {
        ...credentials,
        sk: 'x'.repeat(40),
      });
      assert.equal(wrongSecret.status, 200);
      // ... but an unknown one is still refused.
      const unknown = await signedCall(server.url, 'GET', path, undefined, {
        ak: 'UNKNOWNAKEXAMPLE0001',
        sk: 'x',
      });
      assert.equal(unknown.status, 401);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
