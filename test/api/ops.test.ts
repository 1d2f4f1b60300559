import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { clusterBody, startTestServer, type TestServer, waitForJob } from '../helpers/server.js';

/** The value of one sample line `name{labels} value` of a Prometheus text document (undefined if absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const body = line.slice(name.length + 1, close);
    const found = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

describe('health and readiness', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.close({ removeData: true });
  });

  test('/healthz answers 200 {"status":"ok"} without authentication', async () => {
    const res = await fetch(`${ts.baseUrl}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.ok(res.headers.get('x-request-id'), "res.headers.get('x-request-id')");
  });

  test('/readyz answers 200 with the store when it is reachable and migrated', async () => {
    const res = await fetch(`${ts.baseUrl}/readyz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; store: string; latency_ms: number };
    assert.equal(body.status, 'ok');
    assert.equal(body.store, 'sqlite');
    assert.equal(typeof body.latency_ms, 'number');
  });
});

describe('readiness with a failing store', () => {
  test('/readyz answers 503 in the error format once the database is closed; /healthz stays 200', async () => {
    const ts = await startTestServer();
    try {
      await ts.server.runner.stop();
      await ts.server.database.close();
      const res = await fetch(`${ts.baseUrl}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error_code: string; error_msg: string };
      assert.equal(body.error_code, 'DWS.0503');
      assert.match(body.error_msg, /^Not ready: the sqlite store/);
      assert.deepEqual(Object.keys(body).sort(), ['error_code', 'error_msg']);

      const live = await fetch(`${ts.baseUrl}/healthz`);
      assert.equal(live.status, 200);

      const metrics = await (await fetch(`${ts.baseUrl}/metrics`)).text();
      assert.equal(sample(metrics, 'dws_store_errors_total', { source: 'readiness' }), 1);
      assert.equal(
        sample(metrics, 'dws_http_requests_total', { method: 'GET', route: '/readyz', status: '503' }),
        1,
      );
    } finally {
      await ts.server.app.close();
      rmSync(ts.dataDir, { recursive: true, force: true });
    }
  });
});

describe('metrics', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.close({ removeData: true });
  });

  test('/metrics counts requests by route pattern and status, KMS operations, and finished jobs', async () => {
    const key = await ts.call('POST', `/v1.0/${ts.projectId}/kms/create-key`, {
      key_alias: 'metrics-key',
      key_spec: 'AES_256',
    });
    assert.equal(key.status, 200);
    const keyId = key.body.key_info.key_id as string;
    assert.equal(
      (await ts.call('POST', `/v1.0/${ts.projectId}/kms/describe-key`, { key_id: keyId })).status,
      200,
    );
    const missing = await ts.call('POST', `/v1.0/${ts.projectId}/kms/describe-key`, {
      key_id: '00000000-0000-4000-8000-000000000000',
    });
    assert.equal(missing.status, 404);
    const created = await ts.call('POST', `/v2/${ts.projectId}/clusters`, clusterBody('metrics-cluster'));
    const clusterId = created.body.cluster.id as string;
    const encrypt = await ts.call('POST', `/v2/${ts.projectId}/clusters/${clusterId}/encrypt`, {
      encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(encrypt.status, 200);
    assert.equal((await waitForJob(ts, encrypt.body.job_id)).status, 'SUCCESS');
    await ts.call('GET', `/v1/${ts.projectId}/clusters/${clusterId}/encrypt-info`);
    await ts.call('GET', `/v1/${ts.projectId}/clusters/${clusterId}/encrypt-info`);

    const res = await fetch(`${ts.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();

    // Route patterns, never raw URLs with ids.
    assert.equal(
      sample(text, 'dws_http_requests_total', {
        method: 'GET',
        route: '/v1/:project_id/clusters/:cluster_id/encrypt-info',
        status: '200',
      }),
      2,
    );
    assert.ok(!text.includes(clusterId), 'no cluster id in any label');
    assert.ok(
      (sample(text, 'dws_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1.0/:project_id/kms/create-key',
        status: '200',
      }) ?? 0) >= 1,
      "(sample(text, 'dws_http_request_duration_seconds_count', { method: 'POST', route: '/v1.0/:project_id/kms/create-key', status: '200', }) ?? 0) >= 1",
    );
    assert.equal(
      sample(text, 'dws_http_requests_total', {
        method: 'POST',
        route: '/v1.0/:project_id/kms/describe-key',
        status: '404',
      }),
      1,
    );
    assert.equal(
      sample(text, 'dws_kms_key_operations_total', { operation: 'kms:cmk:create', outcome: 'ok' }),
      1,
    );
    assert.equal(
      sample(text, 'dws_kms_key_operations_total', { operation: 'kms:cmk:get', outcome: 'ok' }),
      1,
    );
    assert.equal(
      sample(text, 'dws_kms_key_operations_total', { operation: 'kms:cmk:get', outcome: 'error' }),
      1,
    );
    assert.equal(sample(text, 'dws_jobs_finished_total', { job: 'encryptCluster', outcome: 'SUCCESS' }), 1);
    assert.equal(
      sample(text, 'dws_job_duration_seconds_count', { job: 'encryptCluster', outcome: 'SUCCESS' }),
      1,
    );
    assert.equal(sample(text, 'dws_store_errors_total', { source: 'request' }), 0);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  test('two apps in one process keep separate registries', async () => {
    const other = await startTestServer();
    try {
      const text = await (await fetch(`${other.baseUrl}/metrics`)).text();
      assert.equal(
        sample(text, 'dws_jobs_finished_total', { job: 'encryptCluster', outcome: 'SUCCESS' }),
        undefined,
      );
    } finally {
      await other.close({ removeData: true });
    }
  });
});

describe('metrics behind a token', () => {
  test('DWS_METRICS_TOKEN makes /metrics require Authorization: Bearer <token>', async () => {
    const ts = await startTestServer({ env: { DWS_METRICS_TOKEN: 'scrape-token-123' } });
    try {
      const none = await fetch(`${ts.baseUrl}/metrics`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error_code: string }).error_code, 'DWS.0107');
      const wrong = await fetch(`${ts.baseUrl}/metrics`, { headers: { Authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const right = await fetch(`${ts.baseUrl}/metrics`, {
        headers: { Authorization: 'Bearer scrape-token-123' },
      });
      assert.equal(right.status, 200);
      assert.match(await right.text(), /dws_http_requests_total/);
      // Health and readiness stay open.
      assert.equal((await fetch(`${ts.baseUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${ts.baseUrl}/readyz`)).status, 200);
    } finally {
      await ts.close({ removeData: true });
    }
  });
});
