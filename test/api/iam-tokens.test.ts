/**
 * IAM tokens: POST /v3/auth/tokens (Keystone v3 password method, project scope), use in X-Auth-Token on
 * every API, expiry (injected clock), project scoping, refusals in the IAM error surface, and tokens
 * issued by one instance accepted by another sharing the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tokenHash } from '../../src/services/tokens.js';
import {
  ACME,
  BETA,
  identitiesFixture,
  passwordAuthBody,
  requestToken,
  tokenCall,
  tokenFor,
  USERS,
} from '../helpers/iam.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { createTestDatabase, postgresSkip, stores, type TestDatabase } from '../helpers/stores.js';

function assertError(res: { status: number; body: any; text: string }, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['error_code', 'error_msg'], res.text);
  assert.equal(res.body.error_code, code, res.text);
}

const TTL_SECONDS = 600;

for (const store of stores()) {
  describe(`IAM tokens (${store})`, () => {
    let ts: TestServer;
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;

    before(async () => {
      ts = await startTestServer({
        store,
        iamFile: identitiesFixture(),
        now,
        env: { DWS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) },
      });
    });
    after(() => ts.close({ removeData: true }));

    test('a token is issued with 201, X-Subject-Token and the Keystone body', async () => {
      const before = now();
      const res = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'admin',
          password: USERS.admin.password,
          domainName: ACME.name,
          projectId: ACME.p1.id,
        }),
      );
      assert.equal(res.status, 201, res.text);
      const token = res.headers.get('x-subject-token');
      assert.match(token ?? '', /^dwst_[A-Za-z0-9_-]{43}$/);
      assert.ok(res.headers.get('x-request-id'), "res.headers.get('x-request-id')");
      const t = res.body.token;
      assert.deepEqual(Object.keys(t).sort(), [
        'catalog',
        'expires_at',
        'issued_at',
        'methods',
        'project',
        'roles',
        'user',
      ]);
      assert.deepEqual(t.methods, ['password']);
      assert.deepEqual(t.catalog, []);
      assert.deepEqual(t.roles, []);
      assert.match(t.user.id, /^[0-9a-f]{32}$/);
      assert.equal(t.user.name, 'admin');
      assert.deepEqual(t.user.domain, { id: ACME.domainId, name: ACME.name });
      assert.deepEqual(t.project, { id: ACME.p1.id, name: ACME.p1.name, domain: t.user.domain });
      assert.match(t.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const issued = Date.parse(t.issued_at);
      const expires = Date.parse(t.expires_at);
      assert.ok(
        issued >= before - 1000 && issued <= now() + 1000,
        'issued >= before - 1000 && issued <= now() + 1000',
      );
      assert.equal(expires - issued, TTL_SECONDS * 1000);
      assert.ok(!res.text.includes(USERS.admin.password), 'the password is not echoed');
      assert.ok(!res.text.includes(token!), 'the token is only in the header');
    });

    test('the token works on DWS and KMS routes of its project, without a signature', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.admin, ACME.p1.id);
      const created = await tokenCall(
        ts.baseUrl,
        token,
        'POST',
        `/v2/${ACME.p1.id}/clusters`,
        clusterBody('tok-c1'),
      );
      assert.equal(created.status, 200, created.text);
      const id = created.body.cluster.id;
      const info = await tokenCall(ts.baseUrl, token, 'GET', `/v1/${ACME.p1.id}/clusters/${id}/encrypt-info`);
      assert.equal(info.status, 200, info.text);
      const key = await tokenCall(ts.baseUrl, token, 'POST', `/v1.0/${ACME.p1.id}/kms/create-key`, {
        key_alias: 'tok-key',
      });
      assert.equal(key.status, 200, key.text);
      assert.equal(key.body.key_info.domain_id, ACME.domainId, 'keys belong to the token user’s account');
      // The same cluster through the user's access key: one identity, two ways to authenticate.
      const signed = await ts.callAs(USERS.admin, 'GET', `/v1.0/${ACME.p1.id}/clusters/${id}`);
      assert.equal(signed.status, 200, signed.text);
    });

    test('the project may be named, the account given by id, the user by id', async () => {
      const byName = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'operator',
          password: USERS.operator.password,
          domainId: ACME.domainId,
          projectName: ACME.p2.name,
        }),
      );
      assert.equal(byName.status, 201, byName.text);
      assert.equal(byName.body.token.project.id, ACME.p2.id);
      const userId = byName.body.token.user.id;
      const byId = await requestToken(
        ts.baseUrl,
        passwordAuthBody({ userId, password: USERS.operator.password, projectId: ACME.p2.id }),
      );
      assert.equal(byId.status, 201, byId.text);
      assert.equal(byId.body.token.user.name, 'operator');
      // A password given as a scrypt hash in the file.
      const hashed = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'rotator',
          password: USERS.rotator.password,
          domainName: ACME.name,
          projectId: ACME.p1.id,
        }),
      );
      assert.equal(hashed.status, 201, hashed.text);
    });

    test('wrong password, unknown user, unknown account, user without password: one answer (401 IAM.0401)', async () => {
      const attempts = [
        { user: 'admin', password: 'wrong', domainName: ACME.name },
        { user: 'nobody', password: USERS.admin.password, domainName: ACME.name },
        { user: 'admin', password: USERS.admin.password, domainName: 'no-such-account' },
        { user: 'admin', password: USERS.admin.password, domainName: BETA.name }, // beta's admin has another password
        { user: 'auditor', password: 'anything', domainName: ACME.name }, // no password at all
        { user: 'admin', password: USERS.admin.password, domainName: ACME.name, domainId: BETA.domainId },
        { userId: 'f'.repeat(32), password: USERS.admin.password },
      ];
      const messages = new Set<string>();
      for (const attempt of attempts) {
        const res = await requestToken(ts.baseUrl, passwordAuthBody({ ...attempt, projectId: ACME.p1.id }));
        assertError(res, 401, 'IAM.0401');
        assert.equal(res.headers.get('x-subject-token'), null);
        messages.add(res.body.error_msg);
      }
      assert.equal(messages.size, 1, 'nothing tells which part was wrong');
    });

    test('a project outside the user’s account, or unknown, is 401 IAM.0402 (after the password)', async () => {
      for (const scope of [
        { projectId: BETA.p1.id },
        { projectId: 'e'.repeat(32) },
        { projectName: 'no-region' },
      ]) {
        const res = await requestToken(
          ts.baseUrl,
          passwordAuthBody({
            user: 'admin',
            password: USERS.admin.password,
            domainName: ACME.name,
            ...scope,
          }),
        );
        assertError(res, 401, 'IAM.0402');
      }
      // With a wrong password the project is not even looked at.
      const wrong = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'admin',
          password: 'nope',
          domainName: ACME.name,
          projectName: 'no-region',
        }),
      );
      assertError(wrong, 401, 'IAM.0401');
      // Name and id that disagree.
      const mixed = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'admin',
          password: USERS.admin.password,
          domainName: ACME.name,
          projectId: ACME.p1.id,
          projectName: ACME.p2.name,
        }),
      );
      assertError(mixed, 401, 'IAM.0402');
    });

    test('requests this service does not support are 400 in the IAM surface', async () => {
      const admin = { user: 'admin', password: USERS.admin.password, domainName: ACME.name };
      assertError(
        await requestToken(
          ts.baseUrl,
          passwordAuthBody({ ...admin, projectId: ACME.p1.id, methods: ['token'] }),
        ),
        400,
        'IAM.0001',
      );
      const unscoped = await requestToken(ts.baseUrl, passwordAuthBody(admin));
      assertError(unscoped, 400, 'IAM.0001');
      assert.match(unscoped.body.error_msg, /auth\.scope\.project/);
      const noDomain = await requestToken(
        ts.baseUrl,
        passwordAuthBody({ user: 'admin', password: USERS.admin.password, projectId: ACME.p1.id }),
      );
      assertError(noDomain, 400, 'IAM.0001');
      assertError(await requestToken(ts.baseUrl, { auth: {} }), 400, 'IAM.0001');
      const badJson = await fetch(`${ts.baseUrl}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: `{"auth": {"identity": {"password": {"user": {"password": "${USERS.admin.password}"`,
      });
      const badJsonBody: any = await badJson.json();
      assert.equal(badJson.status, 400);
      assert.equal(badJsonBody.error_code, 'IAM.0002');
      assert.ok(
        !JSON.stringify(badJsonBody).includes(USERS.admin.password),
        '!JSON.stringify(badJsonBody).includes(USERS.admin.password)',
      );
    });

    test('validation messages never echo the password', async () => {
      const long = `S3cret-${'x'.repeat(1100)}`;
      const tooLong = await requestToken(
        ts.baseUrl,
        passwordAuthBody({ user: 'admin', password: long, domainName: ACME.name, projectId: ACME.p1.id }),
      );
      assertError(tooLong, 400, 'IAM.0001');
      assert.ok(!tooLong.text.includes('S3cret-'), tooLong.text);
      const wrongType = await requestToken(ts.baseUrl, {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', password: 123456789 } } },
          scope: { project: { id: ACME.p1.id } },
        },
      });
      assertError(wrongType, 400, 'IAM.0001');
      assert.ok(!wrongType.text.includes('123456789'), wrongType.text);
    });

    test('a token is valid for its own project only (403), and never for another account', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.admin, ACME.p1.id);
      const otherProject = await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${ACME.p2.id}/clusters`);
      assertError(otherProject, 403, 'DWS.0201');
      const otherAccount = await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${BETA.p1.id}/clusters`);
      assertError(otherAccount, 403, 'DWS.0201');
      const own = await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${ACME.p1.id}/clusters`);
      assert.equal(own.status, 200, own.text);
    });

    test('a token carries its user’s permissions', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.operator, ACME.p1.id);
      const list = await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${ACME.p1.id}/clusters`);
      assert.equal(list.status, 200, list.text);
      const kms = await tokenCall(ts.baseUrl, token, 'POST', `/v1.0/${ACME.p1.id}/kms/list-keys`, {});
      assertError(kms, 403, 'KMS.0202');
      assert.match(kms.body.error_msg, /kms:cmk:list/);
    });

    test('missing, malformed, unknown and repeated tokens are 401 (DWS.0106 / KMS.0106)', async () => {
      const path = `/v1.0/${ACME.p1.id}/clusters`;
      const valid = await tokenFor(ts.baseUrl, USERS.admin, ACME.p1.id);
      for (const token of [
        'garbage',
        `${valid}x`,
        `dwst_${'A'.repeat(43)}`,
        valid.slice(0, -1),
        'x'.repeat(5000),
      ]) {
        assertError(await tokenCall(ts.baseUrl, token, 'GET', path), 401, 'DWS.0106');
      }
      assertError(
        await tokenCall(ts.baseUrl, 'garbage', 'POST', `/v1.0/${ACME.p1.id}/kms/list-keys`, {}),
        401,
        'KMS.0106',
      );
      const repeated = await fetch(`${ts.baseUrl}${path}`, {
        headers: [
          ['X-Auth-Token', valid],
          ['X-Auth-Token', valid],
        ],
      });
      assert.equal(repeated.status, 401);
      const none = await fetch(`${ts.baseUrl}${path}`);
      assert.equal(((await none.json()) as any).error_code, 'DWS.0101');
    });

    test('the store keeps only the SHA-256 of a token', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.admin, ACME.p1.id);
      const rows = await ts.server.database.db.selectFrom('tokens').selectAll().execute();
      assert.ok(rows.length > 0, 'rows.length > 0');
      const text = JSON.stringify(rows);
      assert.ok(!text.includes(token) && !text.includes(token.slice(5)), 'the token is not stored');
      assert.ok(
        rows.some((r) => r.token_hash === tokenHash(token)),
        'rows.some((r) => r.token_hash === tokenHash(token))',
      );
    });

    test('a token expires after DWS_TOKEN_TTL_SECONDS, cached or not', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.admin, ACME.p1.id);
      const path = `/v1.0/${ACME.p1.id}/clusters`;
      assert.equal((await tokenCall(ts.baseUrl, token, 'GET', path)).status, 200, 'valid (and now cached)');
      offsetMs += (TTL_SECONDS - 5) * 1000;
      try {
        assert.equal((await tokenCall(ts.baseUrl, token, 'GET', path)).status, 200, 'still valid');
        offsetMs += 6 * 1000;
        assertError(await tokenCall(ts.baseUrl, token, 'GET', path), 401, 'DWS.0106');
        // A new token still works (signed requests too: the clock moved less than 15 minutes).
        const fresh = await tokenFor(ts.baseUrl, USERS.admin, ACME.p1.id);
        assert.equal((await tokenCall(ts.baseUrl, fresh, 'GET', path)).status, 200);
      } finally {
        offsetMs = 0;
      }
    });

    test('the bootstrap credential keeps working beside the identities file', async () => {
      const res = await ts.call('GET', `/v1.0/${ts.projectId}/clusters`);
      assert.equal(res.status, 200, res.text);
      // It is the operator's own account: not a member of the file's accounts.
      assertError(await ts.call('GET', `/v1.0/${ACME.p1.id}/clusters`), 403, 'DWS.0201');
    });
  });
}

describe('tokens across instances sharing one PostgreSQL database', { skip: postgresSkip() }, () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await createTestDatabase();
    a = await startTestServer({ database, iamFile: identitiesFixture() });
    b = await startTestServer({ database, iamFile: identitiesFixture() });
  });
  after(async () => {
    await a.close({ removeData: true });
    await b.close({ removeData: true });
    await database.drop();
  });

  test('a token issued by one instance is accepted by the other', async () => {
    const token = await tokenFor(a.baseUrl, USERS.admin, ACME.p1.id);
    const created = await tokenCall(
      b.baseUrl,
      token,
      'POST',
      `/v2/${ACME.p1.id}/clusters`,
      clusterBody('shared-1'),
    );
    assert.equal(created.status, 200, created.text);
    const read = await tokenCall(
      a.baseUrl,
      token,
      'GET',
      `/v1.0/${ACME.p1.id}/clusters/${created.body.cluster.id}`,
    );
    assert.equal(read.status, 200, read.text);
  });
});
