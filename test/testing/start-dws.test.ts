/**
 * `dws-encryption/testing` (from the sources): startDws isolation, seed, faults seen by the official SDK,
 * job faults, state round trip; and the /_dws/ control API over HTTP (permission, 404 when off, OpenAPI).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import { type Dws, startDws } from '../../src/testing/index.js';
import { passwordAuthBody } from '../helpers/iam.js';
import { signedCall } from '../helpers/server.js';

function sdk(dws: Dws) {
  const credentials = new BasicCredentials().withAk(dws.ak).withSk(dws.sk).withProjectId(dws.projectId);
  const client = new HcClient(new DefaultHttpClient({}, [dws.endpoint]))
    .withEndpoints([dws.endpoint])
    .withCredential(credentials);
  return (method: string, url: string, data?: unknown): Promise<any> =>
    client.sendRequest({
      method,
      url,
      contentType: 'application/json',
      pathParams: { project_id: dws.projectId },
      queryParams: {},
      headers: {},
      ...(data ? { data } : {}),
    });
}

const call = (dws: Dws, method: string, path: string, body?: unknown, as?: { ak: string; sk: string }) =>
  signedCall(dws.endpoint, method, path, body, as ?? { ak: dws.ak, sk: dws.sk });

const SEED = {
  keys: [
    { alias: 'k1', spec: 'AES_256' as const },
    { alias: 'sm', spec: 'SM4' as const, state: 'disabled' as const },
  ],
  clusters: [
    {
      name: 'c1',
      encryption: {
        key: 'k1',
        crypt_algorithm: 'generalCipher' as const,
        last_rotate_key_time: '2026-01-02 03:04:05',
      },
    },
    { name: 'plain1' },
  ],
};

describe('startDws', () => {
  let a: Dws;
  let b: Dws;
  before(async () => {
    a = await startDws({ seed: SEED });
    b = await startDws();
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  test('two instances share nothing; the seed answers ids by name', async () => {
    assert.notEqual(a.endpoint, b.endpoint);
    assert.notEqual(a.ak, b.ak);
    assert.ok(a.seeded?.clusters.c1 && a.seeded.keys.k1, 'a.seeded?.clusters.c1 && a.seeded.keys.k1');
    const listA = await call(a, 'GET', `/v1.0/${a.projectId}/clusters`);
    const listB = await call(b, 'GET', `/v1.0/${b.projectId}/clusters`);
    assert.equal(listA.body.count, 2);
    assert.equal(listB.body.count, 0);
    // One instance's credential is unknown to the other.
    const cross = await call(b, 'GET', `/v1.0/${a.projectId}/clusters`, undefined, { ak: a.ak, sk: a.sk });
    assert.equal(cross.status, 401);
  });

  test('a seeded encrypted cluster reads through the official SDK client', async () => {
    const info = await sdk(a)('GET', `/v1/{project_id}/clusters/${a.seeded!.clusters.c1}/encrypt-info`);
    assert.equal(info.crypt_algorithm, 'generalCipher');
    assert.equal(info.master_key_name, 'k1');
    assert.equal(info.last_rotate_key_time, '2026-01-02 03:04:05');
    const key = await call(a, 'POST', `/v1.0/${a.projectId}/kms/describe-key`, { key_id: a.seeded!.keys.sm });
    assert.equal(key.body.key_info.key_state, '3');
  });

  test('a count-1 503 fault: the SDK raises it once, then succeeds', async () => {
    const rule = a.faults.add({
      operation: 'ShowClusterEncryptInfo',
      count: 1,
      error: { status: 503, error_code: 'DWS.0503', error_msg: 'Service unavailable.' },
    });
    const read = sdk(a);
    const url = `/v1/{project_id}/clusters/${a.seeded!.clusters.c1}/encrypt-info`;
    await assert.rejects(read('GET', url), (error: any) => {
      assert.equal(error.httpStatusCode, 503);
      assert.equal(error.errorCode, 'DWS.0503');
      return true;
    });
    assert.equal((await read('GET', url)).crypt_algorithm, 'generalCipher');
    const [listed] = a.faults.list();
    assert.equal(listed?.id, rule.id);
    assert.equal(listed?.hits, 1);
    assert.equal(listed?.remaining, 0);
    a.faults.clear();
  });

  test('a faulted answer is told apart only by X-Dws-Fault; other projects and operations are untouched', async () => {
    const rule = a.faults.add({ operation: 'ListClusters', error: { status: 500 } });
    const faulted = await call(a, 'GET', `/v1.0/${a.projectId}/clusters`);
    assert.equal(faulted.status, 500);
    assert.deepEqual(faulted.body, { error_code: 'DWS.0500', error_msg: 'Internal server error.' });
    assert.equal(faulted.headers.get('x-dws-fault'), rule.id);
    const other = await call(a, 'GET', `/v1/${a.projectId}/clusters/${a.seeded!.clusters.c1}/encrypt-info`);
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-dws-fault'), null);
    assert.equal(
      (await call(b, 'GET', `/v1.0/${b.projectId}/clusters`)).status,
      200,
      'faults are per instance',
    );
    a.faults.clear();
  });

  test('a job fault fails the conversion at 40 % with the chosen code, leaving the cluster plain', async () => {
    a.faults.add({
      operation: 'EncryptCluster',
      count: 1,
      job: {
        fail_at_percent: 40,
        failed_code: 'EncryptCluster-fail:DWS.9999',
        failed_detail: 'DWS.9999:disk full',
      },
    });
    const cluster = a.seeded!.clusters.plain1;
    const started = await call(a, 'POST', `/v2/${a.projectId}/clusters/${cluster}/encrypt`, {
      encrypt: { master_key_id: a.seeded!.keys.k1, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(started.status, 200, started.text);
    assert.ok(started.headers.get('x-dws-fault'), "started.headers.get('x-dws-fault')");
    const done = await a.completeJobs();
    assert.deepEqual(done.jobs, [{ job_id: started.body.job_id, status: 'FAIL' }]);
    const job = await call(a, 'GET', `/v1.0/${a.projectId}/job/${started.body.job_id}`);
    assert.equal(job.body.status, 'FAIL');
    assert.equal(job.body.progress, '40%');
    assert.equal(job.body.failed_code, 'EncryptCluster-fail:DWS.9999');
    assert.equal(job.body.failed_detail, 'DWS.9999:disk full');
    const info = await call(a, 'GET', `/v1/${a.projectId}/clusters/${cluster}/encrypt-info`);
    assert.equal(info.body.crypt_algorithm, null);
  });

  test('export, reset, import: every answer is the same as before', async () => {
    const paths = [
      `/v1.0/${a.projectId}/clusters`,
      `/v1/${a.projectId}/clusters/${a.seeded!.clusters.c1}/encrypt-info`,
      `/v1/${a.projectId}/audit-events`,
    ];
    const read = async () => Promise.all(paths.map(async (p) => (await call(a, 'GET', p)).body));
    const keys = async () => (await call(a, 'POST', `/v1.0/${a.projectId}/kms/list-keys`, {})).body;
    const before = [...(await read()), await keys()];
    const snapshot = await a.exportState();
    assert.doesNotMatch(JSON.stringify(snapshot), /"material"|plaintext/i);
    await a.reset();
    assert.equal((await call(a, 'GET', paths[0]!)).body.count, 0);
    await a.importState(snapshot);
    assert.deepEqual([...(await read()), await keys()], before);
    // Sealed material still opens: a data key under the imported master key.
    const dek = await call(a, 'POST', `/v1.0/${a.projectId}/kms/create-datakey`, {
      key_id: a.seeded!.keys.k1,
      datakey_length: '512',
    });
    assert.equal(dek.status, 200, dek.text);
    // Another instance has another root key: its import is refused, naming why.
    await assert.rejects(b.importState(snapshot), /another root key/);
  });
});

describe('fault rules over HTTP: each field', () => {
  let dws: Dws;
  let ids: Awaited<ReturnType<Dws['seed']>>;
  before(async () => {
    dws = await startDws();
  });
  after(() => dws?.close());
  beforeEach(async () => {
    await dws.reset();
    ids = await dws.seed(SEED);
  });

  const info = (cluster: string) => call(dws, 'GET', `/v1/${dws.projectId}/clusters/${cluster}/encrypt-info`);
  const addRule = async (rule: Record<string, unknown>): Promise<string> => {
    const added = await call(dws, 'POST', '/_dws/faults', rule);
    assert.equal(added.status, 200, added.text);
    return added.body.id;
  };

  test('latency_ms alone: the call is held, then answered normally, with X-Dws-Fault', async () => {
    const id = await addRule({ operation: 'ShowClusterEncryptInfo', latency_ms: 300, count: 1 });
    const started = performance.now();
    const slow = await info(ids.clusters.c1!);
    const waited = performance.now() - started;
    assert.equal(slow.status, 200, slow.text);
    assert.equal(slow.body.crypt_algorithm, 'generalCipher');
    assert.equal(slow.headers.get('x-dws-fault'), id);
    // A lower bound only: the rule held the answer at least this long (timers may fire a little early).
    assert.ok(waited >= 290, `held ${waited} ms`);
    const after = await info(ids.clusters.c1!);
    assert.equal(after.headers.get('x-dws-fault'), null, 'count 1: used up');
  });

  test('latency_ms with an error: held, then the error', async () => {
    const id = await addRule({
      operation: 'ShowClusterEncryptInfo',
      latency_ms: 200,
      error: { status: 502 },
    });
    const started = performance.now();
    const res = await info(ids.clusters.c1!);
    const waited = performance.now() - started;
    assert.ok(waited >= 190, `held ${waited} ms`);
    assert.equal(res.status, 502);
    assert.deepEqual(res.body, { error_code: 'DWS.0500', error_msg: 'Internal server error.' });
    assert.equal(res.headers.get('x-dws-fault'), id);
  });

  test('project_id: only calls on that project', async () => {
    await addRule({ operation: '*', project_id: 'ee'.repeat(16), error: { status: 500 } });
    assert.equal((await info(ids.clusters.c1!)).status, 200);
    assert.equal((await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`)).status, 200);
    const id = await addRule({ operation: '*', project_id: dws.projectId, error: { status: 500 } });
    const faulted = await info(ids.clusters.c1!);
    assert.equal(faulted.status, 500);
    assert.equal(faulted.headers.get('x-dws-fault'), id);
  });

  test('cluster_id: only calls on that cluster', async () => {
    const id = await addRule({ operation: '*', cluster_id: ids.clusters.c1, error: { status: 409 } });
    const other = await info(ids.clusters.plain1!);
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-dws-fault'), null);
    assert.equal((await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`)).status, 200, 'no cluster');
    const faulted = await info(ids.clusters.c1!);
    assert.equal(faulted.status, 409);
    assert.equal(faulted.body.error_code, 'DWS.0001');
    assert.equal(faulted.headers.get('x-dws-fault'), id);
  });

  test('any operationId, on its own surface: a KMS operation answers a KMS code', async () => {
    const id = await addRule({ operation: 'CreateKey', count: 1, error: { status: 503 } });
    const refused = await call(dws, 'POST', `/v1.0/${dws.projectId}/kms/create-key`, { key_alias: 'f1' });
    assert.equal(refused.status, 503);
    assert.deepEqual(Object.keys(refused.body).sort(), ['error_code', 'error_msg']);
    assert.equal(refused.body.error_code, 'KMS.0503');
    assert.equal(refused.headers.get('x-dws-fault'), id);
    const created = await call(dws, 'POST', `/v1.0/${dws.projectId}/kms/create-key`, { key_alias: 'f1' });
    assert.equal(created.status, 200, 'the faulted call changed nothing');
  });

  test('a faulted answer carries the headers and body of the real one, and X-Dws-Fault', async () => {
    const unknown = '11111111-2222-4333-8444-555555555555';
    const real = await info(unknown);
    assert.equal(real.status, 404, real.text);
    const id = await addRule({
      operation: 'ShowClusterEncryptInfo',
      cluster_id: ids.clusters.c1,
      error: { status: 404, error_code: real.body.error_code, error_msg: real.body.error_msg },
    });
    const faulted = await info(ids.clusters.c1!);
    assert.equal(faulted.status, real.status);
    assert.deepEqual(faulted.body, real.body);
    const names = (res: typeof real) => [...res.headers.keys()].filter((h) => h !== 'x-dws-fault').sort();
    assert.deepEqual(names(faulted), names(real));
    assert.equal(faulted.headers.get('content-type'), real.headers.get('content-type'));
    assert.equal(faulted.headers.get('x-dws-fault'), id);
    assert.equal(real.headers.get('x-dws-fault'), null);
  });

  test('"*": every operation, never the control API nor the public routes', async () => {
    const id = await addRule({ operation: '*', error: { status: 500 } });
    for (const [method, path, body] of [
      ['GET', `/v1.0/${dws.projectId}/clusters`, undefined],
      ['POST', `/v1/${dws.projectId}/clusters/${ids.clusters.c1}/rotate-key`, undefined],
      ['POST', `/v1.0/${dws.projectId}/kms/list-keys`, {}],
      ['GET', `/v1/${dws.projectId}/audit-events`, undefined],
    ] as const) {
      const res = await call(dws, method, path, body);
      assert.equal(res.status, 500, `${method} ${path}`);
      assert.equal(res.headers.get('x-dws-fault'), id);
    }
    assert.equal((await fetch(`${dws.endpoint}/healthz`)).status, 200);
    const listed = await call(dws, 'GET', '/_dws/faults');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.faults[0].hits, 4);
  });

  test('probability 0 never answers; a rule the SDK would not tell apart from the real answer otherwise', async () => {
    await addRule({ operation: 'ShowClusterEncryptInfo', probability: 0, error: { status: 500 } });
    for (let i = 0; i < 5; i++) assert.equal((await info(ids.clusters.c1!)).status, 200);
    assert.equal((await call(dws, 'GET', '/_dws/faults')).body.faults[0].hits, 0);
  });

  test('a full reset clears the rules (HTTP and dws.reset()); a project reset keeps them', async () => {
    await addRule({ operation: 'ListJobDetails', error: { status: 500 } });
    const one = await call(dws, 'POST', '/_dws/reset', { project_id: dws.projectId });
    assert.equal(one.status, 200, one.text);
    assert.equal((await call(dws, 'GET', '/_dws/faults')).body.faults.length, 1);
    assert.equal((await call(dws, 'POST', '/_dws/reset', {})).status, 200);
    assert.deepEqual((await call(dws, 'GET', '/_dws/faults')).body.faults, []);
    dws.faults.add({ operation: '*' });
    await dws.reset();
    assert.deepEqual(dws.faults.list(), []);
    assert.equal((await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`)).status, 200);
  });
});

describe('startDws options', () => {
  test('port: listens where asked', async () => {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const dws = await startDws({ port });
    try {
      assert.equal(dws.endpoint, `http://127.0.0.1:${port}`);
      assert.equal((await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`)).status, 200);
    } finally {
      await dws.close();
    }
  });

  test('jobSeconds: a conversion lasts that long unless completeJobs() finishes it', async () => {
    const dws = await startDws({ jobSeconds: 3600, seed: SEED });
    try {
      const started = await call(
        dws,
        'POST',
        `/v2/${dws.projectId}/clusters/${dws.seeded!.clusters.plain1}/encrypt`,
        {
          encrypt: { master_key_id: dws.seeded!.keys.k1, crypt_algorithm: 'generalCipher' },
        },
      );
      assert.equal(started.status, 200, started.text);
      const running = await call(dws, 'GET', `/v1.0/${dws.projectId}/job/${started.body.job_id}`);
      assert.ok(['INIT', 'RUNNING'].includes(running.body.status), running.text);
      assert.match(running.body.progress, /^\d%$/, 'an hour-long job has barely started');
      assert.deepEqual((await dws.completeJobs()).jobs, [{ job_id: started.body.job_id, status: 'SUCCESS' }]);
      const done = await call(dws, 'GET', `/v1.0/${dws.projectId}/job/${started.body.job_id}`);
      assert.equal(done.body.progress, '100%');
    } finally {
      await dws.close();
    }
  });

  test('identities: a file path works like the object', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dws-identities-path-'));
    const user = { ak: 'PATHUSERAK0000000001', sk: 'path-user-secret-key-00000000000000000001' };
    const file = join(dir, 'identities.json');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [
          {
            name: 'acme',
            domain_id: 'cd'.repeat(16),
            projects: [{ id: 'ab'.repeat(16), name: 'cn-north-4' }],
            users: [{ name: 'lister', credentials: [user], allow: ['dws:openAPICluster:list'] }],
          },
        ],
      }),
    );
    const dws = await startDws({ identities: file });
    try {
      assert.equal(
        (await call(dws, 'GET', `/v1.0/${'ab'.repeat(16)}/clusters`, undefined, user)).status,
        200,
      );
      const refused = await call(dws, 'POST', '/_dws/reset', {}, user);
      assert.equal(refused.status, 403, 'an identities-file user without dws:emulator:*');
    } finally {
      await dws.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the /_dws/ control API', () => {
  let dws: Dws;
  const reader = { ak: 'READERAK000000000001', sk: 'reader-secret-key-000000000000000000001' };
  const tester = { ak: 'TESTERAK000000000001', sk: 'tester-secret-key-000000000000000000001' };
  before(async () => {
    const project = { id: 'ab'.repeat(16), name: 'cn-north-4' };
    dws = await startDws({
      identities: {
        accounts: [
          {
            name: 'acme',
            domain_id: 'cd'.repeat(16),
            projects: [project],
            users: [
              {
                name: 'reader',
                credentials: [reader],
                allow: ['dws:*:get*', 'dws:openAPICluster:*'],
              },
              {
                name: 'tester',
                password: 'tester-Passw0rd!',
                credentials: [tester],
                allow: ['dws:emulator:*', 'dws:openAPICluster:list'],
              },
            ],
          },
        ],
      },
    });
  });
  after(() => dws?.close());

  test('seed, faults, jobs and reset over HTTP; only callers granted dws:emulator:*', async () => {
    const refused = await call(dws, 'POST', '/_dws/reset', {}, reader);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error_msg, /dws:emulator:reset/);

    const seeded = await call(dws, 'POST', '/_dws/seed', SEED, tester);
    assert.equal(seeded.status, 200, seeded.text);
    assert.equal(seeded.body.project_id, 'ab'.repeat(16));
    assert.match(seeded.body.clusters.c1, /^[0-9a-f-]{36}$/);

    const bad = await call(dws, 'POST', '/_dws/seed', {
      clusters: [{ name: 'c1x', encryption: { key: 'nope' } }],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error_msg, /clusters\[0\]\.encryption\.key/);

    const badRule = await call(dws, 'POST', '/_dws/faults', { operation: 'NoSuchOperation' });
    assert.equal(badRule.status, 400);
    assert.match(badRule.body.error_msg, /operation must be/);

    const added = await call(dws, 'POST', '/_dws/faults', { operation: '*', latency_ms: 1, count: 2 });
    assert.equal(added.status, 200, added.text);
    const listed = await call(dws, 'GET', '/_dws/faults');
    assert.equal(listed.body.faults[0].id, added.body.id);
    assert.equal((await call(dws, 'DELETE', `/_dws/faults/${added.body.id}`)).body.removed, 1);
    assert.equal((await call(dws, 'DELETE', `/_dws/faults/${added.body.id}`)).status, 404);

    const state = await call(dws, 'GET', '/_dws/state', undefined, tester);
    assert.equal(state.body.format, 'dws-encryption-state');
    assert.equal((await call(dws, 'POST', '/_dws/jobs/complete')).body.jobs.length, 0);

    const reset = await call(dws, 'POST', '/_dws/reset', { project_id: 'ab'.repeat(16) }, tester);
    assert.equal(reset.status, 200);
    assert.equal(
      (await call(dws, 'GET', `/v1.0/${'ab'.repeat(16)}/clusters`, undefined, reader)).body.count,
      0,
    );
    const imported = await call(dws, 'POST', '/_dws/state', state.body, tester);
    assert.equal(imported.status, 200, imported.text);
    assert.equal(
      (await call(dws, 'GET', `/v1.0/${'ab'.repeat(16)}/clusters`, undefined, reader)).body.count,
      2,
    );
  });

  test('reset forgets issued tokens and login lockouts; the identities stay and issue new ones', async () => {
    const issue = (password = 'tester-Passw0rd!') =>
      fetch(`${dws.endpoint}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(
          passwordAuthBody({ user: 'tester', password, domainName: 'acme', projectId: 'ab'.repeat(16) }),
        ),
      });
    const list = (token: string) =>
      fetch(`${dws.endpoint}/v1.0/${'ab'.repeat(16)}/clusters`, { headers: { 'X-Auth-Token': token } });
    const first = await issue();
    assert.equal(first.status, 201);
    const token = first.headers.get('x-subject-token')!;
    assert.equal((await list(token)).status, 200);
    // Wrong passwords until the user is locked out (DWS_LOGIN_MAX_FAILURES, 5 by default).
    for (let i = 0; i < 5; i++) await issue('wrong-password');
    assert.equal((await issue()).status, 429);
    assert.equal((await call(dws, 'POST', '/_dws/reset', {}, tester)).status, 200);
    assert.equal((await list(token)).status, 401);
    const second = await issue();
    assert.equal(second.status, 201);
    assert.equal((await list(second.headers.get('x-subject-token')!)).status, 200);
  });

  test('a seed refused for a key pending deletion that protects a seeded cluster creates nothing', async () => {
    await call(dws, 'POST', '/_dws/reset', {});
    const refused = await call(dws, 'POST', '/_dws/seed', {
      keys: [{ alias: 'doomed', state: 'pending_deletion' }],
      clusters: [{ name: 'c1', encryption: { key: 'doomed' } }],
    });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error_code, 'DWS.0001');
    assert.match(refused.body.error_msg, /^seed: keys\[0\]\.state cannot be pending_deletion/);
    const state = (await call(dws, 'GET', '/_dws/state')).body;
    assert.deepEqual([state.tables.clusters.length, state.tables.kms_keys.length], [0, 0]);
    // SMcompatible over an SM4 key, chosen versions, a key pending deletion that protects nothing.
    const seeded = await call(dws, 'POST', '/_dws/seed', {
      keys: [
        { alias: 'sm', spec: 'SM4' },
        { alias: 'old', state: 'pending_deletion' },
      ],
      clusters: [
        {
          name: 'c2',
          datastore_version: '8.2.1',
          guest_agent_version: '8.3.0.300',
          encryption: { key: 'sm', crypt_algorithm: 'SMcompatible' },
        },
      ],
    });
    assert.equal(seeded.status, 200, seeded.text);
    const p = seeded.body.project_id;
    const info = await call(dws, 'GET', `/v1/${p}/clusters/${seeded.body.clusters.c2}/encrypt-info`);
    assert.equal(info.body.crypt_algorithm, 'SMcompatible');
    const detail = await call(dws, 'GET', `/v1.0/${p}/clusters/${seeded.body.clusters.c2}`);
    assert.equal(detail.body.cluster.datastore_version, '8.2.1');
    assert.equal(detail.body.cluster.guest_agent_version, '8.3.0.300');
    const old = await call(dws, 'POST', `/v1.0/${p}/kms/describe-key`, { key_id: seeded.body.keys.old });
    assert.equal(old.body.key_info.key_state, '4', 'pending deletion');
  });

  test('a seed naming a key alias or a cluster name the project already has creates nothing', async () => {
    await call(dws, 'POST', '/_dws/reset', {});
    const first = await call(dws, 'POST', '/_dws/seed', {
      keys: [{ alias: 'k1' }],
      clusters: [{ name: 'c1' }],
    });
    assert.equal(first.status, 200, first.text);
    const before = (await call(dws, 'GET', '/_dws/state')).body.tables;
    for (const [doc, field] of [
      [{ keys: [{ alias: 'k2' }, { alias: 'k1' }], clusters: [{ name: 'c2' }] }, 'keys\\[1\\]\\.alias'],
      [{ keys: [{ alias: 'k2' }], clusters: [{ name: 'c2' }, { name: 'c1' }] }, 'clusters\\[1\\]\\.name'],
    ] as const) {
      const refused = await call(dws, 'POST', '/_dws/seed', doc);
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.body.error_code, 'DWS.0001');
      assert.match(refused.body.error_msg, new RegExp(`^seed: ${field} is taken`));
      const after = (await call(dws, 'GET', '/_dws/state')).body.tables;
      assert.deepEqual(
        [after.kms_keys.length, after.clusters.length, after.audit_events?.length],
        [before.kms_keys.length, before.clusters.length, before.audit_events?.length],
        'nothing was created',
      );
    }
  });

  test('the control API is in /openapi.json under its own tag', async () => {
    const doc = (await (await fetch(`${dws.endpoint}/openapi.json`)).json()) as any;
    assert.ok(
      doc.tags.some((t: { name: string }) => t.name === 'emulator'),
      "doc.tags.some((t: { name: string }) => t.name === 'emulator')",
    );
    assert.deepEqual(doc.paths['/_dws/reset'].post.tags, ['emulator']);
    assert.equal(doc.paths['/_dws/faults'].post['x-permission'], 'dws:emulator:addFault');
  });

  test('signature debugging: the canonical request and string to sign; an unknown key says so', async () => {
    const wrong = await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`, undefined, {
      ak: dws.ak,
      sk: 'x'.repeat(40),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error_code, 'DWS.0103');
    assert.match(wrong.body.canonical_request, new RegExp(`^GET\\n/v1.0/${dws.projectId}/clusters/\\n`));
    assert.match(wrong.body.string_to_sign, /^SDK-HMAC-SHA256\n\d{8}T\d{6}Z\n[0-9a-f]{64}$/);
    assert.ok(!wrong.text.includes(dws.sk), '!wrong.text.includes(dws.sk)');
    // Nor anything derived from it: the signature the server expected (HMAC of its string to sign).
    const expected = createHmac('sha256', dws.sk).update(wrong.body.string_to_sign).digest('hex');
    assert.ok(!wrong.text.toLowerCase().includes(expected), 'the expected signature is in the body');
    const headers = JSON.stringify([...wrong.headers]).toLowerCase();
    assert.ok(!headers.includes(expected), 'the expected signature is in a header');
    const unknown = await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`, undefined, {
      ak: 'NOSUCHAK000000000001',
      sk: dws.sk,
    });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error_code, 'DWS.0103');
    assert.notEqual(unknown.body.error_msg, wrong.body.error_msg);
    assert.equal(unknown.body.canonical_request, undefined);
  });
});

test('DWS_EMULATOR_API=off: /_dws/* answers 404; DWS_SIGNATURE_DEBUG=off: no canonical request', async () => {
  const dws = await startDws({ env: { DWS_EMULATOR_API: 'off', DWS_SIGNATURE_DEBUG: 'off' } });
  try {
    const reset = await call(dws, 'POST', '/_dws/reset', {});
    assert.equal(reset.status, 404);
    assert.equal(reset.body.error_code, 'DWS.0007');
    const wrong = await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`, undefined, {
      ak: dws.ak,
      sk: 'x'.repeat(40),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.canonical_request, undefined);
  } finally {
    await dws.close();
  }
});

test('DWS_SEED_FILE seeds at start; a bad one stops the start naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dws-seed-file-'));
  try {
    const file = join(dir, 'seed.json');
    writeFileSync(file, JSON.stringify(SEED));
    const dws = await startDws({ env: { DWS_SEED_FILE: file } });
    try {
      assert.match(dws.seeded?.clusters.c1 ?? '', /^[0-9a-f-]{36}$/);
      assert.equal((await call(dws, 'GET', `/v1.0/${dws.projectId}/clusters`)).body.count, 2);
    } finally {
      await dws.close();
    }
    writeFileSync(file, JSON.stringify({ keys: [{ alias: 'k1', spec: 'RSA' }] }));
    await assert.rejects(
      startDws({ env: { DWS_SEED_FILE: file } }),
      /DWS_SEED_FILE .*keys\[0\]\.spec must be one of/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
