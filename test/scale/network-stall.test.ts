/**
 * A network partition between an instance and its database: connections stay open and nothing comes
 * back, so neither PostgreSQL's timeouts nor a refused socket can end a request. The client-side bound
 * on every store call (DWS_STORE_CALL_TIMEOUT_SECONDS) does: requests answer 503 instead of hanging as
 * long as the partition, each has its request-log line, and when the partition ends nothing the
 * instance sent meanwhile is executed late; a retry with the same X-Client-Token then acts once. A
 * PostgreSQL server of the test's own sits behind a TCP relay that holds every byte back (and delivers
 * it, in order, once the partition is over, as TCP retransmission does).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { captureLog } from '../helpers/log-capture.js';
import { type OwnPostgres, ownPostgresSkip, startOwnPostgres } from '../helpers/own-postgres.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

describe('a network partition between an instance and its database', {
  skip: ownPostgresSkip(),
  timeout: 300_000,
}, () => {
  let server: OwnPostgres;
  let admin: pg.Client;
  let proxy: TcpProxy;
  let ts: TestServer;
  let p: string;
  let clusterId: string;
  const log = captureLog();

  const dataKeyVersions = async () =>
    (await admin.query('SELECT count(*)::int AS n FROM cluster_data_keys WHERE cluster_id = $1', [clusterId]))
      .rows[0].n as number;

  before(async () => {
    server = await startOwnPostgres();
    admin = new pg.Client({ connectionString: server.url() });
    admin.on('error', () => {});
    await admin.connect();
    await admin.query('CREATE DATABASE dws');
    await admin.end();
    admin = new pg.Client({ connectionString: server.url('dws') });
    admin.on('error', () => {});
    await admin.connect();
    proxy = await startTcpProxy(server.port);
    ts = await startTestServer({
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/dws`,
        DWS_ROOT_KEY: randomBytes(32).toString('base64'),
        DWS_STORE_CALL_TIMEOUT_SECONDS: '1',
      },
      logger: log.logger,
    });
    p = ts.projectId;
    const key = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'partition' });
    assert.equal(key.status, 200, key.text);
    const created = await ts.call(
      'POST',
      `/v2/${p}/clusters`,
      clusterBody('partition', { master_key_id: key.body.key_info.key_id, crypt_algorithm: 'generalCipher' }),
    );
    assert.equal(created.status, 200, created.text);
    clusterId = created.body.cluster.id;
  });
  after(async () => {
    proxy?.resume();
    await ts?.close({ removeData: true });
    await proxy?.close();
    await admin?.end().catch(() => {});
    server?.destroy();
  });

  test('requests answer 503 instead of waiting for the partition to end; nothing runs late; a retry acts once', async () => {
    const rotate = (signal?: AbortSignal) =>
      ts.call('POST', `/v1/${p}/clusters/${clusterId}/rotate-key`, undefined, {
        headers: { 'X-Client-Token': 'partition-1' },
        ...(signal ? { signal } : {}),
      });
    const versions = await dataKeyVersions();
    // Open connections in the pool, so the requests below send their queries into the partition (rather
    // than only failing to open a connection).
    for (const res of await Promise.all(
      Array.from({ length: 8 }, () => ts.call('GET', `/v1.0/${p}/clusters`)),
    )) {
      assert.equal(res.status, 200, res.text);
    }
    proxy.stall();
    let answers: Awaited<ReturnType<typeof rotate>>[];
    let ready: Response;
    try {
      // Without a client-side bound these would wait as long as the partition lasts (here: until the
      // test gives up on them).
      const signal = AbortSignal.timeout(90_000);
      [answers, ready] = await Promise.all([
        Promise.all([
          rotate(signal),
          ts.call('GET', `/v1.0/${p}/clusters`, undefined, { signal }),
          ts.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`, undefined, { signal }),
        ]),
        fetch(`${ts.baseUrl}/readyz`, { signal }),
      ]);
    } finally {
      proxy.resume();
    }
    for (const res of answers) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.error_code, 'DWS.0503');
    }
    assert.equal(ready.status, 503);

    await eventually('the instance serves again', async () => {
      const res = await ts.call('GET', `/v1.0/${p}/clusters`);
      return res.status === 200;
    });
    // What the instance sent during the partition has reached the server by now; none of it committed.
    await eventually('no session of the instance is still in a transaction', async () => {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = 'dws' AND application_name = 'dws-encryption' AND state <> 'idle'`,
      );
      return rows[0].n === 0;
    });
    assert.equal(await dataKeyVersions(), versions, 'the rotation was not executed after the partition');
    // The 503 was not an answer to keep: the retry with the same token rotates, once.
    const retried = await rotate();
    assert.equal(retried.status, 200, retried.text);
    assert.equal(await dataKeyVersions(), versions + 1);
    assert.equal((await rotate()).text, retried.text, 'a second retry gets the first answer');
    assert.equal(await dataKeyVersions(), versions + 1);

    assert.ok(
      log
        .lines()
        .some((l) => l.msg === 'request' && String(l.route).endsWith('/rotate-key') && l.status === 503),
      'the request answered during the partition has its request-log line',
    );
  });
});
