/** The request line: a refusal's error_code at every level; at LOG_LEVEL=debug the body, secrets redacted. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
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
    assert.ok(!JSON.stringify(lines).includes('Secret!Passw0rd'));
  } finally {
    await ts.close({ removeData: true });
  }
});
