import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify as qsStringify } from 'node:querystring';
import { after, before, describe, it } from 'node:test';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import { signRequest, type VerifyInput, verifySignature } from '../../src/crypto/signing.js';
import {
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  formatSdkDate,
  pythonCanonicalUri,
  stringToSign,
} from '../../src/crypto/signing-canonical.js';
import { pyQuote, pythonCanonicalRequest, pythonSign } from '../helpers/python-signer.js';

const AK = 'HPUAEXAMPLEACCESSKEY1';
const SK = 'ExampleSecretKey0123456789abcdefghijklmn';
const SECRETS: Record<string, string> = { [AK]: SK };
const lookupSecret = (ak: string): string | undefined => SECRETS[ak];

const SIGNED_AT = Date.UTC(2024, 4, 6, 7, 8, 9);
const SDK_DATE = formatSdkDate(new Date(SIGNED_AT)); // 20240506T070809Z
const MIN = 60_000;

interface OfficialCase {
  name: string;
  endpoint?: string; // scheme://host[:port]
  method: string;
  path: string; // as sent on the wire (path params already substituted/encoded)
  headers?: Record<string, string>;
  queryParams?: Record<string, string | number | string[]>;
  data?: Record<string, unknown>;
}

/** Signs with the official AKSKSigner the way BaseCredentials.processAuthRequest calls it. */
/** The result without the canonical request and string to sign of a signature mismatch. */
function withoutDebug(result: ReturnType<typeof verifySignature>) {
  if (result.ok) return result;
  return { ok: result.ok, reason: result.reason };
}

function officialSign(c: OfficialCase, sk = SK, ak = AK): Record<string, string> {
  const request = {
    endpoint: `${c.endpoint ?? 'https://dws.example.com'}${c.path}`,
    method: c.method,
    headers: { 'X-Sdk-Date': SDK_DATE, ...c.headers },
    queryParams: structuredClone(c.queryParams ?? {}),
    data: c.data,
  };
  const credential = new BasicCredentials().withAk(ak).withSk(sk);
  return AKSKSigner.sign(request, credential) as Record<string, string>;
}

/** What the server receives for an officially signed request (DefaultHttpClient's wire format). */
function wireOf(c: OfficialCase, signed: Record<string, string>): VerifyInput {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed)) headers[k.toLowerCase()] = String(v);
  const query = qsStringify(c.queryParams ?? {});
  return {
    method: c.method,
    rawPath: c.path.length > 1 ? c.path.replace(/\/$/, '') : c.path, // the client strips a trailing '/'
    rawQuery: query,
    headers,
    body: c.data === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(c.data)),
    now: SIGNED_AT,
    lookupSecret,
  };
}

const CASES: OfficialCase[] = [
  {
    name: 'GET with path parameters',
    method: 'GET',
    path: '/v1/0a1b2c3d4e5f/clusters/7d85f602-a948-4a30-afd4-e84f47471c15/encryption',
    headers: { 'X-Project-Id': '0a1b2c3d4e5f' },
  },
  {
    name: 'GET with several unsorted query keys',
    method: 'GET',
    path: '/v1/p/clusters',
    queryParams: { offset: '0', limit: 10, marker: 'abc', Zed: 'upper-case sorts first' },
  },
  {
    name: 'query with characters needing encoding',
    method: 'GET',
    path: '/v1/p/keys',
    queryParams: {
      name: 'a b/c?d=e&f',
      'key with space': 'x+y',
      tilde: '~._-',
      bang: "!'()*",
      colon: 'a:b,c',
    },
  },
  {
    name: 'repeated query keys',
    method: 'GET',
    path: '/v1/p/tags',
    queryParams: { tag: ['b', 'a', 'c'], a: '1' },
  },
  { name: 'empty query value', method: 'GET', path: '/v1/p/x', queryParams: { empty: '', b: '1' } },
  {
    name: 'unicode in query',
    method: 'GET',
    path: '/v1/p/x',
    queryParams: { q: 'é日本😀', ключ: 'значение' },
  },
  {
    name: 'POST with JSON body',
    method: 'POST',
    path: '/v1/p/clusters/c1/encryption',
    headers: { 'Content-Type': 'application/json', 'X-Project-Id': 'p' },
    data: { encryption_enabled: true, key: 'é', nested: { ids: [1, 2, 3] } },
  },
  {
    name: 'POST with empty body',
    method: 'POST',
    path: '/v1/p/clusters/c1/rotate',
    headers: { 'Content-Type': 'application/json' },
  },
  { name: 'DELETE', method: 'DELETE', path: '/v1/p/clusters/c1/encryption' },
  { name: 'percent-encoded path segment (double encoding)', method: 'GET', path: '/v1/p%201/a%2Fb' },
  { name: 'root path', method: 'GET', path: '/' },
  { name: 'explicit port in host', endpoint: 'http://127.0.0.1:8443', method: 'GET', path: '/v1/p' },
  {
    name: 'underscore header (localeCompare ordering quirk)',
    method: 'GET',
    path: '/v1/p',
    headers: { x_a: '1', 'x-b': '2' },
  },
  {
    name: 'UNSIGNED-PAYLOAD',
    method: 'PUT',
    path: '/v1/p/blob',
    headers: { 'content-type': 'text/plain', 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
  },
  {
    name: 'security token header',
    method: 'GET',
    path: '/v1/p',
    headers: { 'X-Security-Token': 'tok/en+=', 'X-Project-Id': 'p' },
  },
];

function urlOf(c: OfficialCase, absolute: boolean): string {
  const query = qsStringify(c.queryParams ?? {});
  const base = absolute ? (c.endpoint ?? 'https://dws.example.com') : '';
  return `${base}${c.path}${query === '' ? '' : `?${query}`}`;
}

describe('ground truth: the official signer', () => {
  for (const c of CASES) {
    it(`${c.name}: verifySignature accepts it`, () => {
      const signed = officialSign(c);
      assert.deepEqual(verifySignature(wireOf(c, signed)), { ok: true, ak: AK });
    });

    it(`${c.name}: signRequest produces the identical Authorization (absolute url)`, () => {
      const signed = officialSign(c);
      const ours = signRequest({
        method: c.method,
        url: urlOf(c, true),
        headers: c.headers,
        body: c.data === undefined ? undefined : JSON.stringify(c.data),
        ak: AK,
        sk: SK,
        date: new Date(SIGNED_AT),
      });
      assert.equal(ours.Authorization, signed.Authorization);
      assert.equal(ours['X-Sdk-Date'], SDK_DATE);
      assert.equal(ours.host, signed.host);
    });

    it(`${c.name}: signRequest produces the identical Authorization (path + host header)`, () => {
      const signed = officialSign(c);
      const ours = signRequest({
        method: c.method,
        url: urlOf(c, false),
        headers: { ...c.headers, Host: signed.host!, 'X-Sdk-Date': SDK_DATE },
        body: c.data === undefined ? undefined : Buffer.from(JSON.stringify(c.data)),
        ak: AK,
        sk: SK,
      });
      assert.deepEqual(Object.keys(ours), ['Authorization']);
      assert.equal(ours.Authorization, signed.Authorization);
    });
  }

  it('the multipart content-type quirk is reproduced', () => {
    const c: OfficialCase = {
      name: 'multipart',
      method: 'POST',
      path: '/v1/p/upload',
      headers: {
        'content-type': 'multipart/form-data; boundary=xyz',
        'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD',
      },
    };
    const signed = officialSign(c);
    assert.match(signed.Authorization!, /SignedHeaders=host;x-sdk-content-sha256;x-sdk-date,/);
    const ours = signRequest({
      method: 'POST',
      url: urlOf(c, true),
      headers: c.headers,
      ak: AK,
      sk: SK,
      date: new Date(SIGNED_AT),
    });
    assert.equal(ours.Authorization, signed.Authorization);
  });

  it('signRequest output verifies with verifySignature', () => {
    const body = '{"a":1}';
    const added = signRequest({
      method: 'POST',
      url: 'https://dws.example.com/v1/p/x?b=2&a=1',
      headers: { 'Content-Type': 'application/json' },
      body,
      ak: AK,
      sk: SK,
      date: new Date(SIGNED_AT),
    });
    const headers = Object.fromEntries(
      Object.entries({ 'Content-Type': 'application/json', ...added }).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const r = verifySignature({
      method: 'POST',
      rawPath: '/v1/p/x',
      rawQuery: 'b=2&a=1',
      headers,
      body: Buffer.from(body),
      now: SIGNED_AT,
      lookupSecret,
    });
    assert.deepEqual(r, { ok: true, ak: AK });
  });

  it('the canonical module alone, hashed with WebCrypto (as in the browser), gives the same signature', async () => {
    const headers = { host: 'dws.example.com', 'x-sdk-date': SDK_DATE, 'x-project-id': 'p' };
    const signedHeaders = ['host', 'x-project-id', 'x-sdk-date'];
    const enc = new TextEncoder();
    const hex = (b: ArrayBuffer) => Buffer.from(b).toString('hex');
    const canonical = [
      'GET',
      canonicalUri('/v1/p/x'),
      canonicalQueryString({ b: '2', a: '1' }),
      canonicalHeaders(headers, signedHeaders),
      signedHeaders.join(';'),
      hex(await crypto.subtle.digest('SHA-256', new Uint8Array())),
    ].join('\n');
    const toSign = stringToSign(SDK_DATE, hex(await crypto.subtle.digest('SHA-256', enc.encode(canonical))));
    const key = await crypto.subtle.importKey(
      'raw',
      enc.encode(SK),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const signature = hex(await crypto.subtle.sign('HMAC', key, enc.encode(toSign)));
    const ours = signRequest({
      method: 'GET',
      url: '/v1/p/x?b=2&a=1',
      headers: { host: 'dws.example.com', 'X-Project-Id': 'p' },
      ak: AK,
      sk: SK,
      date: new Date(SIGNED_AT),
    });
    assert.equal(
      ours.Authorization,
      `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
    );
  });
});

describe('ground truth: the official client over HTTP', () => {
  interface Captured {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: Buffer;
  }
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  let client: HcClient;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const credential = new BasicCredentials().withAk(AK).withSk(SK).withProjectId('0a1b2c3d4e5f');
    client = new HcClient(new DefaultHttpClient({}, [endpoint]))
      .withEndpoints([endpoint])
      .withCredential(credential);
  });
  after(() => server.close());

  async function send(options: {
    method: string;
    url: string;
    pathParams?: Record<string, string>;
    queryParams?: Record<string, unknown>;
    contentType?: string;
    data?: unknown;
  }): Promise<Captured> {
    captured.length = 0;
    await client.sendRequest({
      pathParams: {},
      queryParams: {},
      headers: {},
      ...options,
    } as never);
    assert.equal(captured.length, 1);
    return captured[0]!;
  }

  function check(req: Captured, options: { allowUnsignedPayload?: boolean } = {}): void {
    const q = req.url.indexOf('?');
    const rawPath = q < 0 ? req.url : req.url.slice(0, q);
    const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
    const result = verifySignature({
      method: req.method,
      rawPath,
      rawQuery,
      headers: req.headers,
      body: req.body,
      now: Date.now(),
      lookupSecret,
      ...options,
    });
    assert.deepEqual(result, { ok: true, ak: AK });

    // Re-sign exactly what arrived (only the headers it signed) and compare Authorization headers.
    const auth = req.headers.authorization!;
    const names = /SignedHeaders=([^,]+),/.exec(auth)![1]!.split(';');
    const headers = Object.fromEntries(names.map((n) => [n, String(req.headers[n])]));
    const ours = signRequest({ method: req.method, url: req.url, headers, body: req.body, ak: AK, sk: SK });
    assert.equal(ours.Authorization, auth);
  }

  it('GET with path parameters and the project header', async () => {
    const req = await send({
      method: 'GET',
      url: '/v1/{project_id}/clusters/{cluster_id}/encryption',
      pathParams: { cluster_id: '7d85f602-a948-4a30-afd4-e84f47471c15' },
    });
    assert.match(req.headers.authorization!, /SignedHeaders=host;x-project-id;x-sdk-date,/);
    check(req);
  });

  it('GET with a query of several, repeated, encoded and unicode parameters', async () => {
    const req = await send({
      method: 'GET',
      url: '/v1/{project_id}/clusters',
      queryParams: {
        offset: 0,
        limit: 10,
        tag: ['b', 'a'],
        name: "a b/c?d=e&f!'()*",
        q: 'é日本😀',
        empty: '',
      },
    });
    check(req);
  });

  it('POST with a JSON body', async () => {
    const req = await send({
      method: 'POST',
      url: '/v1/{project_id}/clusters/c1/encryption',
      contentType: 'application/json;charset=UTF-8',
      data: { encryption_enabled: true, key: 'é', nested: { ids: [1, 2, 3] } },
    });
    assert.ok(req.body.length > 0, 'req.body.length > 0');
    assert.match(req.headers.authorization!, /SignedHeaders=content-type;host;x-project-id;x-sdk-date,/);
    check(req);
  });

  it('POST with an empty body', async () => {
    const req = await send({
      method: 'POST',
      url: '/v1/{project_id}/clusters/c1/rotate',
      contentType: 'application/json',
    });
    assert.equal(req.body.length, 0);
    check(req);
  });

  it('a non-JSON content type is sent as UNSIGNED-PAYLOAD: refused by default, accepted on request', async () => {
    const req = await send({
      method: 'PUT',
      url: '/v1/{project_id}/blob',
      contentType: 'text/plain',
      data: 'hello',
    });
    assert.equal(req.headers['x-sdk-content-sha256'], 'UNSIGNED-PAYLOAD');
    const q = req.url.indexOf('?');
    assert.deepEqual(
      verifySignature({
        method: req.method,
        rawPath: q < 0 ? req.url : req.url.slice(0, q),
        rawQuery: q < 0 ? '' : req.url.slice(q + 1),
        headers: req.headers,
        body: req.body,
        now: Date.now(),
        lookupSecret,
      }),
      { ok: false, reason: 'content_hash_mismatch' },
      'the body is not covered by the signature',
    );
    check(req, { allowUnsignedPayload: true });
  });
});

describe('verifySignature failures', () => {
  const GET: OfficialCase = {
    name: 'get',
    method: 'GET',
    path: '/v1/p/clusters/c1',
    headers: { 'X-Project-Id': 'p' },
    queryParams: { limit: '10', marker: 'm' },
  };
  const POST: OfficialCase = {
    name: 'post',
    method: 'POST',
    path: '/v1/p/clusters/c1/encryption',
    headers: { 'Content-Type': 'application/json', 'X-Project-Id': 'p' },
    data: { encryption_enabled: true },
  };
  const getInput = () => wireOf(GET, officialSign(GET));
  const postInput = () => wireOf(POST, officialSign(POST));

  /** The unmodified input passes; the modified one fails with `reason`. */
  function expectFailure(base: VerifyInput, mutate: (i: VerifyInput) => VerifyInput, reason: string): void {
    assert.equal(verifySignature(base).ok, true, 'baseline must verify');
    assert.deepEqual(withoutDebug(verifySignature(mutate({ ...base, headers: { ...base.headers } }))), {
      ok: false,
      reason,
    });
  }

  const withHeader = (i: VerifyInput, name: string, value: string | undefined): VerifyInput => {
    const headers = { ...i.headers };
    if (value === undefined) delete headers[name];
    else headers[name] = value;
    return { ...i, headers };
  };

  function reSign(
    i: VerifyInput,
    authorization: (signature: string) => string,
    signedHeaders: string[],
  ): VerifyInput {
    // An otherwise valid signature over exactly these signed headers.
    const h = i.headers as Record<string, string>;
    const canonical = [
      i.method,
      canonicalUri(i.rawPath),
      canonicalQueryString(i.rawQuery),
      canonicalHeaders(h, signedHeaders),
      signedHeaders.join(';'),
      createHash('sha256').update(i.body).digest('hex'),
    ].join('\n');
    const toSign = stringToSign(h['x-sdk-date']!, createHash('sha256').update(canonical).digest('hex'));
    const signature = createHmac('sha256', SK).update(toSign).digest('hex');
    return withHeader(i, 'authorization', authorization(signature));
  }

  const signedNames = (i: VerifyInput) =>
    /SignedHeaders=([^,]+),/.exec(i.headers.authorization as string)![1]!.split(';');
  /** Re-signs with the same SignedHeaders list. */
  const reSignSame = (i: VerifyInput): VerifyInput => {
    const names = signedNames(i);
    return reSign(
      i,
      (s) => `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=${names.join(';')}, Signature=${s}`,
      names,
    );
  };

  it('changed method', () => expectFailure(getInput(), (i) => ({ ...i, method: 'HEAD' }), 'bad_signature'));
  it('changed method (POST to PUT)', () =>
    expectFailure(postInput(), (i) => ({ ...i, method: 'PUT' }), 'bad_signature'));
  it('changed path', () =>
    expectFailure(getInput(), (i) => ({ ...i, rawPath: '/v1/p/clusters/c2' }), 'bad_signature'));
  it('changed path: trailing slash is not significant (official canonical URI always ends in /)', () => {
    const i = getInput();
    assert.equal(verifySignature({ ...i, rawPath: `${i.rawPath}/` }).ok, true);
  });
  it('changed path encoding (%31 vs 1) still names the same path: the Python form of the signature', () => {
    // The Python signer decodes the path before encoding it, so `c%31` and `c1` sign alike there;
    // the router decodes both to the same id.
    const i = getInput();
    assert.equal(verifySignature({ ...i, rawPath: '/v1/p/clusters/c%31' }).ok, true);
    expectFailure(getInput(), (x) => ({ ...x, rawPath: '/v1/p/clusters/c%32' }), 'bad_signature');
  });
  it('changed query value', () =>
    expectFailure(getInput(), (i) => ({ ...i, rawQuery: 'limit=11&marker=m' }), 'bad_signature'));
  it('added query parameter', () =>
    expectFailure(getInput(), (i) => ({ ...i, rawQuery: `${i.rawQuery}&x=1` }), 'bad_signature'));
  it('removed query parameter', () =>
    expectFailure(getInput(), (i) => ({ ...i, rawQuery: 'limit=10' }), 'bad_signature'));
  it('query order and encoding are not significant', () => {
    const i = getInput();
    assert.equal(verifySignature({ ...i, rawQuery: 'marker=%6D&limit=10' }).ok, true);
  });
  it('malformed query', () =>
    expectFailure(getInput(), (i) => ({ ...i, rawQuery: 'limit=%zz&marker=m' }), 'malformed'));
  it('changed signed header', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'x-project-id', 'other'), 'bad_signature'));
  it('changed host', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'host', 'evil.example.com'), 'bad_signature'));
  it('unsigned extra header does not matter', () => {
    assert.equal(verifySignature(withHeader(getInput(), 'user-agent', 'x')).ok, true);
  });
  it('changed body', () =>
    expectFailure(
      postInput(),
      (i) => ({ ...i, body: Buffer.from('{"encryption_enabled":false}') }),
      'bad_signature',
    ));
  it('body re-serialized with different whitespace (raw bytes are what count)', () =>
    expectFailure(
      postInput(),
      (i) => ({ ...i, body: Buffer.from('{"encryption_enabled": true}') }),
      'bad_signature',
    ));
  it('body dropped', () =>
    expectFailure(postInput(), (i) => ({ ...i, body: Buffer.alloc(0) }), 'bad_signature'));
  it('changed X-Sdk-Date inside the window', () =>
    expectFailure(
      getInput(),
      (i) => withHeader(i, 'x-sdk-date', formatSdkDate(new Date(SIGNED_AT + 1000))),
      'bad_signature',
    ));

  it('window: exactly 15 minutes either way is accepted', () => {
    const i = getInput();
    assert.equal(verifySignature({ ...i, now: SIGNED_AT + 15 * MIN }).ok, true);
    assert.equal(verifySignature({ ...i, now: SIGNED_AT - 15 * MIN }).ok, true);
  });
  it('date too old (server 15 min + 1 s later)', () =>
    expectFailure(getInput(), (i) => ({ ...i, now: SIGNED_AT + 15 * MIN + 1000 }), 'expired'));
  it('date in the future (server 15 min + 1 s earlier)', () =>
    expectFailure(getInput(), (i) => ({ ...i, now: SIGNED_AT - 15 * MIN - 1000 }), 'expired'));
  it('custom window', () =>
    expectFailure(getInput(), (i) => ({ ...i, now: SIGNED_AT + 61_000, windowMs: MIN }), 'expired'));
  it('unparseable X-Sdk-Date (validly signed)', () =>
    expectFailure(
      getInput(),
      (i) => reSignSame(withHeader(i, 'x-sdk-date', '2024-05-06T07:08:09Z')),
      'bad_date',
    ));

  it('wrong secret', () => {
    const c = GET;
    const i = wireOf(c, officialSign(c, 'not-the-secret'));
    const result = verifySignature(i);
    assert.deepEqual(withoutDebug(result), { ok: false, reason: 'bad_signature' });
    // What the server computed, for the caller to compare with its signer's: no secret in it.
    assert.ok(!result.ok && result.debug, '!result.ok && result.debug');
    assert.match(result.debug.canonicalRequest, /^GET\n/);
    assert.match(result.debug.stringToSign, /^SDK-HMAC-SHA256\n\d{8}T\d{6}Z\n[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(result.debug).includes(SK), '!JSON.stringify(result.debug).includes(SK)');
    assert.equal(verifySignature(getInput()).ok, true);
  });

  it('unknown access key: its own reason, and the HMAC is still computed (same cost)', () => {
    const i = wireOf(GET, officialSign(GET, SK, 'UNKNOWNAK'));
    const asked: string[] = [];
    const r = verifySignature({
      ...i,
      lookupSecret: (ak) => {
        asked.push(ak);
        return undefined;
      },
    });
    assert.deepEqual(r, { ok: false, reason: 'unknown_access_key' });
    assert.deepEqual(asked, ['UNKNOWNAK']);
  });

  it('an empty secret counts as unknown even when the signature matches it', () => {
    const i = wireOf(GET, officialSign(GET, ''));
    assert.deepEqual(verifySignature({ ...i, lookupSecret: () => '' }), {
      ok: false,
      reason: 'unknown_access_key',
    });
  });

  it('missing Authorization header', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'authorization', undefined), 'missing'));
  it('empty Authorization header', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'authorization', ''), 'missing'));
  it('signed header not sent', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'x-project-id', undefined), 'malformed'));
  it('X-Sdk-Date not sent', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'x-sdk-date', undefined), 'malformed'));
  it('X-Sdk-Date not among the signed headers', () =>
    expectFailure(
      getInput(),
      (i) =>
        reSign(i, (s) => `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-project-id, Signature=${s}`, [
          'host',
          'x-project-id',
        ]),
      'malformed',
    ));
  it('the reSign helper itself produces valid signatures', () => {
    const i = getInput();
    assert.equal(verifySignature(reSignSame(withHeader(i, 'x-project-id', 'other'))).ok, true);
  });
  it('malformed Authorization', () =>
    expectFailure(getInput(), (i) => withHeader(i, 'authorization', 'SDK-HMAC-SHA256 garbage'), 'malformed'));
  it('truncated signature', () =>
    expectFailure(
      getInput(),
      (i) => withHeader(i, 'authorization', (i.headers.authorization as string).slice(0, -2)),
      'malformed',
    ));
  it('wrong algorithm name', () =>
    expectFailure(
      getInput(),
      (i) =>
        withHeader(
          i,
          'authorization',
          (i.headers.authorization as string).replace('SDK-HMAC-SHA256', 'SDK-HMAC-SHA512'),
        ),
      'malformed',
    ));
  it('flipped signature bit', () =>
    expectFailure(
      getInput(),
      (i) => {
        const a = i.headers.authorization as string;
        const last = a.at(-1) === '0' ? '1' : '0';
        return withHeader(i, 'authorization', a.slice(0, -1) + last);
      },
      'bad_signature',
    ));

  describe('X-Sdk-Content-Sha256', () => {
    const body = '{"encryption_enabled":true}';
    const realHash = createHash('sha256').update(body).digest('hex');
    const withSha = (sha: string): VerifyInput => {
      const c: OfficialCase = { ...POST, headers: { ...POST.headers, 'X-Sdk-Content-Sha256': sha } };
      return wireOf(c, officialSign(c));
    };

    it('the real hash is accepted (also in upper case)', () => {
      assert.equal(verifySignature(withSha(realHash)).ok, true);
      assert.equal(verifySignature(withSha(realHash.toUpperCase())).ok, true);
    });
    it('a signed hash that does not match the body', () => {
      const i = withSha(createHash('sha256').update('something else').digest('hex'));
      assert.deepEqual(verifySignature(i), { ok: false, reason: 'content_hash_mismatch' });
    });
    it('a body changed under a correct signed hash', () =>
      expectFailure(withSha(realHash), (i) => ({ ...i, body: Buffer.from('{}') }), 'content_hash_mismatch'));
    it('a garbage hash value', () => {
      assert.deepEqual(verifySignature(withSha('not-a-hash')), {
        ok: false,
        reason: 'content_hash_mismatch',
      });
    });
    it('UNSIGNED-PAYLOAD with a body is refused unless allowed (the signature does not cover the body)', () => {
      const i = withSha('UNSIGNED-PAYLOAD');
      assert.ok(i.body.length > 0, 'i.body.length > 0');
      assert.deepEqual(verifySignature(i), { ok: false, reason: 'content_hash_mismatch' });
      assert.equal(verifySignature({ ...i, allowUnsignedPayload: true }).ok, true);
      assert.equal(
        verifySignature({ ...i, body: Buffer.from('anything'), allowUnsignedPayload: true }).ok,
        true,
      );
    });
    it('UNSIGNED-PAYLOAD with an empty body is accepted', () => {
      const c: OfficialCase = {
        name: 'empty',
        method: 'POST',
        path: '/v1/p/clusters/c1/rotate-key',
        headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      };
      assert.deepEqual(verifySignature(wireOf(c, officialSign(c))), { ok: true, ak: AK });
    });
    it('UNSIGNED-PAYLOAD swapped in after signing the real hash', () => {
      expectFailure(
        withSha(realHash),
        (i) => withHeader(i, 'x-sdk-content-sha256', 'UNSIGNED-PAYLOAD'),
        'content_hash_mismatch',
      );
      expectFailure(
        withSha(realHash),
        (i) => ({ ...withHeader(i, 'x-sdk-content-sha256', 'UNSIGNED-PAYLOAD'), allowUnsignedPayload: true }),
        'bad_signature',
      );
    });
  });
});

describe('both official path canonicalizations (Node and Python signers)', () => {
  // Ids as a user passes them to each SDK, the wire path each SDK builds, and both canonical URIs.
  // Node: encodeURIComponent on the wire (keeps !'()*), then the signer encodes the wire path again.
  // Python: quote(safe='') on the wire (encodes !), then the signer decodes and encodes once.
  const IDS: { name: string; id: string; nodeWire: string; pythonWire: string; oldPython?: true }[] = [
    { name: '%20 (space)', id: 'not a uuid', nodeWire: 'not%20a%20uuid', pythonWire: 'not%20a%20uuid' },
    { name: '%2F (slash inside a segment)', id: 'a/b', nodeWire: 'a%2Fb', pythonWire: 'a%2Fb' },
    { name: 'UTF-8', id: 'clé', nodeWire: 'cl%C3%A9', pythonWire: 'cl%C3%A9' },
    {
      name: "'!' (kept by Node's encodeURIComponent, encoded by Python)",
      id: 'a!b',
      nodeWire: 'a!b',
      pythonWire: 'a%21b',
    },
    // Python before 3.7 quoted '~' (RFC 3986 unreserved) on the wire; its signer decodes it back.
    { name: "'~' sent as %7E", id: 'x~y', nodeWire: 'x~y', pythonWire: 'x%7Ey', oldPython: true },
  ];
  const path = (segment: string) => `/v1/0a1b2c3d4e5f/clusters/${segment}/encrypt-info`;

  for (const c of IDS) {
    it(`${c.name}: the wire forms are what each SDK sends`, () => {
      assert.equal(encodeURIComponent(c.id), c.nodeWire);
      if (c.oldPython) assert.equal(pyQuote(c.id).replaceAll('~', '%7E'), c.pythonWire);
      else assert.equal(pyQuote(c.id), c.pythonWire);
    });

    it(`${c.name}: a Python-signed request verifies`, () => {
      const rawPath = path(c.pythonWire);
      const date = new Date(SIGNED_AT);
      const { headers } = pythonSign({
        method: 'GET',
        resourcePath: rawPath,
        query: [['limit', '10']],
        host: 'dws.example.com',
        ak: AK,
        sk: SK,
        date,
      });
      const lower: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
      const input: VerifyInput = {
        method: 'GET',
        rawPath,
        rawQuery: 'limit=10',
        headers: lower,
        body: Buffer.alloc(0),
        now: SIGNED_AT,
        lookupSecret,
      };
      assert.deepEqual(verifySignature(input), { ok: true, ak: AK });
      // and it does not verify for another path
      assert.deepEqual(withoutDebug(verifySignature({ ...input, rawPath: path(`${c.pythonWire}x`) })), {
        ok: false,
        reason: 'bad_signature',
      });
    });

    it(`${c.name}: a Node-signed request verifies`, () => {
      const oc: OfficialCase = { name: c.name, method: 'GET', path: path(c.nodeWire) };
      assert.deepEqual(verifySignature(wireOf(oc, officialSign(oc))), { ok: true, ak: AK });
    });

    it(`${c.name}: pythonCanonicalUri is the Python signer's canonical URI`, () => {
      const expected = pythonCanonicalRequest('GET', path(c.pythonWire), [], {}, '').canonical.split('\n')[1];
      assert.equal(pythonCanonicalUri(path(c.pythonWire)), expected);
      assert.equal(pythonCanonicalUri(path(c.nodeWire)), expected, 'both wire forms decode alike');
    });
  }

  it('the two forms differ exactly when the path holds a percent-escape', () => {
    assert.equal(canonicalUri('/v1/a%20b'), '/v1/a%2520b/');
    assert.equal(pythonCanonicalUri('/v1/a%20b'), '/v1/a%20b/');
    assert.equal(pythonCanonicalUri('/v1/a%2Fb'), '/v1/a/b/', '%2F becomes a separator in the Python form');
    assert.equal(pythonCanonicalUri("/v1/a!b'c"), canonicalUri("/v1/a!b'c"));
    assert.equal(
      pythonCanonicalUri('/v1/%zz%C3'),
      '/v1/%25zz%EF%BF%BD/',
      'bad escapes kept, bad UTF-8 replaced',
    );
  });
});
