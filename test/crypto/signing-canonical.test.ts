import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { stringify as qsStringify } from 'node:querystring';
import { describe, it } from 'node:test';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import fc from 'fast-check';
import {
  canonicalHeaders,
  canonicalQueryString,
  canonicalQueryStringOrNull,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  parseAuthorizationHeader,
  parseSdkDate,
  signedHeaderNames,
  stringToSign,
  urlEncode,
} from '../../src/crypto/signing-canonical.js';

// The official signer's building blocks are `protected static`; reach them for differential tests.
const official = AKSKSigner as unknown as {
  urlEncode(s: string): string;
  CanonicalURI(p: string): string;
  CanonicalQueryString(r: { queryParams: unknown }): string;
  buildCanonicalHeaders(h: Record<string, string>): string;
};

const SIG = 'a'.repeat(64);

describe('signing-canonical is isomorphic', () => {
  it('imports nothing from node and uses no Buffer', () => {
    const src = readFileSync(new URL('../../src/crypto/signing-canonical.ts', import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(src, /\bfrom\s+['"]/);
    assert.doesNotMatch(src, /\bimport\s*\(/);
    assert.doesNotMatch(src, /\brequire\s*\(/);
    assert.doesNotMatch(src, /\bBuffer\b/);
  });
});

describe('urlEncode', () => {
  it('matches the official signer on arbitrary unicode strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        assert.equal(urlEncode(s), official.urlEncode(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps only RFC 3986 unreserved characters', () => {
    assert.equal(urlEncode("AZaz09-._~!*'() /%+"), 'AZaz09-._~%21%2A%27%28%29%20%2F%25%2B');
    assert.equal(urlEncode('é😀'), '%C3%A9%F0%9F%98%80');
  });

  it('throws on a trailing lone surrogate like the official signer', () => {
    assert.throws(() => urlEncode('a\ud800'), URIError);
    assert.throws(() => official.urlEncode('a\ud800'));
  });
});

describe('canonicalUri', () => {
  it('re-encodes every segment (double encoding) and always ends with a slash', () => {
    assert.equal(canonicalUri('/v1/p1/clusters'), '/v1/p1/clusters/');
    assert.equal(canonicalUri('/v1/p1/clusters/'), '/v1/p1/clusters/');
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalUri('/v1/a%20b/c'), '/v1/a%2520b/c/');
    assert.equal(canonicalUri("/v1/a:b/c'd"), '/v1/a%3Ab/c%27d/');
    assert.equal(canonicalUri(''), '');
  });

  it('matches the official signer on arbitrary paths', () => {
    const segment = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), fc.boolean(), (segs, trailing) => {
        const path = `/${segs.join('/')}${trailing ? '/' : ''}`;
        assert.equal(canonicalUri(path), official.CanonicalURI(path));
      }),
      { numRuns: 1000 },
    );
  });
});

const queryKey = fc.string({ unit: 'binary', maxLength: 8 }).filter((k) => k !== '__proto__');
const queryValue = fc.string({ unit: 'binary', maxLength: 8 });
const queryParams = fc.dictionary(queryKey, fc.oneof(queryValue, fc.array(queryValue, { maxLength: 4 })), {
  maxKeys: 6,
});

describe('canonicalQueryString', () => {
  it('sorts by key, repeats keys sorted by value, keeps empty values', () => {
    assert.equal(canonicalQueryString({ b: '2', a: ['z', 'y'], c: '' }), 'a=y&a=z&b=2&c=');
    assert.equal(canonicalQueryString('b=2&a=z&a=y&c='), 'a=y&a=z&b=2&c=');
    assert.equal(canonicalQueryString('c'), 'c=');
    assert.equal(canonicalQueryString(''), '');
    assert.equal(canonicalQueryString('a=1&&b=2&'), 'a=1&b=2');
  });

  it('decodes the raw query and re-encodes with unreserved characters only', () => {
    // node's querystring leaves !'()* alone and encodes space as %20; '+' also means space.
    assert.equal(canonicalQueryString("k!*=it's&s=a%20b&p=a+b"), 'k%21%2A=it%27s&p=a%20b&s=a%20b');
    assert.equal(canonicalQueryString('q=%C3%A9%F0%9F%98%80'), 'q=%C3%A9%F0%9F%98%80');
    assert.equal(canonicalQueryString('q=%41'), 'q=A');
  });

  it('sorts by decoded key, not by encoded key', () => {
    // '~' (0x7e) sorts after 'a' but '%7E' would sort before it; the official sorts decoded keys.
    assert.equal(canonicalQueryString('%7E=1&a=2'), 'a=2&~=1');
    assert.equal(canonicalQueryString({ '~': '1', a: '2' }), 'a=2&~=1');
  });

  it('rejects a malformed percent-escape', () => {
    assert.equal(canonicalQueryStringOrNull('a=%zz'), null);
    assert.equal(canonicalQueryStringOrNull('a=%C3'), null);
    assert.throws(() => canonicalQueryString('a=%'), TypeError);
  });

  it('matches the official signer for parameter objects', () => {
    fc.assert(
      fc.property(queryParams, (params) => {
        const copy = structuredClone(params); // the official signer sorts arrays in place
        assert.equal(canonicalQueryString(params), official.CanonicalQueryString({ queryParams: copy }));
      }),
      { numRuns: 1000 },
    );
  });

  it('matches the official signer from the wire form the official client sends', () => {
    fc.assert(
      fc.property(queryParams, (params) => {
        const wire = qsStringify(params as Record<string, string | string[]>);
        const copy = structuredClone(params);
        assert.equal(canonicalQueryString(wire), official.CanonicalQueryString({ queryParams: copy }));
      }),
      { numRuns: 1000 },
    );
  });

  it('stringifies numbers and booleans like the official signer', () => {
    const params = { limit: 10, flag: true, ids: [10, 9] };
    assert.equal(canonicalQueryString(params), official.CanonicalQueryString({ queryParams: params }));
  });
});

describe('headers', () => {
  it('signs every header, lower-cased and sorted', () => {
    assert.deepEqual(
      signedHeaderNames({
        'X-Sdk-Date': 'd',
        host: 'h',
        'Content-Type': 'application/json',
        'X-Project-Id': 'p',
      }),
      ['content-type', 'host', 'x-project-id', 'x-sdk-date'],
    );
  });

  it('skips a lower-case multipart content-type like the official signer', () => {
    assert.deepEqual(signedHeaderNames({ host: 'h', 'content-type': 'multipart/form-data; boundary=x' }), [
      'host',
    ]);
    assert.deepEqual(signedHeaderNames({ host: 'h', 'Content-Type': 'multipart/form-data' }), [
      'content-type',
      'host',
    ]);
  });

  it('writes name:value lines verbatim (no trimming) with a trailing newline', () => {
    assert.equal(canonicalHeaders({ host: 'h:1', 'x-a': ' v ' }, ['host', 'x-a']), 'host:h:1\nx-a: v \n');
    assert.equal(canonicalHeaders({ Host: 'h' }, ['host']), 'host:h\n');
    assert.throws(() => canonicalHeaders({ host: 'h' }, ['host', 'x-a']), TypeError);
  });

  it('orders the lines like the official signer, even where it disagrees with SignedHeaders', () => {
    const name = fc.stringMatching(/^[a-z0-9._-]{1,6}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 6 }), (names) => {
        const headers = Object.fromEntries(names.map((n, i) => [n, `v${i}`]));
        assert.equal(
          canonicalHeaders(headers, signedHeaderNames(headers)),
          official.buildCanonicalHeaders(headers),
        );
      }),
      { numRuns: 1000 },
    );
    // The concrete case: code-unit order puts x-b first, localeCompare puts x_a first.
    assert.deepEqual(signedHeaderNames({ x_a: '1', 'x-b': '2' }), ['x-b', 'x_a']);
    assert.equal(canonicalHeaders({ x_a: '1', 'x-b': '2' }, ['x-b', 'x_a']), 'x_a:1\nx-b:2\n');
  });
});

describe('canonicalRequest / stringToSign', () => {
  it('joins the six parts with newlines (headers block adds its own)', () => {
    const out = canonicalRequest({
      method: 'GET',
      path: '/v1/p',
      query: 'b=1&a=2',
      headers: { host: 'h', 'x-sdk-date': '20240102T030405Z' },
      signedHeaders: ['host', 'x-sdk-date'],
      payloadHash: 'e3b0',
    });
    assert.equal(out, 'GET\n/v1/p/\na=2&b=1\nhost:h\nx-sdk-date:20240102T030405Z\n\nhost;x-sdk-date\ne3b0');
    assert.equal(stringToSign('20240102T030405Z', 'abc'), 'SDK-HMAC-SHA256\n20240102T030405Z\nabc');
  });
});

describe('parseAuthorizationHeader', () => {
  it('parses the official format', () => {
    const v = `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=${SIG}`;
    assert.deepEqual(parseAuthorizationHeader(v), {
      access: 'AK1',
      signedHeaders: ['host', 'x-sdk-date'],
      signedHeadersRaw: 'host;x-sdk-date',
      signature: SIG,
    });
  });

  it('tolerates parameter order and spacing around commas', () => {
    const v = `SDK-HMAC-SHA256  Signature=${SIG},SignedHeaders=host ,  Access=AK1`;
    assert.equal(parseAuthorizationHeader(v)?.access, 'AK1');
  });

  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['algorithm only', 'SDK-HMAC-SHA256'],
    ['no space after algorithm', `SDK-HMAC-SHA256Access=AK, SignedHeaders=host, Signature=${SIG}`],
    ['other algorithm', `SDK-HMAC-SHA1 Access=AK, SignedHeaders=host, Signature=${SIG}`],
    ['lower-case algorithm', `sdk-hmac-sha256 Access=AK, SignedHeaders=host, Signature=${SIG}`],
    ['AWS-style algorithm', `HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=${SIG}`],
    ['missing Access', `SDK-HMAC-SHA256 SignedHeaders=host, Signature=${SIG}`],
    ['missing SignedHeaders', `SDK-HMAC-SHA256 Access=AK, Signature=${SIG}`],
    ['missing Signature', 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=host'],
    [
      'duplicate Signature',
      `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=${SIG}, Signature=${SIG}`,
    ],
    ['unknown parameter', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=${SIG}, Foo=1`],
    ['empty Access', `SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=${SIG}`],
    ['Access with space', `SDK-HMAC-SHA256 Access=A K, SignedHeaders=host, Signature=${SIG}`],
    ['short signature', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=${SIG.slice(1)}`],
    ['non-hex signature', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=${'g'.repeat(64)}`],
    ['upper-case header name', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=Host, Signature=${SIG}`],
    ['empty header name', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;;x-a, Signature=${SIG}`],
    ['duplicate header name', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;host, Signature=${SIG}`],
    ['trailing comma', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=${SIG},`],
    ['lower-case parameter name', `SDK-HMAC-SHA256 access=AK, SignedHeaders=host, Signature=${SIG}`],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}`, () => assert.equal(parseAuthorizationHeader(value), null));
  }
});

describe('SDK date', () => {
  it('formats and parses YYYYMMDDTHHmmssZ in UTC', () => {
    const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    assert.equal(formatSdkDate(d), '20240102T030405Z');
    assert.equal(parseSdkDate('20240102T030405Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(parseSdkDate('20240229T235959Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
    // Year 0050 is year 50, not 1950 (Date.UTC maps 0-99 to 19xx).
    assert.equal(parseSdkDate('00500101T000000Z'), new Date(0).setUTCFullYear(50, 0, 1));
  });

  it('accepts exactly the real calendar days (leap years included), as a Date round trip does', () => {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    for (const y of [0, 4, 50, 99, 100, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9999]) {
      for (let m = 1; m <= 12; m++) {
        for (let d = 28; d <= 31; d++) {
          const reference = new Date(0);
          reference.setUTCFullYear(y, m - 1, d);
          reference.setUTCHours(23, 59, 58, 0);
          const expected = reference.getUTCDate() === d ? reference.getTime() : null;
          assert.equal(
            parseSdkDate(`${pad(y, 4)}${pad(m, 2)}${pad(d, 2)}T235958Z`),
            expected,
            `${y}-${m}-${d}`,
          );
        }
      }
    }
  });

  it('agrees with the format the official signer produces (moment)', () => {
    const d = '20240102T030405Z';
    const out = AKSKSigner.sign(
      { endpoint: 'https://h/x', method: 'GET', headers: { 'X-Sdk-Date': d }, queryParams: {} },
      { getAk: () => 'a', getSk: () => 's' } as never,
    ) as Record<string, string>;
    assert.equal(out['X-Sdk-Date'], d);
  });

  for (const s of [
    '2024-01-02T03:04:05Z',
    '20240102T030405',
    '20240102T030405z',
    '20240102 030405Z',
    '20241302T030405Z',
    '20240230T030405Z',
    '20230229T030405Z',
    '20240102T240405Z',
    '20240102T036005Z',
    '20240102T030460Z',
    '2024010aT030405Z',
    '20240102T030405Z ',
    '',
  ]) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.equal(parseSdkDate(s), null));
  }
});
