/**
 * Losing the database: requests answer 503 in the error format (never a crash, never a 500), the
 * instance recovers by itself when the database is back, and a job interrupted by the outage finishes
 * exactly once afterwards. The database is taken away with a TCP relay between the service and the
 * shared PostgreSQL server, so nothing else is disturbed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../../src/store/database.js';
import { checkStoreReadiness } from '../../src/store/health.js';
import { eventually } from '../helpers/eventually.js';
import { clusterBody, startTestServer, type TestServer, waitForJob } from '../helpers/server.js';
import {
  createTestDatabase,
  POSTGRES_ADMIN_URL,
  postgresSkip,
  type TestDatabase,
} from '../helpers/stores.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

describe('PostgreSQL outage', { skip: postgresSkip() }, () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let ts: TestServer;
  let p: string;
  let keyId: string;

  before(async () => {
    database = await createTestDatabase();
    const admin = new URL(POSTGRES_ADMIN_URL);
    proxy = await startTcpProxy(Number(admin.port || 5432), admin.hostname);
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    proxiedUrl = url.toString();
    ts = await startTestServer({
      database,
      env: { DATABASE_URL: proxiedUrl, DWS_ENCRYPT_JOB_SECONDS: '1', DWS_JOB_LEASE_SECONDS: '1' },
    });
    p = ts.projectId;
    const key = await ts.call('POST', `/v1.0/${p}/kms/create-key`, {
      key_alias: 'outage',
      key_spec: 'AES_256',
    });
    assert.equal(key.status, 200, key.text);
    keyId = key.body.key_info.key_id;
  });
  after(async () => {
    await proxy.restore();
    await ts.close({ removeData: true });
    await proxy.close();
    await database.drop();
  });

  test('while the database is away every store-backed request answers 503 in the error format', async () => {
    const created = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('before-outage'));
    assert.equal(created.status, 200, created.text);
    await proxy.cut();
    try {
      const list = await ts.call('GET', `/v1.0/${p}/clusters`);
      assert.equal(list.status, 503, list.text);
      assert.deepEqual(Object.keys(list.body).sort(), ['error_code', 'error_msg']);
      assert.equal(list.body.error_code, 'DWS.0503');
      const info = await ts.call('GET', `/v1/${p}/clusters/${created.body.cluster.id}/encrypt-info`);
      assert.equal(info.status, 503, info.text);
      const create = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('during-outage'));
      assert.equal(create.status, 503, create.text);
      const describeKey = await ts.call('POST', `/v1.0/${p}/kms/describe-key`, { key_id: keyId });
      assert.equal(describeKey.status, 503, describeKey.text);
      assert.equal(describeKey.body.error_code, 'KMS.0503');
      const readiness = await checkStoreReadiness(ts.server.database);
      assert.equal(readiness.ready, false);
      assert.ok(readiness.reason, 'readiness.reason');
    } finally {
      await proxy.restore();
    }
    // Back: the pool opens new connections by itself; no restart.
    await eventually('requests succeed again', async () => {
      const res = await ts.call('GET', `/v1.0/${p}/clusters`);
      return res.status === 200;
    });
    const again = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('after-outage'));
    assert.equal(again.status, 200, again.text);
    assert.equal((await checkStoreReadiness(ts.server.database)).ready, true);
  });

  test('connections killed by the server are replaced: the instance recovers without a restart', async () => {
    assert.equal((await ts.call('GET', `/v1.0/${p}/clusters`)).status, 200);
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [database.name],
      );
      assert.ok(killed.rowCount! > 0, 'the instance had open connections');
    } finally {
      await admin.end();
    }
    const statuses: number[] = [];
    await eventually('a request succeeds', async () => {
      const res = await ts.call('GET', `/v1.0/${p}/clusters`);
      statuses.push(res.status);
      return res.status === 200;
    });
    for (const status of statuses) assert.ok(status === 200 || status === 503, `answered ${status}`);
  });

  test('a conversion cut off by an outage longer than its lease finishes, once, when the database is back', async () => {
    const clusterId = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('converting'))).body.cluster.id;
    const res = await ts.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, {
      encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(res.status, 200, res.text);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await proxy.restore();
    const job = await waitForJob(ts, res.body.job_id);
    assert.equal(job.status, 'SUCCESS', JSON.stringify(job));
    const direct = await openDatabase({ url: database.url, poolSize: 1 });
    try {
      const successes = await direct.db
        .selectFrom('audit_events')
        .select('id')
        .where('resource_id', '=', clusterId)
        .where('action', '=', 'dws:cluster:encrypt')
        .where('result', '=', 'success')
        .execute();
      assert.equal(successes.length, 1);
      const versions = await direct.db
        .selectFrom('cluster_data_keys')
        .select('version')
        .where('cluster_id', '=', clusterId)
        .execute();
      assert.deepEqual(versions, [{ version: 1 }]);
    } finally {
      await direct.close();
    }
  });
});
