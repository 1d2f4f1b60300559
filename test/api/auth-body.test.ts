/**
 * The body is authenticated before it is parsed: a stranger's body costs a hash, never a JSON parse;
 * nesting is capped for everyone; bodies of any other Content-Type are refused before authentication
 * (the signature would not cover them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_JSON_DEPTH, nestingExceeds } from '../../src/api/auth.js';
import { clusterBody, signedCall, startTestServer, type TestServer } from '../helpers/server.js';

/** Records the length of every text JSON.parse sees while `run` is in progress. */
async function parsedLengths(run: () => Promise<void>): Promise<number[]> {
  const seen: number[] = [];
  const original = JSON.parse;
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    seen.push(String(text).length);
    return original(text, reviver);
  }) as typeof JSON.parse;
  try {
    await run();
  } finally {
    JSON.parse = original;
  }
  return seen;
}

describe('request bodies and authentication', () => {
  let ts: TestServer;
  let p: string;

  before(async () => {
    ts = await startTestServer();
    p = ts.projectId;
  });
  after(() => ts.close({ removeData: true }));

  test('an unauthenticated body is never parsed: 401 without a JSON.parse of it', async () => {
    const deep = `${'['.repeat(400_000)}${']'.repeat(400_000)}`;
    const flat = JSON.stringify(clusterBody('x'.repeat(200)));
    for (const body of [deep, flat]) {
      const lengths = await parsedLengths(async () => {
        const unsigned = await fetch(`${ts.baseUrl}/v2/${p}/clusters`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        assert.equal(unsigned.status, 401);
        const badSignature = await ts.call('POST', `/v2/${p}/clusters`, undefined, {
          rawBody: body,
          sk: 'not-the-secret-key-at-all',
        });
        assert.equal(badSignature.status, 401);
        const badToken = await fetch(`${ts.baseUrl}/v2/${p}/clusters`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Auth-Token': `dwst_${'A'.repeat(43)}` },
          body,
        });
        assert.equal(badToken.status, 401);
      });
      assert.ok(!lengths.includes(body.length), `a body of ${body.length} bytes was parsed`);
    }
  });

  test('nesting deeper than the cap is refused with 400 before parsing, also for a signed caller', async () => {
    const deep = `{"cluster":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    const lengths = await parsedLengths(async () => {
      const res = await ts.call('POST', `/v2/${p}/clusters`, undefined, { rawBody: deep });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error_code, 'DWS.0001');
      assert.match(res.body.error_msg, /deeper than 32 levels/);
    });
    assert.ok(!lengths.includes(deep.length), '!lengths.includes(deep.length)');
    // The token route is public: the cap is all that protects it.
    const token = await fetch(`${ts.baseUrl}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: `{"auth":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
    });
    assert.equal(token.status, 400);
    assert.equal(((await token.json()) as { error_code: string }).error_code, 'IAM.0001');
  });

  test('nesting is counted outside strings only', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    assert.equal(nestingExceeds(text('{"a":[[1]]}'), 3), false);
    assert.equal(nestingExceeds(text('{"a":[[[1]]]}'), 3), true);
    assert.equal(nestingExceeds(text(`{"a":"${'[{'.repeat(50)}\\"[["}`), 3), false);
    assert.equal(nestingExceeds(text('["é\\\\",[[]]]'), 2), true);
  });

  test('a body of another Content-Type is refused with 400 *.0004 before authentication', async () => {
    const body = JSON.stringify(clusterBody('plain-text-cluster'));
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ]) {
      // Signed over the bytes, unsigned, or with a body the signature does not cover: all refused alike.
      const signed = await ts.call('POST', `/v2/${p}/clusters`, undefined, {
        rawBody: body,
        headers: { 'Content-Type': contentType },
      });
      assert.equal(signed.status, 400, `${contentType}: ${signed.text}`);
      assert.equal(signed.body.error_code, 'DWS.0004');
      const unsigned = await fetch(`${ts.baseUrl}/v2/${p}/clusters`, {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body,
      });
      assert.equal(unsigned.status, 400, contentType);
      const unsignedPayload = await ts.call('POST', `/v2/${p}/clusters`, undefined, {
        rawBody: body,
        headers: { 'Content-Type': contentType, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      });
      assert.equal(unsignedPayload.status, 400, contentType);
    }
    const list = await ts.call('GET', `/v1.0/${p}/clusters`);
    assert.equal(list.body.clusters.length, 0, 'nothing was created');
  });

  test('JSON bodies still work: signed, empty on a body-less POST, and bad JSON after authentication', async () => {
    const created = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('json-cluster'));
    assert.equal(created.status, 200, created.text);
    const id = created.body.cluster.id as string;
    const emptyBody = await signedCall(ts.baseUrl, 'POST', `/v2/${p}/clusters/${id}/rotate-key`, undefined, {
      ak: ts.ak,
      sk: ts.sk,
    });
    assert.notEqual(emptyBody.status, 500);
    assert.notEqual(emptyBody.body?.error_code, 'DWS.0002');
    const bad = await ts.call('POST', `/v2/${p}/clusters`, undefined, { rawBody: '{"cluster":' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'DWS.0002');
  });
});
