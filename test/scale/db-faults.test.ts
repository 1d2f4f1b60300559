/**
 * Every "the store cannot be used" condition answers 503 STORE_UNAVAILABLE (never 500), and the instance
 * recovers by itself once the condition is gone. A PostgreSQL server of the test's own (initdb/pg_ctl on
 * a free port) is made to refuse the service in each way a real one does: pg_hba.conf rejects it (class
 * 28), the database does not accept connections (55000), too many connections (class 53), a lock that is
 * not granted in time (55P03), a statement cancelled by its timeout (class 57), the server stopped
 * (sockets refused). /readyz says "not ready" without the driver's detail, and the "connection lost"
 * warning carries the error's message and code only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { captureLog } from '../helpers/log-capture.js';
import { type OwnPostgres, ownPostgresSkip, startOwnPostgres } from '../helpers/own-postgres.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';

describe('store refusals answer 503', { skip: ownPostgresSkip() }, () => {
  let server: OwnPostgres;
  let admin: pg.Client;
  let ts: TestServer;
  let p: string;
  let clusterId: string;
  const log = captureLog('warn');

  const listClusters = () => ts.call('GET', `/v1.0/${p}/clusters`);
  const assert503 = async (what: string) => {
    const res = await listClusters();
    assert.equal(res.status, 503, `${what}: ${res.status} ${res.text}`);
    assert.equal(res.body.error_code, 'DWS.0503', what);
    const ready = await fetch(`${ts.baseUrl}/readyz`);
    const body = (await ready.json()) as { error_msg: string };
    assert.equal(ready.status, 503, `${what}: /readyz`);
    // Generic: nothing of the driver's message (host, port, role, database) reaches an anonymous caller.
    assert.doesNotMatch(body.error_msg, /127\.0\.0\.1|svc|dws|pg_hba|\d{4,5}/, what);
  };
  const recovers = (what: string) =>
    eventually(`${what}: recovery`, async () => (await listClusters()).status === 200);
  const dropServiceConnections = () =>
    admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'svc'");

  before(async () => {
    server = await startOwnPostgres();
    admin = new pg.Client({ connectionString: server.url() });
    admin.on('error', () => {});
    await admin.connect();
    await admin.query('CREATE ROLE svc LOGIN');
    await admin.query('CREATE DATABASE dws OWNER svc');
    ts = await startTestServer({
      env: {
        DATABASE_URL: `postgres://svc@127.0.0.1:${server.port}/dws`,
        DWS_ROOT_KEY: randomBytes(32).toString('base64'),
        DWS_DB_LOCK_TIMEOUT_SECONDS: '0.5',
      },
      logger: log.logger,
    });
    p = ts.projectId;
    const created = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('faults'));
    assert.equal(created.status, 200, created.text);
    clusterId = created.body.cluster.id;
  });
  after(async () => {
    await ts?.close({ removeData: true });
    await admin?.end().catch(() => {});
    server?.destroy();
  });

  test('class 28: pg_hba.conf rejects the service', async () => {
    server.setHba(['host all svc 127.0.0.1/32 reject']);
    await dropServiceConnections();
    try {
      await assert503('28000');
    } finally {
      server.setHba([]);
    }
    await recovers('28000');
  });

  test('55000: the database does not accept connections', async () => {
    await admin.query('ALTER DATABASE dws ALLOW_CONNECTIONS false');
    await dropServiceConnections();
    try {
      await assert503('55000');
    } finally {
      await admin.query('ALTER DATABASE dws ALLOW_CONNECTIONS true');
    }
    await recovers('55000');
  });

  test('class 53: too many connections', async () => {
    await admin.query('ALTER ROLE svc CONNECTION LIMIT 0');
    await dropServiceConnections();
    try {
      await assert503('53300');
    } finally {
      await admin.query('ALTER ROLE svc CONNECTION LIMIT -1');
    }
    await recovers('53300');
  });

  test('55P03 and class 57: a lock not granted in time, a statement cancelled by its timeout', async () => {
    // A second instance whose statement timeout ends the wait before its lock timeout does (57014).
    const impatient = await startTestServer({
      env: {
        DATABASE_URL: ts.config.databaseUrl,
        DWS_ROOT_KEY: ts.config.rootKey!,
        DWS_DB_LOCK_TIMEOUT_SECONDS: '600',
        DWS_DB_STATEMENT_TIMEOUT_SECONDS: '0.5',
      },
    });
    const holder = new pg.Client({ connectionString: server.url('dws') });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM clusters WHERE id = $1 FOR UPDATE', [clusterId]);
      const locked = await ts.call('DELETE', `/v1.0/${p}/clusters/${clusterId}`);
      assert.equal(locked.status, 503, `55P03: ${locked.text}`);
      assert.equal(locked.body.error_code, 'DWS.0506');
      const cancelled = await impatient.call('DELETE', `/v1.0/${p}/clusters/${clusterId}`);
      assert.equal(cancelled.status, 503, `57014: ${cancelled.text}`);
      assert.equal(cancelled.body.error_code, 'DWS.0503');
      const listed = await listClusters();
      assert.equal(listed.status, 200, listed.text);
    } finally {
      await holder.end();
      await impatient.close({ removeData: true });
    }
  });

  test('sockets refused: the server is stopped; recovery when it is back; the warning has no client object', async () => {
    server.stop();
    try {
      await assert503('stopped');
    } finally {
      server.start();
    }
    await recovers('stopped');
    const lost = log.lines().filter((entry) => entry.msg === 'database connection lost');
    assert.ok(lost.length > 0, 'a connection-lost warning was logged');
    for (const entry of lost) {
      assert.equal(typeof entry.error, 'string');
      assert.doesNotMatch(JSON.stringify(entry), /secretKey|processID|connectionParameters/);
    }
  });
});
