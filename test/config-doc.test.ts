/**
 * Every variable the service reads (src/config.ts) is in the README's configuration table, and every
 * timeout, quota and limit among them is in docs/reliability.md and docs/deployment.md with its default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The names config.ts reads: the first argument of its readers (number, integer, text, onOff). */
function configVariables(): string[] {
  const source = read('src/config.ts');
  const names = new Set<string>();
  for (const match of source.matchAll(/\b(?:number|integer|text|onOff)\(env, '([A-Z][A-Z0-9_]*)'/g)) {
    names.add(match[1]!);
  }
  return [...names].sort();
}

/** Variables that bound a wait, a size, a count or a rate. */
const LIMIT =
  /_SECONDS$|_MINUTES$|_MS$|_BYTES$|QUOTA|RATE_LIMIT|_MAX_|POOL_SIZE|READ_RESERVE|LOGIN_MAX|ROW_CACHE/;
/** Emulation timings (how long a simulated operation takes), not limits. */
const TIMINGS = new Set([
  'DWS_ENCRYPT_JOB_SECONDS',
  'DWS_CLUSTER_CREATE_SECONDS',
  'DWS_CLUSTER_DELETE_SECONDS',
]);

test('config.ts reads the variables found here (the pattern still matches its readers)', () => {
  const names = configVariables();
  for (const name of [
    'PORT',
    'DATABASE_URL',
    'DWS_DB_LOCK_TIMEOUT_SECONDS',
    'DWS_QUOTA_KEYS',
    'DWS_BENCH_ABLATE',
  ]) {
    assert.ok(names.includes(name), name);
  }
});

test('the README configuration table has a row for every variable', () => {
  const readme = read('README.md');
  const missing = configVariables().filter((name) => !new RegExp(`^\\| [^|]*\`${name}\``, 'm').test(readme));
  assert.deepEqual(missing, []);
});

test('docs/reliability.md and docs/deployment.md name every limit with its default', () => {
  for (const doc of ['docs/reliability.md', 'docs/deployment.md']) {
    const text = read(doc);
    const missing = configVariables()
      .filter((name) => LIMIT.test(name) && !TIMINGS.has(name))
      .filter((name) => !text.includes(`\`${name}\``));
    assert.deepEqual(missing, [], doc);
  }
  // The defaults written beside the variables are the code's.
  const reliability = read('docs/reliability.md');
  const config = loadConfig({});
  const written: Array<[string, number]> = [
    ['DWS_DB_LOCK_TIMEOUT_SECONDS', config.dbLockTimeoutSeconds],
    ['DWS_DB_STATEMENT_TIMEOUT_SECONDS', config.dbStatementTimeoutSeconds],
    ['DWS_STORE_CALL_TIMEOUT_SECONDS', config.storeCallTimeoutSeconds],
    ['DWS_QUOTA_KEYS', config.quotas.keys],
    ['DWS_QUOTA_NODES', config.quotas.nodes],
    ['DWS_QUOTA_ACTIVE_JOBS', config.quotas.activeJobs],
    ['DWS_RATE_LIMIT_PER_SECOND', config.rateLimitPerSecond],
    ['DWS_RATE_LIMIT_BURST', config.rateLimitBurst],
    ['DWS_MAX_ACTIVE_JOBS', config.maxActiveJobs],
    ['DWS_MAX_CONCURRENT_JOBS', config.maxConcurrentJobs],
    ['DWS_MAX_HEADER_BYTES', config.maxHeaderBytes],
    ['DWS_REQUEST_TIMEOUT_SECONDS', config.requestTimeoutSeconds],
    ['DWS_KEEP_ALIVE_TIMEOUT_SECONDS', config.keepAliveTimeoutSeconds],
    ['DWS_CONNECTION_TIMEOUT_SECONDS', config.connectionTimeoutSeconds],
    ['DWS_SHUTDOWN_TIMEOUT_SECONDS', config.shutdownTimeoutSeconds],
    ['DWS_JOB_LEASE_SECONDS', config.jobLeaseSeconds],
    ['DWS_JOB_POLL_MS', config.jobPollMs],
    ['DWS_TOKEN_TTL_SECONDS', config.tokenTtlSeconds],
    ['DWS_LOGIN_MAX_FAILURES', config.loginMaxFailures],
    ['DWS_LOGIN_FAILURE_WINDOW_MINUTES', config.loginFailureWindowMinutes],
    ['DWS_LOGIN_LOCKOUT_MINUTES', config.loginLockoutMinutes],
    ['DWS_DB_READ_RESERVE', config.dbReadReserve],
    ['DATABASE_POOL_SIZE', config.databasePoolSize],
    ['DWS_SQLITE_ROW_CACHE', config.sqliteRowCache],
  ];
  for (const [name, value] of written) {
    assert.ok(reliability.includes(`\`${name}\` (${value}`), `reliability.md: ${name} (${value})`);
  }
});
