/**
 * Secrets never reach the log: a server run at the most verbose level, its pino output captured through a
 * stream, exercised with every kind of secret (SKs, passwords, tokens, db_password, data-key plaintext),
 * successes and refusals; then the whole output is searched for each of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/server.js';
import {
  ACME,
  identitiesFixture,
  passwordAuthBody,
  requestToken,
  tokenCall,
  tokenFor,
  USERS,
} from '../helpers/iam.js';
import { clusterBody, startTestServer, TEST_SK, type TestServer } from '../helpers/server.js';

describe('secrets never reach the log', () => {
  const lines: string[] = [];
  const stream = { write: (line: string) => void lines.push(line) };
  let ts: TestServer;
  const secrets: Record<string, string> = {};

  before(async () => {
    const logger = createLogger(loadConfig({ LOG_LEVEL: 'trace', LOG_FORMAT: 'json' }), false, stream);
    ts = await startTestServer({ iamFile: identitiesFixture(), logger });
  });
  after(() => ts.close({ removeData: true }));

  test('a busy run at trace level prints none of them', async () => {
    const p = ACME.p1.id;
    const dbPassword = 'Log-Scan-Db-Passw0rd!';
    Object.assign(secrets, {
      'admin SK': USERS.admin.sk,
      'auditor SK': USERS.auditor.sk,
      'beta SK': USERS.betaAdmin.sk,
      'bootstrap SK': TEST_SK,
      'admin password': USERS.admin.password,
      'rotator password': USERS.rotator.password,
      'a wrong password': 'Wrong-Log-Passw0rd',
      db_password: dbPassword,
    });

    // Tokens: issued, used, refused.
    const token = await tokenFor(ts.baseUrl, USERS.admin, p);
    secrets.token = token;
    const rotatorToken = await tokenFor(ts.baseUrl, USERS.rotator, p);
    secrets['rotator token'] = rotatorToken;
    await requestToken(
      ts.baseUrl,
      passwordAuthBody({
        user: 'admin',
        password: 'Wrong-Log-Passw0rd',
        domainName: ACME.name,
        projectId: p,
      }),
    );
    // A password of the wrong shape (validation error) and a body that is not JSON.
    await requestToken(ts.baseUrl, {
      auth: { identity: { methods: ['password'], password: { user: { password: 1 } } } },
    });
    await fetch(`${ts.baseUrl}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: `{"auth": {"identity": {"password": {"user": {"password": "${USERS.admin.password}"`,
    });

    // Signed and token requests that write, read, and fail; db_password and data-key plaintext on the wire.
    const created = await tokenCall(ts.baseUrl, token, 'POST', `/v2/${p}/clusters`, {
      cluster: { ...clusterBody('log-scan').cluster, db_password: dbPassword },
    });
    assert.equal(created.status, 200, created.text);
    const invalid = await ts.callAs(USERS.admin, 'POST', `/v2/${p}/clusters`, {
      cluster: { ...clusterBody('x').cluster, db_password: 12345, name: '!' },
    });
    assert.equal(invalid.status, 400);
    const key = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'log-scan' });
    const dek = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p}/kms/create-datakey`, {
      key_id: key.body.key_info.key_id,
      datakey_length: '256',
    });
    assert.equal(dek.status, 200, dek.text);
    secrets['data key plaintext'] = dek.body.plain_text;
    const decrypted = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p}/kms/decrypt-datakey`, {
      key_id: key.body.key_info.key_id,
      cipher_text: dek.body.cipher_text,
      datakey_cipher_length: '32',
    });
    assert.equal(decrypted.status, 200, decrypted.text);
    await tokenCall(ts.baseUrl, rotatorToken, 'GET', `/v1.0/${p}/clusters`); // 403
    await tokenCall(ts.baseUrl, `${token}x`, 'GET', `/v1.0/${p}/clusters`); // 401
    await ts.callAs({ ak: USERS.admin.ak, sk: USERS.auditor.sk }, 'GET', `/v1.0/${p}/clusters`); // 401
    await ts.call('GET', `/v1.0/${ts.projectId}/clusters`);
    await ts.callAs(USERS.auditor, 'GET', `/v1/${p}/audit-events`); // 403
    await ts.callAs(USERS.admin, 'GET', `/v1/${p}/audit-events`);

    const output = lines.join('');
    assert.ok(lines.length >= 15, `the log was captured (${lines.length} lines)`);
    assert.match(output, /"msg":"request"/);
    assert.match(output, /"msg":"identities loaded"/);
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(secret && secret.length >= 8, name);
      assert.ok(!output.includes(secret), `the log contains the ${name}`);
    }
    // The token's random part alone neither.
    assert.ok(!output.includes(token.slice(5)), '!output.includes(token.slice(5))');
  });

  test('the logger redacts secret fields and headers whatever logs them', () => {
    lines.length = 0;
    const logger = createLogger(loadConfig({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }), false, stream);
    logger.info(
      {
        req: {
          headers: { authorization: 'SDK-HMAC-SHA256 Access=AK, Signature=abc', 'x-auth-token': 'tok-1' },
        },
        res: { headers: { 'x-subject-token': 'tok-2' } },
        headers: { authorization: 'auth-3', 'x-auth-token': 'tok-4' },
        password: 'pw-5',
        sk: 'sk-6',
        token: 'tok-7',
        user: { password: 'pw-8', sk: 'sk-9', secretKey: 'sk-10' },
        cluster: { db_password: 'db-11' },
      },
      'redaction',
    );
    const output = lines.join('');
    for (const value of [
      'Signature=abc',
      'tok-1',
      'tok-2',
      'auth-3',
      'tok-4',
      'pw-5',
      'sk-6',
      'tok-7',
      'pw-8',
      'sk-9',
      'sk-10',
      'db-11',
    ]) {
      assert.ok(!output.includes(value), `${value} is printed: ${output}`);
    }
    assert.match(output, /\[redacted\]/);
  });
});
