/**
 * The cluster operations official clients call around encryption, signed by the official signer:
 * ShowClusters (GET /v2), CreateCluster v1 (POST /v1.0, CreateClusterInfo), DeleteDwsCluster (DELETE /v2,
 * asynchronous), and the fields and formats of the official ClusterInfo / ClusterDetail models.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clusterBody, startTestServer, type TestServer, waitForJob } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** CreateClusterInfo as the official v1.0 model names its fields. */
function v1Body(name: string, extra: Record<string, unknown> = {}) {
  return {
    cluster: {
      name,
      node_type: 'dws.m3.xlarge',
      number_of_node: 3,
      subnet_id: 'a9b2d2e1-1b4c-4b8b-9b5e-8f2b2e1c2d3e',
      security_group_id: 'dc3ec145-9029-4b39-b5a3-ace5a01f772b',
      vpc_id: '85b20d7e-9eb7-4b2a-98f3-3c8843ea3574',
      availability_zone: 'cn-north-4a',
      port: 8000,
      user_name: 'dbadmin',
      user_pwd: 'Secret!Passw0rd',
      public_ip: { public_bind_type: 'not_use' },
      number_of_cn: 3,
      ...extra,
    },
  };
}

/** The types of every ClusterInfo field (official model), and of the ClusterDetail extras. */
function assertClusterInfo(c: any): void {
  for (const f of [
    'id',
    'name',
    'status',
    'version',
    'user_name',
    'availability_zone',
    'enterprise_project_id',
  ]) {
    assert.equal(typeof c[f], 'string', f);
  }
  for (const f of ['node_type', 'vpc_id', 'subnet_id', 'security_group_id', 'sub_status', 'task_status']) {
    assert.equal(typeof c[f], 'string', f);
  }
  assert.match(c.created, ISO_SECONDS);
  assert.match(c.updated, ISO_SECONDS);
  assert.equal(typeof c.port, 'number');
  assert.equal(typeof c.number_of_node, 'number');
  assert.equal(typeof c.recent_event, 'number');
  assert.ok(
    Array.isArray(c.endpoints) && c.endpoints.length > 0,
    'Array.isArray(c.endpoints) && c.endpoints.length > 0',
  );
  assert.ok(Array.isArray(c.public_endpoints), 'Array.isArray(c.public_endpoints)');
  assert.ok(Array.isArray(c.tags), 'Array.isArray(c.tags)');
  assert.equal(c.nodes.length, c.number_of_node);
  for (const node of c.nodes) {
    assert.deepEqual(Object.keys(node).sort(), ['id', 'name', 'status']);
    for (const v of Object.values(node)) assert.equal(typeof v, 'string');
  }
  assert.ok(
    c.public_ip === null || typeof c.public_ip.public_bind_type === 'string',
    "c.public_ip === null || typeof c.public_ip.public_bind_type === 'string'",
  );
  assert.ok(
    c.failed_reasons === null || 'error_code' in c.failed_reasons,
    "c.failed_reasons === null || 'error_code' in c.failed_reasons",
  );
  assert.equal(typeof c.action_progress, 'object');
  for (const v of Object.values(c.action_progress)) assert.match(v as string, /^\d{1,3}%$/);
}

function assertClusterDetail(c: any): void {
  assertClusterInfo(c);
  assert.deepEqual(Object.keys(c.parameter_group).sort(), ['id', 'name', 'status']);
  assert.match(c.parameter_group.id, /^[0-9a-f-]{36}$/);
  assert.match(c.node_type_id, /^[0-9a-f-]{36}$/);
  assert.equal(c.order_id, null);
  assert.equal(c.private_ip.length, c.number_of_node);
  for (const ip of c.private_ip) assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.deepEqual(Object.keys(c.maintain_window).sort(), ['day', 'end_time', 'start_time']);
  assert.equal(c.resize_info, null);
  assert.equal(c.elb, null);
}

/** The audit records of one cluster, oldest first: [action, result]. */
async function auditOf(ts: TestServer, clusterId: string): Promise<[string, string][]> {
  const res = await ts.call('GET', `/v1/${ts.projectId}/audit-events`, undefined, {
    query: { limit: '1000' },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.events
    .filter((e: { resource_id: string }) => e.resource_id === clusterId)
    .reverse()
    .map((e: { action: string; result: string }) => [e.action, e.result]);
}

for (const store of stores()) {
  describe(`cluster operations of the official clients (${store})`, () => {
    let ts: TestServer;
    let p: string;

    before(async () => {
      ts = await startTestServer({ store });
      p = ts.projectId;
    });
    after(() => ts.close({ removeData: true }));

    test('POST /v1.0 creates from CreateClusterInfo; the detail reports it in the official fields', async () => {
      const created = await ts.call('POST', `/v1.0/${p}/clusters`, v1Body('v1-made', { port: 8123 }));
      assert.equal(created.status, 200, created.text);
      const id = created.body.cluster.id;
      assert.match(id, /^[0-9a-f-]{36}$/);
      const detail = await ts.call('GET', `/v1.0/${p}/clusters/${id}`);
      assert.equal(detail.status, 200, detail.text);
      const c = detail.body.cluster;
      assertClusterDetail(c);
      assert.equal(c.name, 'v1-made');
      assert.equal(c.node_type, 'dws.m3.xlarge');
      assert.equal(c.number_of_node, 3);
      assert.equal(c.port, 8123);
      assert.equal(c.user_name, 'dbadmin');
      assert.equal(c.availability_zone, 'cn-north-4a');
      assert.deepEqual(c.public_ip, { public_bind_type: 'not_use', eip_id: null });
      assert.equal(c.status, 'AVAILABLE');
      assert.deepEqual(c.action_progress, {});
      const dup = await ts.call('POST', `/v1.0/${p}/clusters`, v1Body('v1-made'));
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error_code, 'DWS.0303');
    });

    test('X-Client-Token: a retried v1.0 create makes one cluster, a retried v2 delete one job', async () => {
      const token = { headers: { 'X-Client-Token': 'v1-create-once' } };
      const first = await ts.call('POST', `/v1.0/${p}/clusters`, v1Body('v1-once'), token);
      assert.equal(first.status, 200, first.text);
      const again = await ts.call('POST', `/v1.0/${p}/clusters`, v1Body('v1-once'), token);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.headers.get('x-client-token-replayed'), 'true');
      assert.deepEqual(again.body, first.body);
      const id = first.body.cluster.id;
      const delToken = { headers: { 'X-Client-Token': 'v2-delete-once' } };
      const del = await ts.call('DELETE', `/v2/${p}/clusters/${id}`, undefined, delToken);
      assert.equal(del.status, 202, del.text);
      const delAgain = await ts.call('DELETE', `/v2/${p}/clusters/${id}`, undefined, delToken);
      assert.equal(delAgain.status, 202, delAgain.text);
      assert.deepEqual(delAgain.body, del.body, 'the same job');
      assert.equal((await waitForJob(ts, del.body.job_id)).status, 'SUCCESS');
    });

    test('POST /v1.0 validates like the v2 create', async () => {
      const missing = await ts.call('POST', `/v1.0/${p}/clusters`, { cluster: { name: 'v1-missing' } });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error_code, 'DWS.0001');
      assert.match(missing.body.error_msg, /required field/);
      const badBind = await ts.call(
        'POST',
        `/v1.0/${p}/clusters`,
        v1Body('v1-badbind', { public_ip: { public_bind_type: 'sometimes' } }),
      );
      assert.equal(badBind.status, 400);
      assert.match(badBind.body.error_msg, /must be one of: auto_assign, not_use, bind_existing/);
      const tooFew = await ts.call('POST', `/v1.0/${p}/clusters`, v1Body('v1-small', { number_of_node: 2 }));
      assert.equal(tooFew.status, 400);
      assert.match(tooFew.body.error_msg, /number_of_node/);
    });

    test('GET /v2 lists what GET /v1.0 lists, with the enterprise-project filter', async () => {
      await ts.call('POST', `/v2/${p}/clusters`, clusterBody('v2-listed'));
      const v1 = await ts.call('GET', `/v1.0/${p}/clusters`);
      const v2 = await ts.call('GET', `/v2/${p}/clusters`);
      assert.equal(v2.status, 200, v2.text);
      assert.deepEqual(v2.body, v1.body);
      assert.ok(v2.body.count >= 1, 'v2.body.count >= 1');
      for (const c of v2.body.clusters) assertClusterInfo(c);
      const none = await ts.call('GET', `/v2/${p}/clusters`, undefined, {
        query: { enterprise_project_id: '11111111-2222-4333-8444-555555555555' },
      });
      assert.deepEqual(none.body, { clusters: [], count: 0 });
    });

    test('DELETE /v2 answers 202 with a job; the job removes the cluster and its keys', async () => {
      const id = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('v2-deleted'))).body.cluster.id;
      const del = await ts.call('DELETE', `/v2/${p}/clusters/${id}`, undefined, {
        query: { keep_last_manual_backup: '0', release_eip_type: 'NO_RELEASE' },
      });
      assert.equal(del.status, 202, del.text);
      assert.match(del.body.job_id, /^[0-9a-f-]{36}$/);
      const job = await waitForJob(ts, del.body.job_id);
      assert.equal(job.status, 'SUCCESS', JSON.stringify(job));
      assert.equal(job.job_name, 'deleteCluster');
      assert.equal(job.progress, '100%');
      const gone = await ts.call('GET', `/v1.0/${p}/clusters/${id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error_code, 'DWS.0301');
      const again = await ts.call('DELETE', `/v2/${p}/clusters/${id}`);
      assert.equal(again.status, 404);
      // Audited: the creation, then the deletion when accepted and when its job ended.
      assert.deepEqual(await auditOf(ts, id), [
        ['dws:openAPICluster:create', 'success'],
        ['dws:openAPICluster:delete', 'accepted'],
        ['dws:openAPICluster:delete', 'success'],
      ]);
    });

    test('POST /v1.0 is audited like the v2 create, with the caller', async () => {
      const created = await ts.call('POST', `/v1.0/${p}/clusters`, v1Body('v1-audited'));
      assert.equal(created.status, 200, created.text);
      assert.deepEqual(await auditOf(ts, created.body.cluster.id), [
        ['dws:openAPICluster:create', 'success'],
      ]);
      const events = await ts.call('GET', `/v1/${p}/audit-events`, undefined, { query: { limit: '1' } });
      assert.equal(events.body.events[0].access_key, ts.ak);
      assert.equal(events.body.events[0].request_id, created.headers.get('x-request-id'));
    });

    test('DELETE /v2 refuses bad query values and an unknown cluster', async () => {
      const id = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('v2-badquery'))).body.cluster.id;
      const bad = await ts.call('DELETE', `/v2/${p}/clusters/${id}`, undefined, {
        query: { release_eip_type: 'KEEP' },
      });
      assert.equal(bad.status, 400);
      assert.equal(
        bad.body.error_msg,
        'querystring field release_eip_type must be one of: NO_RELEASE, RELEASE_BINDING.',
      );
      const unknown = await ts.call('DELETE', `/v2/${p}/clusters/7d85f602-a948-4a30-afd4-e84f47471c15`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error_code, 'DWS.0301');
      assert.equal((await ts.call('GET', `/v1.0/${p}/clusters/${id}`)).body.cluster.status, 'AVAILABLE');
    });
  });
}

describe('clusters in the middle of a job: task_status and action_progress as a percentage', () => {
  let ts: TestServer;
  let p: string;

  before(async () => {
    // Jobs that outlast the test: the states in between are stable to look at.
    ts = await startTestServer({
      env: { DWS_ENCRYPT_JOB_SECONDS: '3600', DWS_CLUSTER_DELETE_SECONDS: '3600' },
    });
    p = ts.projectId;
  });
  after(() => ts.close({ removeData: true }));

  test('a converting cluster reports ENCRYPTING with a percentage, and cannot be deleted (v1 and v2)', async () => {
    const keyId = (await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'progress-key' })).body
      .key_info.key_id;
    const id = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('converting'))).body.cluster.id;
    const started = await ts.call('POST', `/v2/${p}/clusters/${id}/encrypt`, {
      encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(started.status, 200, started.text);
    const c = (await ts.call('GET', `/v1.0/${p}/clusters/${id}`)).body.cluster;
    assert.equal(c.task_status, 'ENCRYPTING');
    assert.deepEqual(Object.keys(c.action_progress), ['ENCRYPTING']);
    assert.match(c.action_progress.ENCRYPTING, /^\d{1,2}%$/);
    const listed = (await ts.call('GET', `/v2/${p}/clusters`)).body.clusters.find((x: any) => x.id === id);
    assert.deepEqual(Object.keys(listed.action_progress), ['ENCRYPTING']);
    for (const path of [`/v2/${p}/clusters/${id}`, `/v1.0/${p}/clusters/${id}`]) {
      const refused = await ts.call('DELETE', path);
      assert.equal(refused.status, 400, path);
      assert.equal(refused.body.error_code, 'DWS.0403', path);
    }
  });

  test('a cluster being deleted shows DELETING and refuses a second deletion and conversions', async () => {
    const id = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('deleting'))).body.cluster.id;
    const del = await ts.call('DELETE', `/v2/${p}/clusters/${id}`);
    assert.equal(del.status, 202, del.text);
    const c = (await ts.call('GET', `/v1.0/${p}/clusters/${id}`)).body.cluster;
    assert.equal(c.status, 'DELETING');
    assert.equal(c.task_status, 'DELETING');
    assert.match(c.action_progress.DELETING, /^\d{1,2}%$/);
    const job = (await ts.call('GET', `/v1.0/${p}/job/${del.body.job_id}`)).body;
    assert.ok(['INIT', 'RUNNING'].includes(job.status), job.status);
    for (const path of [`/v2/${p}/clusters/${id}`, `/v1.0/${p}/clusters/${id}`]) {
      const again = await ts.call('DELETE', path);
      assert.equal(again.status, 400, path);
      assert.equal(again.body.error_code, 'DWS.0411', path);
    }
    const keyId = (await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'deleting-key' })).body
      .key_info.key_id;
    const encrypt = await ts.call('POST', `/v2/${p}/clusters/${id}/encrypt`, {
      encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(encrypt.status, 400);
    assert.equal(encrypt.body.error_code, 'DWS.0401');
  });

  test('a cluster being created cannot be deleted through v2 until it is AVAILABLE', async () => {
    const slow = await startTestServer({ env: { DWS_CLUSTER_CREATE_SECONDS: '3600' } });
    try {
      const id = (await slow.call('POST', `/v2/${slow.projectId}/clusters`, clusterBody('creating'))).body
        .cluster.id;
      const c = (await slow.call('GET', `/v1.0/${slow.projectId}/clusters/${id}`)).body.cluster;
      assert.equal(c.task_status, 'CREATING');
      assert.match(c.action_progress.CREATING, /^\d{1,2}%$/);
      const refused = await slow.call('DELETE', `/v2/${slow.projectId}/clusters/${id}`);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error_code, 'DWS.0411');
    } finally {
      await slow.close({ removeData: true });
    }
  });
});
