/**
 * The console's API client (console/src/api/client.ts) with a stand-in fetch: what it sends for a
 * token and for an access key (checked with the server's verifier), how it reports errors, and how it
 * recovers from a browser clock that is off.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiClient, ApiError } from '../../console/src/api/client.js';
import { listAuditEvents, rotateKey } from '../../console/src/api/endpoints.js';
import type { Session } from '../../console/src/api/session.js';
import { importSecretKey } from '../../console/src/api/signer.js';
import { verifySignature } from '../../src/crypto/signing.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const CLUSTER = '97cbaab3-939e-4dbc-9187-0fe240f2b9fd';
const AK = 'CONSOLEAKEXAMPLE0001';
const SK = 'console-secret-key-0123456789abcdefghij';
const HOST = 'console.example:8443';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Replaces fetch; `answer` decides each response from what was sent. */
function fakeFetch(answer: (sent: Sent, index: number) => Response): Sent[] {
  const sent: Sent[] = [];
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((init?.headers ?? {}) as Record<string, string>)) {
      headers[name.toLowerCase()] = value;
    }
    const request = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers,
      body: String(init?.body ?? ''),
    };
    sent.push(request);
    return answer(request, sent.length - 1);
  }) as typeof fetch;
  return sent;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function akskSession(): Promise<Session> {
  return { kind: 'aksk', ak: AK, key: await importSecretKey(SK), projectId: PROJECT };
}

function verify(sent: Sent, now = Date.now()) {
  const [path, query = ''] = sent.url.split('?');
  return verifySignature({
    method: sent.method,
    rawPath: path!,
    rawQuery: query,
    headers: { ...sent.headers, host: HOST },
    body: Buffer.from(sent.body, 'utf8'),
    now,
    lookupSecret: (ak) => (ak === AK ? SK : undefined),
  });
}

describe('console API client', () => {
  it('sends a token as X-Auth-Token, with the project, and no signature', async () => {
    const sent = fakeFetch(() => json(200, { events: [], next_marker: null }));
    const session: Session = {
      kind: 'token',
      token: 'tok-123',
      expiresAt: '2999-01-01T00:00:00Z',
      projectId: PROJECT,
      projectName: 'p',
      userName: 'alice',
      domainName: 'acme',
    };
    await listAuditEvents(new ApiClient(session, undefined, HOST), { limit: 20, marker: '42' });
    assert.equal(sent[0]!.url, `/v1/${PROJECT}/audit-events?limit=20&marker=42`);
    assert.equal(sent[0]!.headers['x-auth-token'], 'tok-123');
    assert.equal(sent[0]!.headers['x-project-id'], PROJECT);
    assert.equal(sent[0]!.headers.authorization, undefined);
  });

  it('signs with the access key what the server then verifies (body, no body, query)', async () => {
    const sent = fakeFetch(() =>
      json(200, { master_key_name: 'k', cluster_id: CLUSTER, rotate_key_time: 't' }),
    );
    const api = new ApiClient(await akskSession(), undefined, HOST);
    await rotateKey(api, CLUSTER);
    await rotateKey(api, CLUSTER, '5d2c1b0a-1111-4222-8333-944455556666');
    await listAuditEvents(api, { limit: 5, marker: '7' });
    const [noBody, withBody, withQuery] = sent;
    assert.equal(noBody!.body, '');
    assert.equal(noBody!.headers['content-type'], undefined, 'no Content-Type without a body');
    assert.match(noBody!.headers.authorization!, /SignedHeaders=host;x-project-id;x-sdk-date,/);
    assert.equal(withBody!.body, '{"master_key_id":"5d2c1b0a-1111-4222-8333-944455556666"}');
    assert.match(
      withBody!.headers.authorization!,
      /SignedHeaders=content-type;host;x-project-id;x-sdk-date,/,
    );
    for (const request of [noBody!, withBody!, withQuery!]) {
      assert.equal(request.headers.host, undefined, 'the browser sets Host');
      assert.deepEqual(verify(request), { ok: true, ak: AK }, request.url);
    }
  });

  it('turns an error answer into ApiError with error_code, error_msg and the request id', async () => {
    fakeFetch(() =>
      json(400, { error_code: 'DWS.0405', error_msg: 'guestAgent too old' }, { 'x-request-id': 'req-1' }),
    );
    const api = new ApiClient(await akskSession(), undefined, HOST);
    await assert.rejects(rotateKey(api, CLUSTER), (error: unknown) => {
      assert.ok(error instanceof ApiError, 'error instanceof ApiError');
      assert.equal(error.status, 400);
      assert.equal(error.code, 'DWS.0405');
      assert.equal(error.message, 'guestAgent too old');
      assert.equal(error.requestId, 'req-1');
      return true;
    });
    fakeFetch(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await assert.rejects(rotateKey(api, CLUSTER), { code: 'HTTP 502', message: 'Bad Gateway' });
    globalThis.fetch = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await assert.rejects(rotateKey(api, CLUSTER), { code: 'NETWORK' });
  });

  it('tells the app about a 401, so a token session can end', async () => {
    fakeFetch(() => json(401, { error_code: 'DWS.0106', error_msg: 'The token is invalid or has expired.' }));
    const seen: ApiError[] = [];
    const session: Session = {
      kind: 'token',
      token: 'old',
      expiresAt: '',
      projectId: PROJECT,
      projectName: null,
      userName: 'u',
      domainName: 'd',
    };
    await assert.rejects(rotateKey(new ApiClient(session, (e) => seen.push(e), HOST), CLUSTER));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.code, 'DWS.0106');
  });

  it('signs again with the server clock when the browser clock is off', async () => {
    const serverNow = Date.now() + 3 * 3600 * 1000; // the server is 3 hours ahead
    const sent = fakeFetch((request) => {
      const result = verify(request, serverNow);
      if (result.ok) return json(200, { events: [], next_marker: null });
      return json(
        401,
        { error_code: 'DWS.0104', error_msg: 'X-Sdk-Date is off' },
        {
          date: new Date(serverNow).toUTCString(),
        },
      );
    });
    const api = new ApiClient(await akskSession(), undefined, HOST);
    const page = await listAuditEvents(api);
    assert.deepEqual(page, { events: [], next_marker: null });
    assert.equal(sent.length, 2);
    assert.ok(
      Math.abs(api.clockOffsetMs - 3 * 3600 * 1000) < 5_000,
      'Math.abs(api.clockOffsetMs - 3 * 3600 * 1000) < 5_000',
    );
    // Later requests use the learnt offset at once.
    await listAuditEvents(api);
    assert.equal(sent.length, 3);
  });

  it('does not retry a 401 that is not about the clock', async () => {
    const sent = fakeFetch(() =>
      json(401, { error_code: 'DWS.0103', error_msg: 'signature' }, { date: new Date().toUTCString() }),
    );
    await assert.rejects(listAuditEvents(new ApiClient(await akskSession(), undefined, HOST)), {
      code: 'DWS.0103',
    });
    assert.equal(sent.length, 1);
  });
});
