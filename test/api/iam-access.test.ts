/**
 * Authentication and authorization with an identities file, through real HTTP signed by the official
 * signer: every 401 (signature and token), every 403 (project not the caller's, action not allowed,
 * naming the action), 404 (never 403) for resources of another project, narrow allow lists, deny over
 * allow, and isolation between accounts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { formatSdkDate } from '../../src/crypto/signing-canonical.js';
import { ACME, BETA, identitiesFixture, tokenCall, tokenFor, USERS } from '../helpers/iam.js';
import {
  type ApiResponse,
  clusterBody,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

function assertError(res: ApiResponse, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  // A signature mismatch also answers what the server computed (signature debugging).
  const debug = res.body?.canonical_request !== undefined ? ['canonical_request', 'string_to_sign'] : [];
  assert.deepEqual(
    Object.keys(res.body ?? {}).sort(),
    ['error_code', 'error_msg', ...debug].sort(),
    res.text,
  );
  assert.equal(res.body.error_code, code, res.text);
  assert.ok(res.headers.get('x-request-id'), "res.headers.get('x-request-id')");
}

const MIN = 60_000;

for (const store of stores()) {
  describe(`identities: authentication and authorization (${store})`, () => {
    let ts: TestServer;
    const p1 = ACME.p1.id;
    const p2 = ACME.p2.id;
    /** An encrypted cluster of acme/p1, its master key and conversion job. */
    let clusterId: string;
    let keyId: string;
    let jobId: string;

    before(async () => {
      ts = await startTestServer({ store, iamFile: identitiesFixture() });
      const key = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-key`, {
        key_alias: 'acme-p1-key',
      });
      assert.equal(key.status, 200, key.text);
      keyId = key.body.key_info.key_id;
      const created = await ts.callAs(
        USERS.admin,
        'POST',
        `/v2/${p1}/clusters`,
        clusterBody('acme-p1-cluster'),
      );
      assert.equal(created.status, 200, created.text);
      clusterId = created.body.cluster.id;
      const encrypt = await ts.callAs(USERS.admin, 'POST', `/v2/${p1}/clusters/${clusterId}/encrypt`, {
        encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
      });
      assert.equal(encrypt.status, 200, encrypt.text);
      jobId = encrypt.body.job_id;
      const asAdmin: TestServer = {
        ...ts,
        projectId: p1,
        call: (...args) => ts.callAs(USERS.admin, ...args),
      };
      const job = await waitForJob(asAdmin, jobId);
      assert.equal(job.status, 'SUCCESS');
    });
    after(() => ts.close({ removeData: true }));

    describe('401: the caller is not authenticated', () => {
      const path = () => `/v1/${p1}/clusters/${clusterId}/encrypt-info`;

      test('no Authorization and no token', async () => {
        const res = await fetch(`${ts.baseUrl}${path()}`);
        assert.equal(res.status, 401);
        assert.equal(((await res.json()) as any).error_code, 'DWS.0101');
      });

      test('a malformed Authorization header', async () => {
        for (const authorization of [
          'Bearer abc',
          'SDK-HMAC-SHA256 Access=ACMEADMINAK000000001',
          `SDK-HMAC-SHA256 Access=${USERS.admin.ak}, SignedHeaders=host, Signature=${'0'.repeat(64)}`, // x-sdk-date unsigned
        ]) {
          const res = await fetch(`${ts.baseUrl}${path()}`, { headers: { Authorization: authorization } });
          assert.equal(res.status, 401);
          assert.equal(((await res.json()) as any).error_code, 'DWS.0102', authorization);
        }
      });

      test('a wrong secret and an unknown access key: same status and code, different messages', async () => {
        const wrong = await ts.callAs({ ak: USERS.admin.ak, sk: USERS.auditor.sk }, 'GET', path());
        assertError(wrong, 401, 'DWS.0103');
        const unknown = await ts.callAs({ ak: 'UNKNOWNACCESSKEY0001', sk: USERS.admin.sk }, 'GET', path());
        assertError(unknown, 401, 'DWS.0103');
        assert.notEqual(wrong.body.error_msg, unknown.body.error_msg);
      });

      test('X-Sdk-Date more than 15 minutes in the past or the future; inside the window is fine', async () => {
        const at = (ms: number) => ({ headers: { 'X-Sdk-Date': formatSdkDate(new Date(Date.now() + ms)) } });
        assertError(await ts.callAs(USERS.admin, 'GET', path(), undefined, at(-16 * MIN)), 401, 'DWS.0104');
        assertError(await ts.callAs(USERS.admin, 'GET', path(), undefined, at(16 * MIN)), 401, 'DWS.0104');
        assert.equal((await ts.callAs(USERS.admin, 'GET', path(), undefined, at(-14 * MIN))).status, 200);
        assert.equal((await ts.callAs(USERS.admin, 'GET', path(), undefined, at(14 * MIN))).status, 200);
        assertError(
          await ts.callAs(USERS.admin, 'GET', path(), undefined, { headers: { 'X-Sdk-Date': '2024-01-01' } }),
          401,
          'DWS.0104',
        );
      });

      test('X-Sdk-Content-Sha256 that does not match the body', async () => {
        const body = JSON.stringify({ key_alias: 'hash-mismatch' });
        const res = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-key`, undefined, {
          rawBody: body,
          headers: { 'X-Sdk-Content-Sha256': createHash('sha256').update('{}').digest('hex') },
        });
        assertError(res, 401, 'KMS.0105');
        const matching = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-key`, undefined, {
          rawBody: body,
          headers: { 'X-Sdk-Content-Sha256': createHash('sha256').update(body).digest('hex') },
        });
        assert.equal(matching.status, 200, matching.text);
      });

      test('UNSIGNED-PAYLOAD is refused with a body (the body would not be authenticated), fine without', async () => {
        const res = await ts.callAs(USERS.admin, 'POST', `/v2/${p1}/clusters`, undefined, {
          rawBody: JSON.stringify(clusterBody('unsigned-payload')),
          headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        });
        assertError(res, 401, 'DWS.0105');
        assert.match(res.body.error_msg, /UNSIGNED-PAYLOAD is refused/);
        const list = await ts.callAs(USERS.admin, 'GET', `/v1.0/${p1}/clusters`);
        assert.ok(!list.body.clusters.some((c: any) => c.name === 'unsigned-payload'), 'nothing was created');
        const rotate = await ts.callAs(
          USERS.admin,
          'POST',
          `/v1/${p1}/clusters/${clusterId}/rotate-key`,
          undefined,
          {
            rawBody: '',
            headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
          },
        );
        assert.equal(rotate.status, 200, rotate.text);
      });

      test('a body changed after signing', async () => {
        const signedFor = JSON.stringify({ key_alias: 'original' });
        // Sign one body, send another: the official signer hashes the data it is given.
        const res = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-key`, undefined, {
          rawBody: JSON.stringify({ key_alias: 'tampered' }),
          headers: { 'X-Sdk-Content-Sha256': createHash('sha256').update(signedFor).digest('hex') },
        });
        assertError(res, 401, 'KMS.0105');
      });

      test('an invalid token', async () => {
        assertError(await tokenCall(ts.baseUrl, 'dwst_nope', 'GET', path()), 401, 'DWS.0106');
      });
    });

    describe('403: authenticated, but not allowed', () => {
      test('a project of another account (signature or token)', async () => {
        const res = await ts.callAs(USERS.betaAdmin, 'GET', `/v1/${p1}/clusters/${clusterId}/encrypt-info`);
        assertError(res, 403, 'DWS.0201');
        assert.match(res.body.error_msg, new RegExp(p1));
        const token = await tokenFor(ts.baseUrl, USERS.betaAdmin, BETA.p1.id, BETA.name);
        assertError(await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${p1}/clusters`), 403, 'DWS.0201');
        assertError(
          await ts.callAs(USERS.betaAdmin, 'POST', `/v1.0/${p1}/kms/describe-key`, { key_id: keyId }),
          403,
          'KMS.0201',
        );
      });

      test('a project nobody declared', async () => {
        assertError(await ts.callAs(USERS.admin, 'GET', `/v1.0/${'0'.repeat(32)}/clusters`), 403, 'DWS.0201');
      });

      test('the auditor may read encryption info and list clusters, nothing else; the message names the action', async () => {
        const info = await ts.callAs(USERS.auditor, 'GET', `/v1/${p1}/clusters/${clusterId}/encrypt-info`);
        assert.equal(info.status, 200, info.text);
        assert.equal(info.body.master_key_id, keyId);
        const list = await ts.callAs(USERS.auditor, 'GET', `/v1.0/${p1}/clusters`);
        assert.equal(list.status, 200, list.text);
        assert.equal((await ts.callAs(USERS.auditor, 'GET', `/v2/${p1}/clusters`)).status, 200);
        // Both projects of the account are the auditor's.
        assert.equal((await ts.callAs(USERS.auditor, 'GET', `/v1.0/${p2}/clusters`)).status, 200);
        const refusals: [string, string, unknown, string, string][] = [
          ['GET', `/v1.0/${p1}/clusters/${clusterId}`, undefined, 'dws:openAPICluster:getDetail', 'DWS.0202'],
          [
            'POST',
            `/v1/${p1}/clusters/${clusterId}/rotate-key`,
            undefined,
            'dws:cluster:rotateKey',
            'DWS.0202',
          ],
          [
            'POST',
            `/v2/${p1}/clusters`,
            clusterBody('auditor-made'),
            'dws:openAPICluster:create',
            'DWS.0202',
          ],
          ['DELETE', `/v1.0/${p1}/clusters/${clusterId}`, undefined, 'dws:openAPICluster:delete', 'DWS.0202'],
          ['DELETE', `/v2/${p1}/clusters/${clusterId}`, undefined, 'dws:openAPICluster:delete', 'DWS.0202'],
          [
            'POST',
            `/v1.0/${p1}/clusters`,
            { cluster: { name: 'auditor-v1' } },
            'dws:openAPICluster:create',
            'DWS.0202',
          ],
          ['GET', `/v1.0/${p1}/job/${jobId}`, undefined, 'dws:service:listJobDetail', 'DWS.0202'],
          ['GET', `/v1/${p1}/audit-events`, undefined, 'dws:audit:list', 'DWS.0202'],
          ['POST', `/v1.0/${p1}/kms/list-keys`, {}, 'kms:cmk:list', 'KMS.0202'],
          ['POST', `/v1.0/${p1}/kms/create-datakey`, { key_id: keyId }, 'kms:dek:create', 'KMS.0202'],
        ];
        for (const [method, path, body, action, code] of refusals) {
          const res = await ts.callAs(USERS.auditor, method, path, body);
          assertError(res, 403, code);
          assert.match(res.body.error_msg, new RegExp(action), `${method} ${path} names ${action}`);
        }
      });

      test('the rotation automation may rotate keys and read encryption info only', async () => {
        const rotate = await ts.callAs(USERS.rotator, 'POST', `/v1/${p1}/clusters/${clusterId}/rotate-key`);
        assert.equal(rotate.status, 200, rotate.text);
        assert.equal(rotate.body.cluster_id, clusterId);
        const info = await ts.callAs(USERS.rotator, 'GET', `/v1/${p1}/clusters/${clusterId}/encrypt-info`);
        assert.equal(info.status, 200);
        assertError(await ts.callAs(USERS.rotator, 'GET', `/v1.0/${p1}/clusters`), 403, 'DWS.0202');
        assertError(
          await ts.callAs(USERS.rotator, 'POST', `/v2/${p1}/clusters/${clusterId}/encrypt`, {
            encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
          }),
          403,
          'DWS.0202',
        );
      });

      test('deny wins over allow: the operator may do everything but delete clusters and use KMS', async () => {
        const created = await ts.callAs(
          USERS.operator,
          'POST',
          `/v2/${p2}/clusters`,
          clusterBody('operator-made'),
        );
        assert.equal(created.status, 200, created.text);
        const id = created.body.cluster.id;
        const del = await ts.callAs(USERS.operator, 'DELETE', `/v1.0/${p2}/clusters/${id}`);
        assertError(del, 403, 'DWS.0202');
        assert.match(del.body.error_msg, /dws:openAPICluster:delete/);
        assertError(
          await ts.callAs(USERS.operator, 'POST', `/v1.0/${p2}/kms/create-key`, { key_alias: 'op-key' }),
          403,
          'KMS.0202',
        );
        // The admin (allow *) may delete it.
        const deleted = await ts.callAs(USERS.admin, 'DELETE', `/v1.0/${p2}/clusters/${id}`);
        assert.ok(deleted.status >= 200 && deleted.status < 300, deleted.text);
      });

      test('an authorization failure happens before the body is looked at', async () => {
        const res = await ts.callAs(USERS.auditor, 'POST', `/v2/${p1}/clusters`, { nonsense: true });
        assertError(res, 403, 'DWS.0202');
      });
    });

    describe('404, never 403, for resources of another project', () => {
      test('a cluster, its encryption info, its job and its key seen from the account’s other project', async () => {
        const admin = (method: string, path: string, body?: unknown) =>
          ts.callAs(USERS.admin, method, path, body);
        assertError(await admin('GET', `/v1/${p2}/clusters/${clusterId}/encrypt-info`), 404, 'DWS.0301');
        assertError(await admin('GET', `/v1.0/${p2}/clusters/${clusterId}`), 404, 'DWS.0301');
        assertError(await admin('POST', `/v1/${p2}/clusters/${clusterId}/rotate-key`), 404, 'DWS.0301');
        assertError(await admin('DELETE', `/v1.0/${p2}/clusters/${clusterId}`), 404, 'DWS.0301');
        assertError(await admin('DELETE', `/v2/${p2}/clusters/${clusterId}`), 404, 'DWS.0301');
        assertError(await admin('GET', `/v1.0/${p2}/job/${jobId}`), 404, 'DWS.0302');
        assertError(await admin('POST', `/v1.0/${p2}/kms/describe-key`, { key_id: keyId }), 404, 'KMS.0301');
        for (const version of ['v1.0', 'v2']) {
          const list = await admin('GET', `/${version}/${p2}/clusters`);
          assert.equal(list.status, 200, list.text);
          assert.ok(!list.body.clusters.some((c: any) => c.id === clusterId), version);
        }
        // And it is all still there in its own project.
        assert.equal((await admin('GET', `/v1.0/${p1}/clusters/${clusterId}`)).status, 200);
      });

      test('account B cannot see account A’s cluster from its own project (404) nor use A’s project (403)', async () => {
        const beta = (method: string, path: string, body?: unknown) =>
          ts.callAs(USERS.betaAdmin, method, path, body);
        const b = BETA.p1.id;
        assertError(await beta('GET', `/v1/${b}/clusters/${clusterId}/encrypt-info`), 404, 'DWS.0301');
        assertError(await beta('GET', `/v1.0/${b}/clusters/${clusterId}`), 404, 'DWS.0301');
        assertError(await beta('DELETE', `/v2/${b}/clusters/${clusterId}`), 404, 'DWS.0301');
        assertError(await beta('GET', `/v1.0/${b}/job/${jobId}`), 404, 'DWS.0302');
        assertError(await beta('POST', `/v1.0/${b}/kms/describe-key`, { key_id: keyId }), 404, 'KMS.0301');
        // Encrypting its own cluster with A's key: the key does not exist for B.
        const own = await beta('POST', `/v2/${b}/clusters`, clusterBody('beta-cluster'));
        assert.equal(own.status, 200, own.text);
        const steal = await beta('POST', `/v2/${b}/clusters/${own.body.cluster.id}/encrypt`, {
          encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
        });
        assertError(steal, 400, 'DWS.0407');
        assertError(await beta('GET', `/v1/${p1}/clusters/${clusterId}/encrypt-info`), 403, 'DWS.0201');
        assertError(await beta('GET', `/v2/${p1}/clusters`), 403, 'DWS.0201');
        assertError(
          await beta('POST', `/v1.0/${p1}/clusters`, { cluster: { name: 'beta-in-a' } }),
          403,
          'DWS.0201',
        );
        // A's listing does not show B's cluster, and B's does not show A's.
        const aList = await ts.callAs(USERS.admin, 'GET', `/v1.0/${p1}/clusters`);
        assert.ok(
          !aList.body.clusters.some((c: any) => c.name === 'beta-cluster'),
          "!aList.body.clusters.some((c: any) => c.name === 'beta-cluster')",
        );
        const bList = await beta('GET', `/v1.0/${b}/clusters`);
        assert.deepEqual(
          bList.body.clusters.map((c: any) => c.name),
          ['beta-cluster'],
        );
      });
    });
  });
}
