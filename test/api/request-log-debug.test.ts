/** The request line: a refusal's error_code at every level; at LOG_LEVEL=debug the body, secrets redacted. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { ACME, identitiesFixture, passwordAuthBody, USERS } from '../helpers/iam.js';
import { clusterBody, startTestServer } from '../helpers/server.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

const requestLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'request');

test('info: a refusal carries its error_code; no body', async () => {
  const { lines, logger } = capture('info');
  const ts = await startTestServer({ logger });
  try {
    await ts.call('GET', `/v1/${ts.projectId}/clusters/8f2f6c5b-b3d6-4cf9-ac8d-0225b3339b9d/encrypt-info`);
    await ts.call('GET', `/v1.0/${ts.projectId}/clusters`);
    const [refused, ok] = requestLines(lines);
    assert.equal(refused?.status, 404);
    assert.equal(refused?.error_code, 'DWS.0301');
    assert.equal(ok?.status, 200);
    assert.equal(ok?.error_code, undefined);
    assert.equal(ok?.body, undefined);
  } finally {
    await ts.close({ removeData: true });
  }
});

test('debug: the request body, with secret fields redacted', async () => {
  const { lines, logger } = capture('debug');
  const ts = await startTestServer({ logger });
  try {
    const created = await ts.call('POST', `/v2/${ts.projectId}/clusters`, clusterBody('logged-cluster'));
    assert.equal(created.status, 200, created.text);
    const line = requestLines(lines).find((l) => l.method === 'POST');
    const body = line?.body as { cluster: Record<string, unknown> };
    assert.equal(body.cluster.name, 'logged-cluster');
    assert.equal(body.cluster.db_password, '[redacted]');
    assert.ok(
      !JSON.stringify(lines).includes('Secret!Passw0rd'),
      "!JSON.stringify(lines).includes('Secret!Passw0rd')",
    );
  } finally {
    await ts.close({ removeData: true });
  }
});

test('debug: a password, a data key in plain_text and a token never reach the log; refusals keep their code', async () => {
  const { lines, logger } = capture('debug');
  const ts = await startTestServer({ logger, iamFile: identitiesFixture() });
  try {
    const issued = await fetch(`${ts.baseUrl}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(
        passwordAuthBody({
          user: USERS.admin.name,
          password: USERS.admin.password,
          domainName: ACME.name,
          projectId: ACME.p1.id,
        }),
      ),
    });
    assert.equal(issued.status, 201);
    const token = issued.headers.get('x-subject-token')!;
    const p = ACME.p1.id;
    const key = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'logged' });
    const keyId = key.body.key_info.key_id;
    const dataKey = randomBytes(32);
    const plainText = Buffer.concat([dataKey, createHash('sha256').update(dataKey).digest()]).toString('hex');
    const wrapped = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p}/kms/encrypt-datakey`, {
      key_id: keyId,
      plain_text: plainText,
      datakey_plain_length: '32',
    });
    assert.equal(wrapped.status, 200, wrapped.text);
    const refused = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p}/kms/encrypt-datakey`, {
      key_id: keyId,
      plain_text: dataKey.toString('hex') + '00'.repeat(32),
      datakey_plain_length: '32',
    });
    assert.equal(refused.status, 400);
    const revoked = await fetch(`${ts.baseUrl}/v3/auth/tokens`, {
      method: 'DELETE',
      headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
    });
    assert.equal(revoked.status, 204);

    const requests = requestLines(lines);
    const tokenLine = requests.find((l) => l.method === 'POST' && l.route === '/v3/auth/tokens');
    assert.ok(tokenLine?.body, 'the token request body is logged');
    assert.match(JSON.stringify(tokenLine.body), /"password":"\[redacted\]"/);
    const wraps = requests.filter((l) => String(l.route).endsWith('/kms/encrypt-datakey'));
    assert.equal(wraps.length, 2);
    for (const line of wraps) assert.equal((line.body as Record<string, unknown>).plain_text, '[redacted]');
    assert.equal(wraps[0]?.error_code, undefined);
    assert.equal(wraps[1]?.error_code, 'KMS.0307');
    const everything = JSON.stringify(lines);
    for (const secret of [USERS.admin.password, plainText, dataKey.toString('hex'), token, USERS.admin.sk]) {
      assert.ok(!everything.includes(secret), 'a secret reached the log');
    }
  } finally {
    await ts.close({ removeData: true });
  }
});
