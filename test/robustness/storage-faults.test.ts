/**
 * Storage faults of the embedded SQLite store: the service answers 503 in the error format (never a 500,
 * never a crash) while the store cannot be written, keeps answering reads, changes nothing half-way, and
 * recovers by itself when the fault is gone; a database file left by a killed process opens cleanly.
 *
 * The tests run as root, which ignores file modes, and cannot mount a small filesystem, so the faults
 * are injected on the service's own SQLite connection, which makes SQLite fail with the same result
 * codes a real fault gives:
 * - `PRAGMA query_only = 1` → SQLITE_READONLY ("attempt to write a readonly database"), what a file or
 *   mount that became read-only (EROFS, a lost permission) gives;
 * - `PRAGMA max_page_count = <current size>` → SQLITE_FULL ("database or disk is full"), what ENOSPC on
 *   the database or its WAL gives. SQLite may roll the whole transaction back by itself here, which is
 *   the case that used to turn into a 500 (fixed in src/store/database.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadRootKey } from '../../src/server.js';
import { startChild } from '../helpers/child.js';
import { checkInvariants, snapshotStore } from '../helpers/invariants.js';
import {
  type ApiResponse,
  clusterBody,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/server.js';

function assertUnavailable(res: ApiResponse, prefix: 'DWS' | 'KMS', what: string): void {
  assert.equal(res.status, 503, `${what}: ${res.status} ${res.text}`);
  assert.deepEqual(res.body, {
    error_code: `${prefix}.0503`,
    error_msg: 'The service is temporarily unavailable: the store cannot be reached or written.',
  });
  assert.ok(res.headers.get('x-request-id'), `${what}: X-Request-Id`);
}

describe('storage faults', () => {
  let ts: TestServer;
  let p: string;
  let key: string;
  let encrypted: string;

  before(async () => {
    ts = await startTestServer({ env: { DWS_ENCRYPT_JOB_SECONDS: '0.4', DWS_JOB_LEASE_SECONDS: '1' } });
    p = ts.projectId;
    key = (await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'fault-key' })).body.key_info
      .key_id;
    encrypted = (
      await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('fault-encrypted', { master_key_id: key, crypt_algorithm: 'generalCipher' }),
      )
    ).body.cluster.id;
  });
  after(() => ts.close({ removeData: true }));

  const pragma = (statement: string) => sql.raw(`PRAGMA ${statement}`).execute(ts.server.database.db);

  test('a read-only store: writes answer 503, reads 200, nothing changes; writes work again afterwards', async () => {
    const before = await snapshotStore(ts.server.database.db);
    await pragma('query_only = 1');
    try {
      assertUnavailable(await ts.call('POST', `/v2/${p}/clusters`, clusterBody('fault-ro')), 'DWS', 'create');
      assertUnavailable(await ts.call('POST', `/v1/${p}/clusters/${encrypted}/rotate-key`), 'DWS', 'rotate');
      assertUnavailable(
        await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'fault-ro' }),
        'KMS',
        'create-key',
      );
      assertUnavailable(
        await ts.call('POST', `/v1.0/${p}/kms/disable-key`, { key_id: key }),
        'KMS',
        'disable',
      );
      const read = await ts.call('GET', `/v1/${p}/clusters/${encrypted}/encrypt-info`);
      assert.equal(read.status, 200, 'reads keep working');
      assert.equal((await ts.call('GET', `/v1.0/${p}/clusters`)).status, 200);
      assert.equal(await snapshotStore(ts.server.database.db), before, 'nothing was written');
    } finally {
      await pragma('query_only = 0');
    }
    assert.equal((await ts.call('POST', `/v2/${p}/clusters`, clusterBody('fault-ro'))).status, 200);
    assert.equal((await ts.call('POST', `/v1/${p}/clusters/${encrypted}/rotate-key`)).status, 200);
  });

  test('a full disk: every write answers 200 or 503, a refused one leaves no trace; recovery without restart', async () => {
    const pages = await sql<{ page_count: number }>`PRAGMA page_count`.execute(ts.server.database.db);
    const maxPages = await sql<{ max_page_count: number }>`PRAGMA max_page_count`.execute(
      ts.server.database.db,
    );
    await pragma(`max_page_count = ${pages.rows[0]!.page_count}`);
    const refused: string[] = [];
    try {
      // Each create adds a cluster row and an audit record; the file cannot grow, so this soon fails.
      for (let i = 0; i < 200 && refused.length < 3; i++) {
        const name = `fault-full-${i}`;
        const res = await ts.call('POST', `/v2/${p}/clusters`, clusterBody(name));
        if (res.status === 503) {
          assertUnavailable(res, 'DWS', name);
          refused.push(name);
        } else assert.equal(res.status, 200, `${name}: ${res.text}`);
        const rotated = await ts.call('POST', `/v1/${p}/clusters/${encrypted}/rotate-key`);
        if (rotated.status !== 200) assertUnavailable(rotated, 'DWS', `rotate ${i}`);
      }
      assert.ok(refused.length > 0, 'the full store refused writes');
      assert.equal((await ts.call('GET', `/v1.0/${p}/clusters`)).status, 200, 'reads keep working');
    } finally {
      await pragma(`max_page_count = ${maxPages.rows[0]!.max_page_count}`);
    }
    const names = (await ts.call('GET', `/v1.0/${p}/clusters`)).body.clusters.map(
      (c: { name: string }) => c.name,
    );
    for (const name of refused) assert.ok(!names.includes(name), `${name} was refused but exists`);
    assert.equal(
      (await ts.call('POST', `/v2/${p}/clusters`, clusterBody(refused[0]!))).status,
      200,
      'recovered',
    );
    assert.deepEqual(await checkInvariants(ts.server.database, loadRootKey(ts.config, false)), []);
  });

  test('a conversion whose store turns read-only finishes once the store is writable again', async () => {
    const cluster = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('fault-job'))).body.cluster.id;
    const job = await ts.call('POST', `/v2/${p}/clusters/${cluster}/encrypt`, {
      encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(job.status, 200, job.text);
    await pragma('query_only = 1');
    try {
      await new Promise((r) => setTimeout(r, 700)); // past the job's due time: it cannot finish now
      const read = await ts.call('GET', `/v1.0/${p}/job/${job.body.job_id}`);
      assert.equal(read.status, 200);
      assert.ok(
        !['SUCCESS', 'FAIL'].includes(read.body.status),
        `finished on a read-only store: ${read.text}`,
      );
    } finally {
      await pragma('query_only = 0');
    }
    const done = await waitForJob(ts, job.body.job_id);
    assert.equal(done.status, 'SUCCESS', JSON.stringify(done));
    assert.equal(
      (await ts.call('GET', `/v1/${p}/clusters/${cluster}/encrypt-info`)).body.cluster_id,
      cluster,
    );
    assert.deepEqual(await checkInvariants(ts.server.database, loadRootKey(ts.config, false)), []);
  });
});

test('an SQLite store left by a killed process (WAL not checkpointed) opens cleanly with every acknowledged write', async () => {
  const child = await startChild();
  const { dataDir } = child;
  let reopened: TestServer | undefined;
  try {
    const p = child.projectId;
    const created: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await child.call('POST', `/v2/${p}/clusters`, clusterBody(`wal-${i}`));
      assert.equal(res.status, 200, res.text);
      created.push(res.body.cluster.id);
    }
    await child.kill();
    const wal = join(dataDir, 'dws-encryption.db-wal');
    assert.ok(existsSync(wal) && statSync(wal).size > 0, 'the kill left a WAL with the recent commits');

    reopened = await startTestServer({ dataDir });
    const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(
      reopened.server.database.db,
    );
    assert.deepEqual(check.rows, [{ integrity_check: 'ok' }]);
    const listed = (await reopened.call('GET', `/v1.0/${p}/clusters`)).body.clusters.map(
      (c: { id: string }) => c.id,
    );
    for (const id of created) assert.ok(listed.includes(id), `acknowledged cluster ${id} is there`);
    assert.deepEqual(
      await checkInvariants(reopened.server.database, loadRootKey(reopened.config, false)),
      [],
    );
  } finally {
    await child.kill();
    await reopened?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
