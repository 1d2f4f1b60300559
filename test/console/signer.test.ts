/**
 * The browser signer (console/src/api/signer.ts, WebCrypto) against the ground truth: the official
 * Huawei Cloud signer (AKSKSigner) and the server's own verifier. Node 20 has globalThis.crypto.subtle,
 * so the browser code runs here unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import fc from 'fast-check';
import { cleanQuery, encodeQuery } from '../../console/src/api/client.js';
import { hmacSha256Hex, importSecretKey, sha256Hex, signRequest } from '../../console/src/api/signer.js';
import { verifySignature } from '../../src/crypto/signing.js';
import { formatSdkDate } from '../../src/crypto/signing-canonical.js';

const AK = 'CONSOLEAKEXAMPLE0001';
const SK = 'console-secret-key-0123456789abcdefghij';
const PROJECT = '0123456789abcdef0123456789abcdef';
const HOST = '127.0.0.1:8080';

interface Case {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  date: Date;
}

/** What the official SDK's HTTP client signs for the same request the console sends. */
function officialAuthorization(c: Case): string {
  const headers: Record<string, string> = { 'X-Project-Id': PROJECT, 'X-Sdk-Date': formatSdkDate(c.date) };
  if (c.body !== undefined) headers['Content-Type'] = 'application/json';
  const request = {
    endpoint: `http://${HOST}${c.path}`,
    method: c.method,
    headers,
    queryParams: { ...(c.query ?? {}) },
    data: c.body,
  };
  const credential = new BasicCredentials().withAk(AK).withSk(SK);
  return (AKSKSigner.sign(request, credential) as Record<string, string>).Authorization!;
}

async function browserSigned(c: Case) {
  const headers: Record<string, string> = { 'X-Project-Id': PROJECT, host: HOST };
  const body = c.body === undefined ? undefined : JSON.stringify(c.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return signRequest({
    method: c.method,
    path: c.path,
    query: c.query ?? {},
    headers,
    body,
    ak: AK,
    key: await importSecretKey(SK),
    date: c.date,
  });
}

const DATE = new Date(Date.UTC(2025, 4, 14, 8, 2, 59));

const CASES: Case[] = [
  { method: 'GET', path: `/v1.0/${PROJECT}/clusters`, date: DATE },
  {
    method: 'GET',
    path: `/v1/${PROJECT}/clusters/97cbaab3-939e-4dbc-9187-0fe240f2b9fd/encrypt-info`,
    date: DATE,
  },
  {
    method: 'POST',
    path: `/v2/${PROJECT}/clusters/97cbaab3-939e-4dbc-9187-0fe240f2b9fd/encrypt`,
    body: {
      encrypt: {
        master_key_id: '5d2c1b0a-1111-4222-8333-944455556666',
        master_key_name: 'dws/main',
        crypt_algorithm: 'generalCipher',
      },
    },
    date: DATE,
  },
  {
    method: 'POST',
    path: `/v1/${PROJECT}/clusters/97cbaab3-939e-4dbc-9187-0fe240f2b9fd/rotate-key`,
    date: DATE,
  },
  {
    method: 'POST',
    path: `/v1.0/${PROJECT}/kms/create-key`,
    body: { key_alias: 'ünïcode/ключ', key_spec: 'SM4', key_description: 'a "quoted" \n line' },
    date: DATE,
  },
  {
    method: 'GET',
    path: `/v1/${PROJECT}/audit-events`,
    query: { limit: '50', marker: 'a b/c+d=e&f~g*h(i)!', zeta: 'é' },
    date: DATE,
  },
];

describe('console browser signer', () => {
  for (const c of CASES) {
    it(`matches the official signer: ${c.method} ${c.path.replace(PROJECT, '{project}')}`, async () => {
      const signed = await browserSigned(c);
      assert.equal(signed.authorization, officialAuthorization(c));
      assert.equal(signed.headers['X-Sdk-Date'], formatSdkDate(c.date));
      assert.equal(signed.headers.Authorization, signed.authorization);
      assert.ok(!('host' in signed.headers), 'the browser sets Host itself');
      const names =
        c.body === undefined ? 'host;x-project-id;x-sdk-date' : 'content-type;host;x-project-id;x-sdk-date';
      assert.equal(signed.signedHeaders, names);
    });
  }

  it('matches the official signer for generated paths, queries and bodies', async () => {
    const key = await importSecretKey(SK);
    const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE'),
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 10 }), {
          maxKeys: 4,
        }),
        fc.option(
          fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
          {
            nil: undefined,
          },
        ),
        fc.date({
          min: new Date('2001-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        async (method, segments, query, body, date) => {
          const c: Case = { method, path: `/${segments.join('/')}`, query, body, date };
          const headers: Record<string, string> = { 'X-Project-Id': PROJECT, host: HOST };
          const text = body === undefined ? undefined : JSON.stringify(body);
          if (text !== undefined) headers['Content-Type'] = 'application/json';
          const signed = await signRequest({
            method,
            path: c.path,
            query,
            headers,
            body: text,
            ak: AK,
            key,
            date,
          });
          assert.equal(signed.authorization, officialAuthorization(c));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('is accepted by the server verifier for exactly what the browser sends', async () => {
    for (const c of CASES) {
      const query = cleanQuery(c.query);
      const signed = await browserSigned(c);
      const body = c.body === undefined ? '' : JSON.stringify(c.body);
      const wire: Record<string, string> = { host: HOST };
      for (const [name, value] of Object.entries(signed.headers)) wire[name.toLowerCase()] = value;
      const result = verifySignature({
        method: c.method,
        rawPath: c.path,
        rawQuery: encodeQuery(query).replace(/^\?/, ''),
        headers: wire,
        body: Buffer.from(body, 'utf8'),
        now: c.date.getTime() + 1000,
        lookupSecret: (ak) => (ak === AK ? SK : undefined),
      });
      assert.deepEqual(result, { ok: true, ak: AK }, `${c.method} ${c.path}`);
      // The same request seen from another host does not verify: host is signed.
      const elsewhere = verifySignature({
        method: c.method,
        rawPath: c.path,
        rawQuery: encodeQuery(query).replace(/^\?/, ''),
        headers: { ...wire, host: 'evil.example:8080' },
        body: Buffer.from(body, 'utf8'),
        now: c.date.getTime(),
        lookupSecret: () => SK,
      });
      assert.equal(elsewhere.ok, false);
      assert.equal(!elsewhere.ok && elsewhere.reason, 'bad_signature');
    }
  });

  it('keeps the secret key out of reach: the CryptoKey cannot be exported', async () => {
    const key = await importSecretKey(SK);
    assert.equal(key.extractable, false);
    assert.deepEqual(key.usages, ['sign']);
    await assert.rejects(globalThis.crypto.subtle.exportKey('raw', key));
  });

  it('hashes and MACs like node:crypto', async () => {
    const { createHash, createHmac } = await import('node:crypto');
    for (const text of ['', 'abc', 'ünïcode ✓ 🔑', 'x'.repeat(10_000)]) {
      assert.equal(await sha256Hex(text), createHash('sha256').update(text).digest('hex'));
      assert.equal(
        await hmacSha256Hex(await importSecretKey(SK), text),
        createHmac('sha256', SK).update(text).digest('hex'),
      );
    }
  });

  it('builds the query the browser sends: sorted, encoded, empty values dropped', () => {
    assert.deepEqual(cleanQuery({ limit: 50, marker: undefined, x: null, y: '' }), { limit: '50' });
    assert.equal(encodeQuery({}), '');
    assert.equal(encodeQuery({ marker: 'a b&c', limit: '5' }), '?limit=5&marker=a%20b%26c');
  });
});
