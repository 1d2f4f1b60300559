/**
 * Per-project quotas (keys, nodes of clusters, unfinished jobs) and the per-access-key rate limit:
 * refusals in the error format, another project unaffected, and the per-account counts in /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { ACME, BETA, identitiesFixture, USERS } from '../helpers/iam.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';

function metricLine(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('defaults: 20 keys and 256 nodes (the cloud’s), 100 unfinished jobs, 1000 requests/s per key', () => {
  const config = loadConfig({});
  assert.deepEqual(config.quotas, { keys: 20, nodes: 256, activeJobs: 100 });
  assert.equal(config.rateLimitPerSecond, 1000);
  assert.equal(config.rateLimitBurst, 2000);
  assert.throws(() => loadConfig({ DWS_QUOTA_KEYS: '-1' }), /DWS_QUOTA_KEYS must be a number from 0/);
});

describe('project quotas', () => {
  let ts: TestServer;
  const p1 = ACME.p1.id;
  const admin = (method: string, path: string, body?: unknown) => ts.callAs(USERS.admin, method, path, body);
  let enabledKeyId = '';

  before(async () => {
    ts = await startTestServer({
      iamFile: identitiesFixture(),
      env: {
        DWS_QUOTA_KEYS: '2',
        DWS_QUOTA_NODES: '7',
        DWS_QUOTA_ACTIVE_JOBS: '1',
        DWS_ENCRYPT_JOB_SECONDS: '600',
      },
    });
  });
  after(() => ts.close({ removeData: true }));

  test('keys: the quota refuses with 400 KMS.0309; a key scheduled for deletion frees its place', async () => {
    const ids: string[] = [];
    for (const alias of ['q-key-1', 'q-key-2']) {
      const res = await admin('POST', `/v1.0/${p1}/kms/create-key`, { key_alias: alias });
      assert.equal(res.status, 200, res.text);
      ids.push(res.body.key_info.key_id);
    }
    enabledKeyId = ids[0]!;
    const refused = await admin('POST', `/v1.0/${p1}/kms/create-key`, { key_alias: 'q-key-3' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error_code, 'KMS.0309');
    assert.match(refused.body.error_msg, /key quota of 2/);
    // Another project of the same account has its own quota.
    assert.equal(
      (await ts.callAs(USERS.admin, 'POST', `/v1.0/${ACME.p2.id}/kms/create-key`, { key_alias: 'q-other' }))
        .status,
      200,
    );
    const scheduled = await admin('POST', `/v1.0/${p1}/kms/schedule-key-deletion`, {
      key_id: ids[1],
      pending_days: '7',
    });
    assert.equal(scheduled.status, 200, scheduled.text);
    assert.equal((await admin('POST', `/v1.0/${p1}/kms/create-key`, { key_alias: 'q-key-3' })).status, 200);
  });

  test('nodes: clusters count their num_node; beyond the quota 400 DWS.0414, nothing created', async () => {
    assert.equal((await admin('POST', `/v2/${p1}/clusters`, clusterBody('q-c1'))).status, 200);
    assert.equal((await admin('POST', `/v2/${p1}/clusters`, clusterBody('q-c2'))).status, 200);
    const refused = await admin('POST', `/v2/${p1}/clusters`, clusterBody('q-c3'));
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error_code, 'DWS.0414');
    assert.match(refused.body.error_msg, /6 nodes; 3 more would exceed its node quota of 7/);
    const list = await admin('GET', `/v1.0/${p1}/clusters`);
    assert.deepEqual(list.body.clusters.map((c: { name: string }) => c.name).sort(), ['q-c1', 'q-c2']);
    assert.equal(
      (await admin('POST', `/v2/${p1}/clusters`, clusterBody('q-c4', { num_node: 1 }))).status,
      200,
    );
  });

  test('unfinished jobs: the project’s own quota (400 DWS.0415) leaves other accounts their conversions', async () => {
    const clusters = (await admin('GET', `/v1.0/${p1}/clusters`)).body.clusters as {
      id: string;
      name: string;
    }[];
    const encrypt = (id: string) =>
      admin('POST', `/v2/${p1}/clusters/${id}/encrypt`, {
        encrypt: { master_key_id: enabledKeyId, crypt_algorithm: 'generalCipher' },
      });
    assert.equal((await encrypt(clusters[0]!.id)).status, 200);
    const refused = await encrypt(clusters[1]!.id);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error_code, 'DWS.0415');

    // A stranger's conversion is not refused because of acme's jobs.
    const b1 = BETA.p1.id;
    const beta = (method: string, path: string, body?: unknown) =>
      ts.callAs(USERS.betaAdmin, method, path, body);
    const betaKey = (await beta('POST', `/v1.0/${b1}/kms/create-key`, { key_alias: 'beta-conv' })).body
      .key_info.key_id;
    const betaCluster = (await beta('POST', `/v2/${b1}/clusters`, clusterBody('beta-c1'))).body.cluster.id;
    const accepted = await beta('POST', `/v2/${b1}/clusters/${betaCluster}/encrypt`, {
      encrypt: { master_key_id: betaKey, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(accepted.status, 200, accepted.text);

    const metrics = await (await fetch(`${ts.baseUrl}/metrics`)).text();
    assert.equal(
      metricLine(metrics, 'dws_quota_refusals_total', `account="${ACME.domainId}",quota="keys"`),
      1,
    );
    assert.equal(
      metricLine(metrics, 'dws_quota_refusals_total', `account="${ACME.domainId}",quota="nodes"`),
      1,
    );
    assert.equal(
      metricLine(metrics, 'dws_quota_refusals_total', `account="${ACME.domainId}",quota="active_jobs"`),
      1,
    );
  });
});

describe('delayed cluster creations count as jobs', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      env: { DWS_QUOTA_ACTIVE_JOBS: '1', DWS_CLUSTER_CREATE_SECONDS: '600', DWS_QUOTA_NODES: '1000' },
    });
  });
  after(() => ts.close({ removeData: true }));

  test('a second creation while the first is CREATING is refused by the job quota', async () => {
    assert.equal((await ts.call('POST', `/v2/${ts.projectId}/clusters`, clusterBody('slow-1'))).status, 200);
    const refused = await ts.call('POST', `/v2/${ts.projectId}/clusters`, clusterBody('slow-2'));
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error_code, 'DWS.0415');
  });
});

describe('per-access-key rate limit', () => {
  let ts: TestServer;
  let clock = Date.now();
  const p1 = ACME.p1.id;

  before(async () => {
    ts = await startTestServer({
      iamFile: identitiesFixture(),
      now: () => clock,
      env: { DWS_RATE_LIMIT_PER_SECOND: '2', DWS_RATE_LIMIT_BURST: '3' },
    });
  });
  after(() => ts.close({ removeData: true }));

  test('beyond the burst: 429 APIGW.0308 with Retry-After; other keys unaffected; refilled over time', async () => {
    const list = (who: { ak: string; sk: string }) => ts.callAs(who, 'GET', `/v1.0/${p1}/clusters`);
    for (let i = 0; i < 3; i++) assert.equal((await list(USERS.admin)).status, 200);
    const throttled = await list(USERS.admin);
    assert.equal(throttled.status, 429, throttled.text);
    assert.deepEqual(Object.keys(throttled.body).sort(), ['error_code', 'error_msg']);
    assert.equal(throttled.body.error_code, 'APIGW.0308');
    assert.equal(throttled.headers.get('retry-after'), '1');
    assert.ok(throttled.headers.get('x-request-id'), "throttled.headers.get('x-request-id')");
    assert.equal((await list(USERS.operator)).status, 200, 'another access key has its own bucket');
    clock += 500; // half a second refills one request at 2/s
    assert.equal((await list(USERS.admin)).status, 200);
    assert.equal((await list(USERS.admin)).status, 429);
    // A wrong signature never spends the key's bucket (only a proven key is counted).
    clock += 10_000;
    for (let i = 0; i < 5; i++) {
      const forged = await ts.callAs(
        { ak: USERS.admin.ak, sk: 'not-the-secret-key-at-all' },
        'GET',
        `/v1.0/${p1}/clusters`,
      );
      assert.equal(forged.status, 401);
    }
    assert.equal((await list(USERS.admin)).status, 200);

    const metrics = await (await fetch(`${ts.baseUrl}/metrics`)).text();
    assert.equal(metricLine(metrics, 'dws_throttled_requests_total', `account="${ACME.domainId}"`), 2);
  });
});
