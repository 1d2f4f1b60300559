/**
 * Concurrency: many simultaneous changes of one cluster serialize (the cluster row is the lock: the one
 * SQLite connection, FOR UPDATE on PostgreSQL). Each request answers 200 or a clear 4xx; every 200 has
 * exactly one audit record; the data-key versions stay contiguous and every one decrypts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadRootKey } from '../../src/server.js';
import { checkInvariants } from '../helpers/invariants.js';
import {
  type ApiResponse,
  clusterBody,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

function assertClear(res: ApiResponse, what: string): void {
  assert.ok(
    res.status === 200 || (res.status >= 400 && res.status < 500),
    `${what}: ${res.status} ${res.text}`,
  );
  assert.ok(res.headers.get('x-request-id'), `${what}: X-Request-Id`);
  if (res.status !== 200)
    assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'error_msg'], res.text);
}

for (const store of stores()) {
  describe(`concurrency (${store})`, () => {
    let ts: TestServer;
    let p: string;
    const keys: Record<string, string> = {};

    before(async () => {
      ts = await startTestServer({ store, env: { DWS_ENCRYPT_JOB_SECONDS: '0.3' } });
      p = ts.projectId;
      for (const [name, spec] of [
        ['a', 'AES_256'],
        ['b', 'AES_256'],
        ['off', 'AES_256'],
        ['sm4', 'SM4'],
      ] as const) {
        const res = await ts.call('POST', `/v1.0/${p}/kms/create-key`, {
          key_alias: `conc-${name}`,
          key_spec: spec,
        });
        keys[name] = res.body.key_info.key_id;
      }
      await ts.call('POST', `/v1.0/${p}/kms/disable-key`, { key_id: keys.off });
    });
    after(() => ts.close({ removeData: true }));

    test('100 concurrent rotate-key requests on one cluster', async () => {
      const created = await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('conc-rotate', { master_key_id: keys.a, crypt_algorithm: 'generalCipher' }),
      );
      const cluster = created.body.cluster.id as string;
      // Data-key rotations, master-key rotations back and forth between two keys (each re-wraps every
      // version so far), and rotations to keys that must be refused (disabled; wrong spec).
      const bodies = Array.from({ length: 100 }, (_, i) => {
        if (i % 10 === 3) return { master_key_id: keys.off };
        if (i % 10 === 7) return { master_key_id: keys.sm4 };
        if (i % 5 === 1) return { master_key_id: i % 2 ? keys.a : keys.b };
        return undefined;
      });
      const answers = await Promise.all(
        bodies.map((body) => ts.call('POST', `/v1/${p}/clusters/${cluster}/rotate-key`, body)),
      );
      const counts = new Map<string, number>();
      for (const [i, res] of answers.entries()) {
        assertClear(res, `rotation ${i}`);
        const outcome = res.status === 200 ? '200' : res.body.error_code;
        counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
        if (bodies[i]?.master_key_id === keys.off) assert.equal(res.body.error_code, 'DWS.0408', res.text);
        else if (bodies[i]?.master_key_id === keys.sm4)
          assert.equal(res.body.error_code, 'DWS.0409', res.text);
        // A valid rotation succeeds, or (if a lock wait ever times out) says the cluster is busy.
        else
          assert.ok(res.status === 200 || res.body.error_code === 'DWS.0411', `rotation ${i}: ${res.text}`);
      }
      const ok = counts.get('200') ?? 0;
      assert.equal(ok + (counts.get('DWS.0411') ?? 0), 80, JSON.stringify([...counts]));
      assert.ok(ok > 0, 'rotations succeeded');

      const db = ts.server.database.db;
      const audits = await db
        .selectFrom('audit_events')
        .select(['detail'])
        .where('action', '=', 'dws:cluster:rotateKey')
        .where('result', '=', 'success')
        .where('resource_id', '=', cluster)
        .execute();
      assert.equal(audits.length, ok, 'one audit record per successful rotation');
      const dataKeyRotations = audits.filter(
        (a) => JSON.parse(a.detail ?? '{}').rotated === 'data_key',
      ).length;
      const row = await db
        .selectFrom('clusters')
        .selectAll()
        .where('id', '=', cluster)
        .executeTakeFirstOrThrow();
      assert.equal(row.dek_version, 1 + dataKeyRotations, 'one new data-key version per data-key rotation');
      const versions = await db
        .selectFrom('cluster_data_keys')
        .select('version')
        .where('cluster_id', '=', cluster)
        .orderBy('version')
        .execute();
      assert.deepEqual(
        versions.map((v) => v.version),
        Array.from({ length: row.dek_version }, (_, i) => i + 1),
        'versions are contiguous',
      );
      // Every version (and the current data key) decrypts under the cluster's final master key.
      assert.deepEqual(
        await checkInvariants(ts.server.database, loadRootKey(ts.config, store === 'postgres')),
        [],
      );
    });

    test('50 concurrent conversions of one cluster: exactly one starts, the others are refused', async () => {
      const cluster = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('conc-encrypt'))).body.cluster
        .id;
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          ts.call('POST', `/v2/${p}/clusters/${cluster}/encrypt`, {
            encrypt: { master_key_id: keys.a, crypt_algorithm: 'generalCipher' },
          }),
        ),
      );
      for (const [i, res] of answers.entries()) assertClear(res, `conversion ${i}`);
      const started = answers.filter((r) => r.status === 200);
      assert.equal(started.length, 1, 'exactly one conversion starts');
      for (const res of answers.filter((r) => r.status !== 200)) {
        assert.ok(['DWS.0403', 'DWS.0402'].includes(res.body.error_code), res.text);
      }
      assert.equal((await waitForJob(ts, started[0]!.body.job_id)).status, 'SUCCESS');
      assert.deepEqual(
        await checkInvariants(ts.server.database, loadRootKey(ts.config, store === 'postgres')),
        [],
      );
    });
  });
}
