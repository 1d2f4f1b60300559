/**
 * One stuck instance must not take the healthy ones down. A session that holds a cluster's row lock and
 * does nothing more (an instance paused right after its SELECT ... FOR UPDATE) is played by the test's
 * own connection. Against it:
 * - a rotation of that cluster waits at most DWS_DB_LOCK_TIMEOUT_SECONDS, then answers 503 STORE_BUSY;
 * - transactions never take the whole pool (DWS_DB_READ_RESERVE), so reads keep answering 200 however
 *   many rotations queue on the lock, even ones whose lock wait no timeout ends;
 * - a client that disconnects stops the wait at once (the statement is cancelled), and its rotation is
 *   never committed, even once the lock is free.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { captureLog } from '../helpers/log-capture.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/stores.js';

describe('a row lock held by a stuck session', { skip: postgresSkip() }, () => {
  let database: TestDatabase;
  let ts: TestServer;
  let patient: TestServer;
  let stuck: pg.Client;
  let observer: pg.Client;
  let p: string;
  let locked: string;
  let other: string;
  const patientLog = captureLog();

  before(async () => {
    database = await createTestDatabase();
    // Pool of 4: at most 2 transactions at once (30 % kept for reads), as many rotations as that queue.
    ts = await startTestServer({
      database,
      env: { DATABASE_POOL_SIZE: '4', DWS_DB_LOCK_TIMEOUT_SECONDS: '1' },
    });
    // The same database, with timeouts longer than the test: only a disconnect can end its wait. Its
    // pool of 10 keeps 3 connections for reads (7 transaction slots).
    patient = await startTestServer({
      database,
      env: {
        DWS_DB_LOCK_TIMEOUT_SECONDS: '600',
        DWS_DB_STATEMENT_TIMEOUT_SECONDS: '600',
        DWS_STORE_CALL_TIMEOUT_SECONDS: '600',
      },
      logger: patientLog.logger,
    });
    p = ts.projectId;
    const key = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'lock-wait' });
    assert.equal(key.status, 200, key.text);
    const encryption = { master_key_id: key.body.key_info.key_id, crypt_algorithm: 'generalCipher' };
    const a = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('locked', encryption));
    const b = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('other', encryption));
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    locked = a.body.cluster.id;
    other = b.body.cluster.id;
    await eventually('clusters available', async () => {
      const rows = await ts.call('GET', `/v1.0/${p}/clusters`);
      return rows.body.clusters.every((c: { status: string }) => c.status === 'AVAILABLE');
    });
    stuck = new pg.Client({ connectionString: database.url });
    await stuck.connect();
    await stuck.query('BEGIN');
    await stuck.query('SELECT id FROM clusters WHERE id = $1 FOR UPDATE', [locked]);
    observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
  });
  /**
   * Sessions of the service waiting for a lock (the rotations queued on the stuck session's row), seen
   * outside any transaction: inside one, pg_stat_activity keeps the sessions of its first read.
   */
  const waiting = async () => {
    const { rows } = await observer.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'dws-encryption' AND wait_event_type = 'Lock'`,
      [database.name],
    );
    return rows[0].n as number;
  };

  after(async () => {
    await stuck?.query('ROLLBACK').catch(() => {});
    await stuck?.end().catch(() => {});
    await observer?.end().catch(() => {});
    await patient?.close();
    await ts?.close();
    await database?.drop();
  });

  test('rotations of the locked cluster answer 503 after the lock timeout; reads and other clusters keep working', async () => {
    const rotations = Array.from({ length: 8 }, () =>
      ts.call('POST', `/v1/${p}/clusters/${locked}/rotate-key`),
    );
    const reads = Array.from({ length: 8 }, () => ts.call('GET', `/v1/${p}/clusters/${other}/encrypt-info`));
    const lists = Array.from({ length: 4 }, () => ts.call('GET', `/v1.0/${p}/clusters`));
    const [rotated, read, listed] = await Promise.all([
      Promise.all(rotations),
      Promise.all(reads),
      Promise.all(lists),
    ]);
    for (const res of [...read, ...listed]) assert.equal(res.status, 200, res.text);
    for (const res of rotated) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.error_code, 'DWS.0506');
      assert.ok(res.headers.get('retry-after'), "res.headers.get('retry-after')");
    }
    const elsewhere = await ts.call('POST', `/v1/${p}/clusters/${other}/rotate-key`);
    assert.equal(elsewhere.status, 200, elsewhere.text);
    const ready = await fetch(`${ts.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
  });

  test('rotations whose lock wait never ends hold the transaction share of the pool only: reads keep answering', async () => {
    // 12 rotations on a pool of 10 with no lock timeout to end them: without a reserve they would take
    // every connection and each read would wait for the pool until it gave up (503).
    const controllers = Array.from({ length: 12 }, () => new AbortController());
    const rotations = controllers.map((controller) =>
      patient
        .call('POST', `/v1/${p}/clusters/${locked}/rotate-key`, undefined, { signal: controller.signal })
        .catch((error: Error) => error),
    );
    try {
      await eventually(
        'the transaction slots wait on the lock',
        async () => (await waiting()) >= 7,
        120_000,
        50,
      );
      const reads = await Promise.all([
        ...Array.from({ length: 8 }, () => patient.call('GET', `/v1/${p}/clusters/${other}/encrypt-info`)),
        ...Array.from({ length: 4 }, () => patient.call('GET', `/v1.0/${p}/clusters`)),
      ]);
      for (const res of reads) assert.equal(res.status, 200, res.text);
      assert.equal(await waiting(), 7, 'no more rotations wait on the lock than there are transaction slots');
      assert.equal((await fetch(`${patient.baseUrl}/readyz`)).status, 200);
    } finally {
      for (const controller of controllers) controller.abort();
      await Promise.all(rotations);
    }
    for (const res of await Promise.all(rotations)) assert.ok(res instanceof Error, 'no rotation answered');
    await eventually('every wait is cancelled', async () => (await waiting()) === 0, 120_000, 50);
  });

  test('a client that disconnects while its rotation waits for the lock stops the wait; nothing is committed', async () => {
    const before = await stuck.query('SELECT last_rotate_key_at FROM clusters WHERE id = $1', [locked]);
    const controller = new AbortController();
    const call = patient
      .call('POST', `/v1/${p}/clusters/${locked}/rotate-key`, undefined, { signal: controller.signal })
      .catch((error: Error) => error);
    await eventually('the rotation waits for the lock', async () => (await waiting()) === 1, 120_000, 50);
    controller.abort();
    assert.ok((await call) instanceof Error, '(await call) instanceof Error');
    await eventually('the wait is cancelled', async () => (await waiting()) === 0, 120_000, 50);
    // The lock is freed: a rotation that had only been waiting would now commit.
    await stuck.query('ROLLBACK');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterwards = await stuck.query('SELECT last_rotate_key_at FROM clusters WHERE id = $1', [locked]);
    assert.deepEqual(afterwards.rows, before.rows);
    // The request that was never answered still has its request-log line.
    assert.ok(
      patientLog
        .lines()
        .some((l) => l.msg === 'request' && String(l.route).endsWith('/rotate-key') && l.status === 499),
      patientLog.text(),
    );
  });
});
