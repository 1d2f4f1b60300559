/**
 * Property-based tests of the whole API (fast-check), every request signed by the official signer so
 * that hostile input reaches validation rather than stopping at authentication:
 * 1. hostile requests (paths, ids, headers, query strings and bodies: wrong types, missing and extra
 *    fields, huge strings, deep nesting, unicode, NUL bytes, numbers at the limits, invalid JSON, bodies
 *    over the limit) to every DWS and KMS route never get a 5xx; every 4xx is `{"error_code",
 *    "error_msg"}` with X-Request-Id; and a refused request changes nothing in the store;
 * 2. random sequences of valid and invalid operations, with the job runner working concurrently, keep
 *    the store's invariants (test/helpers/invariants.ts) after every step and let every job finish.
 * Reproduce a failure with `FC_SEED=<seed> npm test -- robustness/properties`; hunt longer with
 * `FC_RUNS_SCALE=10`; `FC_DEBUG=1` adds the error codes to the outcome tally printed by the second test.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { loadRootKey } from '../../src/server.js';
import { checkInvariants, snapshotStore } from '../helpers/invariants.js';
import { type ApiResponse, clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });
/** FC_RUNS_SCALE=10 runs ten times as many cases (a longer hunt than the default quick run). */
const SCALE = Number(process.env.FC_RUNS_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const MiB = 1024 * 1024;

/** The shape every answer must have: never a 5xx; a refusal in the error format; always a request id. */
function assertWellFormed(res: ApiResponse, what: string): void {
  assert.ok(res.status < 500, `${what} answered ${res.status}: ${res.text.slice(0, 300)}`);
  assert.ok(res.headers.get('x-request-id'), `${what}: no X-Request-Id`);
  if (res.status >= 400) {
    assert.match(res.body?.error_code, /^(DWS|KMS|IAM)\.\d{4}$/, what);
    // A signature that does not match also carries what the server computed (signature debugging): a
    // client that normalises the path it sends (`/job/.` goes out as `/job/`) meets that refusal.
    const keys = Object.keys(res.body).sort();
    const debug = ['canonical_request', 'error_code', 'error_msg', 'string_to_sign'];
    const allowed =
      /\.0103$/.test(res.body.error_code) && keys.length === 4 ? debug : ['error_code', 'error_msg'];
    assert.deepEqual(keys, allowed, `${what}: ${res.text}`);
    assert.equal(typeof res.body.error_msg, 'string', what);
    assert.ok(
      res.body.error_msg.length > 0 && res.body.error_msg.length <= 1024,
      `${what}: error_msg length`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Generators of hostile values

/** Marker strings replaced by raw JSON tokens after serialization (numbers JSON.stringify cannot write). */
const RAW_TOKENS = [
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '-0',
  '0.0000000000000000000000001',
  '1E2',
  '9007199254740993',
];
const rawToken = fc.constantFrom(...RAW_TOKENS.map((t) => `__raw:${t}__`));

/** Deep nesting is written as raw text (JSON.stringify itself would overflow the stack). */
function nested(depth: number, asArray: boolean): string {
  return asArray
    ? `${'['.repeat(depth)}null${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`;
}

function expandRaw(text: string): string {
  return text.replace(/"__raw:([^"]*)__"/g, (_m, token: string) => {
    const deep = /^nest:(\d+):(a|o)$/.exec(token);
    return deep ? nested(Number(deep[1]), deep[2] === 'a') : token;
  });
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\uD800',
    '\uDFFF\uD800',
    '\u202E\u0000',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    ' 7 ',
    '007',
    '-1',
    '0x10',
    '1e3',
    '999999999',
    '4294967296',
    'AES_256',
    'SM4',
    'generalCipher',
    '../../etc/passwd',
    '<script>',
    "' OR 1=1 --",
    'null',
  ),
  fc.constantFrom(255, 256, 1000, 10_000, 200_000).map((n) => 'x'.repeat(n)),
);

const hostileNumber = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    7,
    1.5,
    255,
    256,
    1096,
    1097,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    Number.MIN_VALUE,
    1e308,
    -1e308,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  rawToken,
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.constantFrom(null, true, false, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  fc
    .tuple(fc.constantFrom(10, 1000, 100_000), fc.boolean())
    .map(([depth, asArray]) => `__raw:nest:${depth}:${asArray ? 'a' : 'o'}__`),
);

// ---------------------------------------------------------------------------------------------------
// Routes and their valid bodies, filled with the fixture's ids

interface Fixture {
  projectId: string;
  aesKey: string;
  aesKey2: string;
  sm4Key: string;
  disabledKey: string;
  plainCluster: string;
  encryptedCluster: string;
  jobId: string;
  wrappedDek: string;
}

type Id = 'cluster' | 'job' | 'key';
interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template: {p} is the project, {cluster} / {job} a path id. */
  path: string;
  /** Valid bodies (undefined: no body). */
  bodies: (f: Fixture, fresh: string) => unknown[];
  /** Never aim at the fixture's resources (a valid DELETE would remove them for the runs after it). */
  spareFixtures?: boolean;
}

function dekPlainWithDigest(): string {
  const dek = Buffer.alloc(32, 7);
  return Buffer.concat([dek, createHash('sha256').update(dek).digest()]).toString('hex');
}

const ROUTES: RouteSpec[] = [
  { method: 'GET', path: '/v1/{p}/clusters/{cluster}/encrypt-info', bodies: () => [undefined] },
  {
    method: 'POST',
    path: '/v2/{p}/clusters/{cluster}/encrypt',
    bodies: (f) => [
      { encrypt: { master_key_id: f.aesKey, crypt_algorithm: 'generalCipher' } },
      { encrypt: { master_key_id: f.sm4Key, master_key_name: 'prop-sm4', crypt_algorithm: 'SMcompatible' } },
    ],
  },
  {
    method: 'POST',
    path: '/v1/{p}/clusters/{cluster}/rotate-key',
    bodies: (f) => [undefined, {}, null, { master_key_id: f.aesKey2 }],
  },
  { method: 'GET', path: '/v1.0/{p}/job/{job}', bodies: () => [undefined] },
  {
    method: 'POST',
    path: '/v2/{p}/clusters',
    bodies: (f, fresh) => [
      clusterBody(`prop-${fresh}`),
      clusterBody(`prop-${fresh}`, { master_key_id: f.aesKey, crypt_algorithm: 'generalCipher' }),
      clusterBody(`prop-${fresh}`, { datastore_version: '7.9.9', guest_agent_version: '8.3.0.1000' }),
    ],
  },
  { method: 'GET', path: '/v1.0/{p}/clusters', bodies: () => [undefined] },
  { method: 'GET', path: '/v1.0/{p}/clusters/{cluster}', bodies: () => [undefined] },
  {
    method: 'DELETE',
    path: '/v1.0/{p}/clusters/{cluster}',
    bodies: () => [undefined, { keep_last_manual_snapshot: 0 }],
    spareFixtures: true,
  },
  {
    method: 'POST',
    path: '/v1.0/{p}/kms/create-key',
    bodies: (_f, fresh) => [
      { key_alias: `prop/${fresh}`, key_spec: 'AES_256' },
      { key_alias: `prop-${fresh}`, key_spec: 'SM4', key_description: 'd', key_usage: 'ENCRYPT_DECRYPT' },
    ],
  },
  ...['describe-key', 'enable-key', 'disable-key', 'cancel-key-deletion'].map(
    (action): RouteSpec => ({
      method: 'POST',
      path: `/v1.0/{p}/kms/${action}`,
      bodies: (f) => [{ key_id: f.aesKey }, { key_id: f.disabledKey }],
    }),
  ),
  {
    method: 'POST',
    path: '/v1.0/{p}/kms/schedule-key-deletion',
    bodies: (f) => [{ key_id: f.disabledKey, pending_days: '7' }],
  },
  {
    method: 'POST',
    path: '/v1.0/{p}/kms/list-keys',
    bodies: (f) => [{}, { limit: '2', marker: f.aesKey }, { key_state: '2', key_spec: 'AES_256' }],
  },
  {
    method: 'POST',
    path: '/v1.0/{p}/kms/create-datakey',
    bodies: (f) => [
      { key_id: f.aesKey, datakey_length: '256' },
      { key_id: f.sm4Key, key_spec: 'AES_128', additional_authenticated_data: 'ctx' },
    ],
  },
  {
    method: 'POST',
    path: '/v1.0/{p}/kms/encrypt-datakey',
    bodies: (f) => [{ key_id: f.aesKey, plain_text: dekPlainWithDigest(), datakey_plain_length: '32' }],
  },
  {
    method: 'POST',
    path: '/v1.0/{p}/kms/decrypt-datakey',
    bodies: (f) => [{ key_id: f.aesKey, cipher_text: f.wrappedDek, datakey_cipher_length: '32' }],
  },
];

const hostileSegment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom(
    '',
    '%00',
    '%ZZ',
    '%',
    '%E0%A4%A',
    '%2F',
    '%252F',
    '..',
    '.',
    '-1',
    '0',
    'null',
    '%20',
    'a'.repeat(101),
    'b'.repeat(5000),
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  ),
);

function idArb(f: Fixture, kind: Id): fc.Arbitrary<string> {
  const known =
    kind === 'cluster' ? [f.plainCluster, f.encryptedCluster] : kind === 'job' ? [f.jobId] : [f.aesKey];
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom(...known).map((s) => s.toUpperCase()) },
    { weight: 3, arbitrary: hostileSegment },
  );
}

const projectArb = (f: Fixture) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(f.projectId) },
    { weight: 1, arbitrary: fc.constantFrom('f'.repeat(32), f.projectId.toUpperCase(), 'abc') },
    { weight: 1, arbitrary: hostileSegment },
  );

// Body mutations -------------------------------------------------------------------------------------

type Json = unknown;
type Mutation = (body: Json) => Json;

function paths(value: Json, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || prefix.length >= 4) return [prefix];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const k of Object.keys(value)) out.push(...paths((value as Record<string, Json>)[k], [...prefix, k]));
  return out;
}

function setAt(value: Json, path: string[], leaf: Json | typeof REMOVE): Json {
  if (path.length === 0) return leaf === REMOVE ? undefined : leaf;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: Record<string, Json> = Array.isArray(value)
    ? ([...value] as unknown as Record<string, Json>)
    : { ...(value as Record<string, Json>) };
  if (rest.length === 0 && leaf === REMOVE) delete copy[head];
  else copy[head] = setAt(copy[head], rest, leaf);
  return copy;
}
const REMOVE = Symbol('remove');

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // replace a field (or the whole body) with a hostile value
  fc.tuple(fc.nat(), hostileValue).map(([i, v]) => (body: Json) => {
    const all = paths(body);
    const at = all.length ? all[i % all.length]! : [];
    return setAt(body, at, v);
  }),
  // a stray character inside an otherwise valid string field (NUL: PostgreSQL text cannot hold it)
  fc
    .tuple(fc.nat(), fc.constantFrom('\u0000', '\u0001', '\u007f', '\uD800', '\uFFFF', '\u202E', '%00', '\\'))
    .map(([i, c]) => (body: Json) => {
      const strings = paths(body).filter(
        (p) => typeof p.reduce<Json>((o, key) => (o as Record<string, Json>)?.[key], body) === 'string',
      );
      if (strings.length === 0) return body;
      const at = strings[i % strings.length]!;
      const value = at.reduce<Json>((o, key) => (o as Record<string, Json>)?.[key], body) as string;
      return setAt(body, at, i % 2 ? `${value}${c}` : `${c}${value}`);
    }),
  // drop a field
  fc.nat().map((i) => (body: Json) => {
    const all = paths(body);
    return all.length ? setAt(body, all[i % all.length]!, REMOVE) : body;
  }),
  // add an unknown field somewhere (including __proto__ and constructor)
  fc
    .tuple(
      fc.nat(),
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype')),
      hostileValue,
    )
    .map(([i, k, v]) => (body: Json) => {
      const objects = paths(body).filter((p) => {
        const at = p.reduce<Json>((o, key) => (o as Record<string, Json>)?.[key], body);
        return at !== null && typeof at === 'object' && !Array.isArray(at);
      });
      const target = [[], ...objects][i % (objects.length + 1)]!;
      if (body === null || typeof body !== 'object') return { [k]: v };
      return setAt(body, [...target, k], v);
    }),
  // the whole body is something else
  hostileValue.map((v) => () => v),
);

/** Raw-text mutations, applied to the serialized body. */
const rawMutationArb: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.nat().map((i) => (t: string) => t.slice(0, t.length ? i % t.length : 0)),
  fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([i, s]) => (t: string) => {
    const at = t.length ? i % t.length : 0;
    return t.slice(0, at) + s + t.slice(at);
  }),
  fc.string({ maxLength: 60 }).map((s) => () => s),
  fc.constantFrom(
    () => '',
    (t: string) => `\uFEFF${t}`,
    (t: string) => `${t}${t}`,
    (t: string) => `${t} trailing`,
    () => '{"a":1,"a":2}',
    () => '[',
    () => 'NaN',
    () => '{"__proto__":{"polluted":true}}',
    () => `"${'z'.repeat(MiB - 10)}"`, // just under the limit: parsed, then refused by validation
    () => `{"key_id":"${'y'.repeat(MiB)}"}`, // over the limit: 413 before parsing
    () => `${'['.repeat(400_000)}${']'.repeat(400_000)}`, // deep nesting near the limit
  ),
);

const headerValue = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

const headersArb = fc.record(
  {
    'Content-Type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'application/json; charset=latin1',
      'application/jsonx',
      'APPLICATION/JSON',
      'multipart/form-data; boundary=x',
      ';',
    ),
    'X-Request-Id': fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
      headerValue,
      fc.constant('a'.repeat(65)),
    ),
    'X-Project-Id': fc.oneof(headerValue, fc.constant('0123456789abcdef0123456789abcdef')),
    'X-Extra-Header': headerValue,
  },
  { requiredKeys: [] },
);

const queryArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(fc.constantFrom('limit', 'marker', 'offset', 'project_id'), fc.string({ maxLength: 8 })),
      fc.string({ maxLength: 30 }),
      { maxKeys: 3 },
    ),
  },
);

interface HostileRequest {
  method: string;
  path: string;
  text: string | undefined;
  headers: Record<string, string>;
  query: Record<string, string> | undefined;
}

function requestArb(f: Fixture): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      route: fc.constantFrom(...ROUTES),
      bodyIndex: fc.nat(),
      fresh: fc.uuid().map((u) => u.slice(0, 8)),
      project: projectArb(f),
      cluster: idArb(f, 'cluster'),
      job: idArb(f, 'job'),
      // fast-check's `freq` is the odds of *no* value (1 in freq): weights say what is meant here.
      swapMethod: fc.oneof(
        { weight: 7, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
      ),
      mutations: fc.array(mutationArb, { minLength: 0, maxLength: 3 }),
      raw: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: rawMutationArb },
      ),
      headers: headersArb,
      query: queryArb,
    })
    .map((r) => {
      const bodies = r.route.bodies(f, r.fresh);
      let body: Json = bodies[r.bodyIndex % bodies.length];
      for (const mutate of r.mutations) body = mutate(body);
      let text = body === undefined ? undefined : JSON.stringify(body);
      if (text !== undefined) text = expandRaw(text);
      if (r.raw) text = r.raw(text ?? '');
      const cluster =
        r.route.spareFixtures && [f.plainCluster, f.encryptedCluster].includes(r.cluster)
          ? r.fresh
          : r.cluster;
      const path = r.route.path
        .replace('{p}', r.project)
        .replace('{cluster}', cluster)
        .replace('{job}', r.job);
      const method = r.swapMethod ?? r.route.method;
      // fetch sends no body with GET; OPTIONS bodies are not interesting.
      const withBody = method !== 'GET' && method !== 'OPTIONS';
      return { method, path, text: withBody ? text : undefined, headers: r.headers, query: r.query };
    });
}

function describeRequest(req: HostileRequest): string {
  const body = req.text === undefined ? '' : ` body(${req.text.length}): ${req.text.slice(0, 200)}`;
  return `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers)}${body}`;
}

async function send(ts: TestServer, req: HostileRequest): Promise<ApiResponse> {
  return ts.call(req.method, req.path, undefined, {
    headers: req.headers,
    ...(req.query ? { query: req.query } : {}),
    ...(req.text !== undefined ? { rawBody: req.text } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------

for (const store of stores())
  describe(`API properties (${store})`, () => {
    let ts: TestServer;
    let rootKey: Buffer;
    let f: Fixture;

    before(async () => {
      ts = await startTestServer({ store, env: { DWS_ENCRYPT_JOB_SECONDS: '0.1' } });
      rootKey = loadRootKey(ts.config, store === 'postgres');
      const p = ts.projectId;
      const key = async (alias: string, spec: string) => {
        const res = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: alias, key_spec: spec });
        assert.equal(res.status, 200, res.text);
        return res.body.key_info.key_id as string;
      };
      const cluster = async (name: string, extra: Record<string, unknown> = {}) => {
        const res = await ts.call('POST', `/v2/${p}/clusters`, clusterBody(name, extra));
        assert.equal(res.status, 200, res.text);
        return res.body.cluster.id as string;
      };
      const aesKey = await key('prop-aes', 'AES_256');
      const aesKey2 = await key('prop-aes2', 'AES_256');
      const sm4Key = await key('prop-sm4', 'SM4');
      const disabledKey = await key('prop-disabled', 'AES_256');
      await ts.call('POST', `/v1.0/${p}/kms/disable-key`, { key_id: disabledKey });
      const plainCluster = await cluster('prop-plain');
      const encryptedCluster = await cluster('prop-encrypted', {
        master_key_id: aesKey,
        crypt_algorithm: 'generalCipher',
      });
      const converted = await cluster('prop-converted');
      const job = await ts.call('POST', `/v2/${p}/clusters/${converted}/encrypt`, {
        encrypt: { master_key_id: aesKey, crypt_algorithm: 'generalCipher' },
      });
      assert.equal(job.status, 200, job.text);
      const dek = await ts.call('POST', `/v1.0/${p}/kms/create-datakey`, {
        key_id: aesKey,
        datakey_length: '256',
      });
      f = {
        projectId: p,
        aesKey,
        aesKey2,
        sm4Key,
        disabledKey,
        plainCluster,
        encryptedCluster,
        jobId: job.body.job_id,
        wrappedDek: dek.body.cipher_text,
      };
    });
    after(() => ts.close({ removeData: true }));

    test('hostile requests to every route: no 5xx, refusals in the error format and without effect', async (t) => {
      const statuses = new Map<number, number>();
      // Nothing but the requests may change the store while it is compared before and after each one.
      await ts.server.runner.stop();
      try {
        await fc.assert(
          fc.asyncProperty(requestArb(f), async (req) => {
            const before = await snapshotStore(ts.server.database.db);
            const res = await send(ts, req);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            assertWellFormed(res, describeRequest(req));
            if (res.status >= 400) {
              const afterwards = await snapshotStore(ts.server.database.db);
              assert.ok(
                afterwards === before,
                `refused (${res.status}) but changed the store: ${describeRequest(req)}`,
              );
            }
          }),
          { numRuns: runs(250) },
        );
        assert.deepEqual(await checkInvariants(ts.server.database, rootKey), []);
        t.diagnostic(
          `statuses: ${[...statuses]
            .sort()
            .map(([k, n]) => `${k}×${n}`)
            .join(', ')}`,
        );
      } finally {
        ts.server.runner.start();
      }
    });

    test('requests that once answered 5xx or left the error format now answer as they should', async () => {
      const p = f.projectId;
      const cases: [string, string, string | undefined, number][] = [
        // an unknown deep field used to be stored with the cluster: JSON.stringify overflowed (500);
        // now the nesting cap refuses it before parsing
        [
          'POST',
          `/v2/${p}/clusters`,
          JSON.stringify(clusterBody('regress-deep')).replace(
            '"name"',
            `"x":${nested(100_000, true)},"name"`,
          ),
          400,
        ],
        // NUL in stored or compared strings: PostgreSQL text cannot hold it (500)
        [
          'POST',
          `/v1.0/${p}/kms/create-key`,
          JSON.stringify({ key_alias: 'regress-nul', key_description: 'a\u0000' }),
          400,
        ],
        ['POST', `/v1.0/${p}/kms/list-keys`, JSON.stringify({ marker: '\u0000' }), 400],
        ['POST', `/v1.0/${p}/kms/list-keys`, JSON.stringify({ key_spec: 'AES_256\u0000' }), 400],
        // router refusals used to bypass the error format and X-Request-Id
        ['GET', `/v1.0/${p}/job/%E0%A4%A`, undefined, 400],
        ['GET', `/v1.0/${p}/job/${'a'.repeat(150)}`, undefined, 400],
        // the not-found message used to echo the whole path
        ['PUT', `/v1/${'b'.repeat(5000)}/clusters`, undefined, 404],
      ];
      for (const [method, path, text, status] of cases) {
        const res = await send(ts, { method, path, text, headers: {}, query: undefined });
        assertWellFormed(res, `${method} ${path.slice(0, 80)}`);
        assert.equal(res.status, status, `${method} ${path.slice(0, 80)}: ${res.text.slice(0, 200)}`);
      }
    });

    test('random operation sequences keep the store invariants at every step, and every job finishes', async (t) => {
      const p = f.projectId;
      let counter = 0;
      const tally = new Map<string, number>();
      // Resources accumulate across sequences (the server keeps them too): later sequences act on older state.
      const keys: { id: string; spec: string }[] = [
        { id: f.aesKey, spec: 'AES_256' },
        { id: f.aesKey2, spec: 'AES_256' },
        { id: f.sm4Key, spec: 'SM4' },
        { id: f.disabledKey, spec: 'AES_256' },
      ];
      const existing = await ts.server.database.db.selectFrom('clusters').select('id').execute();
      const clusters: string[] = existing.map((c) => c.id);
      const pick = (list: string[], i: number) =>
        i < 0 || list.length === 0 ? randomUuid(i) : list[i % list.length]!;
      const key = (i: number) => (i < 0 ? { id: randomUuid(i), spec: 'AES_256' } : keys[i % keys.length]!);
      /** 'match' picks the algorithm the key's spec suits; the others may mismatch on purpose. */
      const algorithmFor = (choice: string, spec: string) =>
        choice !== 'match' ? choice : spec === 'SM4' ? 'SMcompatible' : 'generalCipher';
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 18, size: 'medium' }), async (ops) => {
          for (const op of ops) {
            let res: ApiResponse;
            switch (op.kind) {
              case 'createKey':
                res = await ts.call('POST', `/v1.0/${p}/kms/create-key`, {
                  key_alias: `seq-${counter++}`,
                  key_spec: op.spec,
                });
                if (res.status === 200) keys.push({ id: res.body.key_info.key_id, spec: op.spec });
                break;
              case 'keyState':
                res = await ts.call('POST', `/v1.0/${p}/kms/${op.action}`, {
                  key_id: key(op.key).id,
                  ...(op.action === 'schedule-key-deletion' ? { pending_days: '7' } : {}),
                });
                break;
              case 'createCluster':
                res = await ts.call(
                  'POST',
                  `/v2/${p}/clusters`,
                  clusterBody(`seq-${counter++}`, {
                    datastore_version: op.version,
                    guest_agent_version: op.agent,
                    ...(op.encryptWith
                      ? {
                          master_key_id: key(op.encryptWith.key).id,
                          crypt_algorithm: algorithmFor(
                            op.encryptWith.algorithm,
                            key(op.encryptWith.key).spec,
                          ),
                        }
                      : {}),
                  }),
                );
                if (res.status === 200) clusters.push(res.body.cluster.id);
                break;
              case 'encrypt':
                res = await ts.call('POST', `/v2/${p}/clusters/${pick(clusters, op.cluster)}/encrypt`, {
                  encrypt: {
                    master_key_id: key(op.key).id,
                    crypt_algorithm: algorithmFor(op.algorithm, key(op.key).spec),
                  },
                });
                break;
              case 'rotate':
                res = await ts.call(
                  'POST',
                  `/v1/${p}/clusters/${pick(clusters, op.cluster)}/rotate-key`,
                  op.key === undefined ? undefined : { master_key_id: key(op.key).id },
                );
                break;
              case 'delete':
                res = await ts.call('DELETE', `/v1.0/${p}/clusters/${pick(clusters, op.cluster)}`);
                if (res.status === 202) clusters.splice(op.cluster % clusters.length, 1);
                break;
              case 'read':
                res = await ts.call('GET', `/v1/${p}/clusters/${pick(clusters, op.cluster)}/encrypt-info`);
                if (res.status === 200 && res.body.master_key_id !== null) {
                  assert.ok(
                    res.body.cluster_id && res.body.crypt_algorithm,
                    'an encrypted cluster reports its facts',
                  );
                }
                break;
              case 'junk':
                res = await ts.call(
                  op.method,
                  `/v2/${p}/clusters/${pick(clusters, op.cluster)}/encrypt`,
                  undefined,
                  {
                    rawBody: op.body,
                  },
                );
                break;
              case 'wait':
                await new Promise((r) => setTimeout(r, op.ms));
                continue;
            }
            assertWellFormed(res, `${op.kind} ${JSON.stringify(op)}`);
            const outcome = `${op.kind} ${res.status}${process.env.FC_DEBUG && res.status >= 400 ? ` ${res.body.error_code}` : ''}`;
            tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
            assert.deepEqual(
              await checkInvariants(ts.server.database, rootKey),
              [],
              `after ${JSON.stringify(op)}`,
            );
          }
          // Every job reaches a final status, and the invariants still hold once the runner is done.
          const deadline = Date.now() + 120_000;
          for (;;) {
            const open = await ts.server.database.db
              .selectFrom('jobs')
              .select('id')
              .where('status', 'not in', ['SUCCESS', 'FAIL', 'STOP'])
              .execute();
            if (open.length === 0) break;
            assert.ok(Date.now() < deadline, `jobs still open: ${open.map((j) => j.id)}`);
            await new Promise((r) => setTimeout(r, 25));
          }
          assert.deepEqual(await checkInvariants(ts.server.database, rootKey), []);
        }),
        { numRuns: runs(25), endOnFailure: true },
      );
      t.diagnostic(
        `outcomes: ${[...tally]
          .sort()
          .map(([k, n]) => `${k}×${n}`)
          .join(', ')}`,
      );
    });
  });

/** A well-formed UUID that names nothing (index < 0: the operation targets an unknown resource). */
function randomUuid(seed: number): string {
  return `00000000-0000-4000-8000-${String(Math.abs(seed)).padStart(12, '0').slice(-12)}`;
}

type Op =
  | { kind: 'createKey'; spec: string }
  | { kind: 'keyState'; action: string; key: number }
  | {
      kind: 'createCluster';
      version: string;
      agent: string;
      encryptWith: { key: number; algorithm: string } | undefined;
    }
  | { kind: 'encrypt'; cluster: number; key: number; algorithm: string }
  | { kind: 'rotate'; cluster: number; key: number | undefined }
  | { kind: 'delete'; cluster: number }
  | { kind: 'read'; cluster: number }
  | { kind: 'junk'; method: string; cluster: number; body: string }
  | { kind: 'wait'; ms: number };

/** An index into the resources created so far (mostly), or a negative number for an unknown id. */
const index = fc.oneof(
  { weight: 9, arbitrary: fc.nat(50) },
  { weight: 1, arbitrary: fc.integer({ min: -50, max: -1 }) },
);
const algorithm = fc.constantFrom('match', 'match', 'match', 'generalCipher', 'SMcompatible');

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('createKey' as const), spec: fc.constantFrom('AES_256', 'SM4', 'RSA_2048') }),
  fc.record({
    kind: fc.constant('keyState' as const),
    action: fc.constantFrom('enable-key', 'disable-key', 'schedule-key-deletion', 'cancel-key-deletion'),
    key: index,
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('createCluster' as const),
      version: fc.constantFrom('9.1.0', '8.0.0', '7.9.9', '8.10.1'),
      agent: fc.constantFrom('8.3.0.200', '8.3.0.1000', '8.3.0.199', '8.2.9'),
      encryptWith: fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.record({ key: index, algorithm }) },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('encrypt' as const), cluster: index, key: index, algorithm }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('rotate' as const),
      cluster: index,
      key: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: index }),
    }),
  },
  fc.record({ kind: fc.constant('delete' as const), cluster: index }),
  fc.record({ kind: fc.constant('read' as const), cluster: index }),
  fc.record({
    kind: fc.constant('junk' as const),
    method: fc.constantFrom('POST', 'PUT', 'DELETE'),
    cluster: index,
    body: fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('{"encrypt":{}}', '{"encrypt":null}', '[]', ''),
    ),
  }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(20, 60, 150) }),
);
