/**
 * Password guessing on POST /v3/auth/tokens: after DWS_LOGIN_MAX_FAILURES wrong passwords within the
 * window the user is locked; while locked every attempt (even the right password) answers 429
 * IAM.0403 with Retry-After, runs no password check and writes no audit row; the lock is audited once.
 * The service's clock is the test's: no real waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ACME, identitiesFixture, passwordAuthBody, requestToken, USERS } from '../helpers/iam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MIN = 60_000;

describe('token issue lockout', () => {
  let ts: TestServer;
  // Near the real time: signed calls (the audit trail) must fall inside the signature window.
  let clock = Date.now();
  const p1 = ACME.p1.id;
  const attempt = (password: string, user: string = USERS.operator.name) =>
    requestToken(ts.baseUrl, passwordAuthBody({ user, password, domainName: ACME.name, projectId: p1 }));
  const trail = async () =>
    (await ts.callAs(USERS.admin, 'GET', `/v1/${p1}/audit-events`, undefined, { query: { limit: '1000' } }))
      .body.events as any[];

  before(async () => {
    ts = await startTestServer({
      iamFile: identitiesFixture(),
      now: () => clock,
      env: { DWS_LOGIN_MAX_FAILURES: '3', DWS_LOGIN_LOCKOUT_MINUTES: '20' },
    });
  });
  after(() => ts.close({ removeData: true }));

  test('3 failures lock for 20 minutes: 429 with Retry-After, no password check, the lock audited once', async () => {
    for (let i = 0; i < 3; i++) {
      const wrong = await attempt(`Wrong-Passw0rd-${i}`);
      assert.equal(wrong.status, 401, wrong.text);
      assert.equal(wrong.body.error_code, 'IAM.0401');
      if (i < 2) clock += MIN;
    }
    const checks = ts.server.iam.passwordChecks;
    for (const password of ['Wrong-again-1', USERS.operator.password, 'Wrong-again-2']) {
      const locked = await attempt(password);
      assert.equal(locked.status, 429, locked.text);
      assert.equal(locked.body.error_code, 'IAM.0403');
      assert.equal(locked.headers.get('retry-after'), '1200');
    }
    assert.equal(ts.server.iam.passwordChecks, checks, 'no scrypt while locked');

    const events = (await trail()).filter((e) => e.user === USERS.operator.name);
    assert.equal(events.filter((e) => e.action === 'iam:token:create' && e.result === 'failure').length, 3);
    const locks = events.filter((e) => e.action === 'iam:user:lock');
    assert.equal(locks.length, 1, 'audited once');
    assert.equal(locks[0].detail.failures, 3);
    assert.equal(locks[0].resource_type, 'user');

    // Other users are not affected; the lock ends after 20 minutes and the right password works again.
    assert.equal((await attempt(USERS.admin.password, USERS.admin.name)).status, 201);
    clock += 20 * MIN - 1_000;
    const almost = await attempt(USERS.operator.password);
    assert.equal(almost.status, 429);
    assert.equal(almost.headers.get('retry-after'), '1');
    clock += 1_000;
    assert.equal((await attempt(USERS.operator.password)).status, 201);
  });

  test('an unknown user name is answered exactly like a locked real one', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await attempt(`guess-${i}`, 'nobody')).status, 401);
    const locked = await attempt('guess-x', 'nobody');
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error_code, 'IAM.0403');
  });

  test('the policy must stay inside the cloud login policy ranges', async () => {
    const { loadConfig } = await import('../../src/config.js');
    assert.equal(loadConfig({}).loginMaxFailures, 5);
    assert.equal(loadConfig({}).loginLockoutMinutes, 15);
    assert.equal(loadConfig({}).loginFailureWindowMinutes, 15);
    assert.throws(
      () => loadConfig({ DWS_LOGIN_MAX_FAILURES: '2' }),
      /DWS_LOGIN_MAX_FAILURES must be a number from 3 to 10/,
    );
    assert.throws(() => loadConfig({ DWS_LOGIN_FAILURE_WINDOW_MINUTES: '61' }), /from 15 to 60/);
    assert.throws(() => loadConfig({ DWS_LOGIN_LOCKOUT_MINUTES: '10' }), /from 15 to 1440/);
    assert.throws(() => loadConfig({ DWS_LOGIN_MAX_FAILURES: '4.5' }), /whole number/);
  });
});
