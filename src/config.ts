/**
 * Configuration from the environment, read once at start-up (never at import time) and validated:
 * a bad value stops the service with a message naming the variable.
 */
import { join, resolve } from 'node:path';
import { DEFAULT_PROJECT_QUOTAS, type ProjectQuotas } from './domain/quotas.js';
import { DEFAULT_RATE_LIMIT } from './domain/rate-limit.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<path>` (default: <dataDir>/dws-encryption.db) or `postgres://...`. */
  databaseUrl: string;
  /** PostgreSQL only: the most connections one instance opens (the pool size). */
  databasePoolSize: number;
  /** PostgreSQL only: per-session `statement_timeout` (one statement). */
  dbStatementTimeoutSeconds: number;
  /** PostgreSQL only: per-session `lock_timeout` (waiting for a row lock another instance holds). */
  dbLockTimeoutSeconds: number;
  /** PostgreSQL only: client-side bound on one query and on waiting for a transaction slot. */
  storeCallTimeoutSeconds: number;
  /** PostgreSQL only: share of the pool transactions may not take, kept for reads. */
  dbReadReserve: number;
  /** SQLite only: cluster rows the encrypt-info read keeps in memory (0: none). */
  sqliteRowCache: number;
  logLevel: string;
  /** `pretty` (human-readable) or `json` (one object per line); undefined: pretty only when stdout is a TTY. */
  logFormat: 'json' | 'pretty' | undefined;
  /** Log bytes that may wait for standard output; lines beyond are dropped and counted. */
  logBufferBytes: number;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  /** Base64 of 32 bytes; when absent a key file in dataDir is used (SQLite mode only). */
  rootKey: string | undefined;
  bootstrap: { ak: string | undefined; sk: string | undefined; projectId: string | undefined };
  /** DWS_IAM_FILE: the identities file (accounts, projects, users, access keys, policies); read at start. */
  iamFile: string | undefined;
  /** Per-project quotas (keys, nodes of clusters, unfinished jobs). */
  quotas: ProjectQuotas;
  /** Requests per second per access key (0: no limit) and the burst allowed after idling. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Lifetime of IAM tokens issued by POST /v3/auth/tokens. */
  tokenTtlSeconds: number;
  /** Token issue lockout, within the cloud's login policy ranges: failures (3-10) in a window (15-60 min) lock for 15-1440 min. */
  loginMaxFailures: number;
  loginFailureWindowMinutes: number;
  loginLockoutMinutes: number;
  /** How long an encryption conversion takes. */
  encryptJobSeconds: number;
  /** How long a new cluster stays CREATING before it is AVAILABLE (0: immediately). */
  clusterCreateSeconds: number;
  /** How long a cluster deleted through the v2 API stays DELETING before it is gone (0: at the next job poll). */
  clusterDeleteSeconds: number;
  /** The region this service stands for (KMS `region_id`). */
  region: string;
  /** Job lease: how long an instance may hold a job without renewing it before another takes over. */
  jobLeaseSeconds: number;
  /** How often the runner looks for claimable jobs. */
  jobPollMs: number;
  /** At most this many jobs run at once in one instance. */
  maxConcurrentJobs: number;
  /** At most this many jobs may be unfinished in the whole store; a new conversion beyond it answers 503. */
  maxActiveJobs: number;
  /** Largest request head (request line and headers) in bytes; larger answers 400 and closes. */
  maxHeaderBytes: number;
  /** A request (head and body) must arrive within this time, or 408 and the connection is closed. */
  requestTimeoutSeconds: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutSeconds: number;
  /** A socket with no traffic at all for this long is destroyed (0: no such limit). */
  connectionTimeoutSeconds: number;
  /** SIGTERM/SIGINT: in-flight requests get this long to finish, then the process exits regardless. */
  shutdownTimeoutSeconds: number;
  /** Clock window of signed requests. */
  signatureWindowSeconds: number;
  bodyLimitBytes: number;
  /**
   * DWS_BENCH_ABLATE: per-request work turned off for the benchmark's ablation table (`npm run bench`,
   * step `ablate`). Empty in every real deployment: refused with NODE_ENV=production, and the
   * `signature` switch only on a loopback HOST.
   */
  benchAblations: ReadonlySet<Ablation>;
  /** DWS_EMULATOR_API: the /_dws/ control API (reset, state, seed, faults); off: /_dws/* answers 404. */
  emulatorApi: boolean;
  /** DWS_SEED_FILE: a seed document applied at start (docs/testing.md). */
  seedFile: string | undefined;
  /** DWS_SIGNATURE_DEBUG: a signature mismatch answers the canonical request and string to sign. */
  signatureDebug: boolean;
}

/** The pieces of per-request work the benchmark can turn off, one at a time (docs/benchmarks.md). */
export const ABLATIONS = [
  'signature',
  'metrics',
  'request-log',
  'request-id',
  'serialize',
  'store',
  'client-signal',
] as const;
export type Ablation = (typeof ABLATIONS)[number];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

function benchAblations(env: Env, host: string): ReadonlySet<Ablation> {
  const raw = text(env, 'DWS_BENCH_ABLATE');
  if (raw === undefined) return new Set();
  if (env.NODE_ENV === 'production') {
    throw new ConfigError('DWS_BENCH_ABLATE is a benchmark switch; it is refused with NODE_ENV=production');
  }
  const switches = new Set<Ablation>();
  for (const name of raw.split(',').map((s) => s.trim())) {
    if (name === '' || name === 'none') continue;
    if (!(ABLATIONS as readonly string[]).includes(name)) {
      throw new ConfigError(`DWS_BENCH_ABLATE: unknown switch '${name}' (one of ${ABLATIONS.join(', ')})`);
    }
    switches.add(name as Ablation);
  }
  if (switches.has('signature') && !LOOPBACK_HOSTS.has(host)) {
    throw new ConfigError('DWS_BENCH_ABLATE=signature turns authentication off: only with a loopback HOST');
  }
  return switches;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = number(env, name, fallback, min, max);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a whole number, got '${env[name]}'`);
  return value;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`${name} must be on or off, got '${raw}'`);
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(text(env, 'DATA_DIR') ?? './data');
  const projectId = text(env, 'DWS_BOOTSTRAP_PROJECT_ID');
  if (projectId !== undefined && !/^[0-9a-f]{32}$/.test(projectId)) {
    throw new ConfigError('DWS_BOOTSTRAP_PROJECT_ID must be 32 lowercase hexadecimal characters');
  }
  const ak = text(env, 'DWS_BOOTSTRAP_AK');
  const sk = text(env, 'DWS_BOOTSTRAP_SK');
  if ((ak === undefined) !== (sk === undefined)) {
    throw new ConfigError('DWS_BOOTSTRAP_AK and DWS_BOOTSTRAP_SK must be set together');
  }
  const logFormat = text(env, 'LOG_FORMAT');
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') {
    throw new ConfigError(`LOG_FORMAT must be json or pretty, got '${logFormat}'`);
  }
  const databaseUrl = text(env, 'DATABASE_URL') ?? `sqlite:${join(dataDir, 'dws-encryption.db')}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl) && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new ConfigError(
      'DATABASE_URL must be sqlite:<path> (or a file path) or postgres://user@host:port/database',
    );
  }
  const host = text(env, 'HOST') ?? '127.0.0.1';
  return {
    host,
    port: number(env, 'PORT', 8080, 0, 65535),
    dataDir,
    databaseUrl,
    databasePoolSize: number(env, 'DATABASE_POOL_SIZE', 10, 1, 1_000),
    dbStatementTimeoutSeconds: number(env, 'DWS_DB_STATEMENT_TIMEOUT_SECONDS', 10, 0.1, 3_600),
    dbLockTimeoutSeconds: number(env, 'DWS_DB_LOCK_TIMEOUT_SECONDS', 2, 0.1, 3_600),
    storeCallTimeoutSeconds: number(env, 'DWS_STORE_CALL_TIMEOUT_SECONDS', 15, 0.5, 3_600),
    dbReadReserve: number(env, 'DWS_DB_READ_RESERVE', 0.3, 0, 0.9),
    sqliteRowCache: number(env, 'DWS_SQLITE_ROW_CACHE', 10_000, 0, 1_000_000),
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    logFormat,
    logBufferBytes: number(env, 'DWS_LOG_BUFFER_BYTES', 4 * 1024 * 1024, 4_096, 1024 * 1024 * 1024),
    metricsToken: text(env, 'DWS_METRICS_TOKEN'),
    rootKey: text(env, 'DWS_ROOT_KEY'),
    bootstrap: { ak, sk, projectId },
    iamFile: text(env, 'DWS_IAM_FILE'),
    quotas: {
      keys: integer(env, 'DWS_QUOTA_KEYS', DEFAULT_PROJECT_QUOTAS.keys, 0, 1_000_000),
      nodes: integer(env, 'DWS_QUOTA_NODES', DEFAULT_PROJECT_QUOTAS.nodes, 0, 100_000_000),
      activeJobs: integer(env, 'DWS_QUOTA_ACTIVE_JOBS', DEFAULT_PROJECT_QUOTAS.activeJobs, 0, 1_000_000),
    },
    rateLimitPerSecond: number(env, 'DWS_RATE_LIMIT_PER_SECOND', DEFAULT_RATE_LIMIT.perSecond, 0, 10_000_000),
    rateLimitBurst: integer(env, 'DWS_RATE_LIMIT_BURST', DEFAULT_RATE_LIMIT.burst, 1, 100_000_000),
    tokenTtlSeconds: number(env, 'DWS_TOKEN_TTL_SECONDS', 86_400, 60, 7 * 86_400),
    loginMaxFailures: integer(env, 'DWS_LOGIN_MAX_FAILURES', 5, 3, 10),
    loginFailureWindowMinutes: integer(env, 'DWS_LOGIN_FAILURE_WINDOW_MINUTES', 15, 15, 60),
    loginLockoutMinutes: integer(env, 'DWS_LOGIN_LOCKOUT_MINUTES', 15, 15, 1_440),
    encryptJobSeconds: number(env, 'DWS_ENCRYPT_JOB_SECONDS', 5, 0, 86_400),
    clusterCreateSeconds: number(env, 'DWS_CLUSTER_CREATE_SECONDS', 0, 0, 86_400),
    clusterDeleteSeconds: number(env, 'DWS_CLUSTER_DELETE_SECONDS', 0, 0, 86_400),
    region: text(env, 'DWS_REGION') ?? 'local',
    jobLeaseSeconds: number(env, 'DWS_JOB_LEASE_SECONDS', 10, 1, 3_600),
    jobPollMs: number(env, 'DWS_JOB_POLL_MS', 250, 10, 60_000),
    maxConcurrentJobs: number(env, 'DWS_MAX_CONCURRENT_JOBS', 32, 1, 10_000),
    maxActiveJobs: number(env, 'DWS_MAX_ACTIVE_JOBS', 10_000, 1, 1_000_000),
    maxHeaderBytes: number(env, 'DWS_MAX_HEADER_BYTES', 16_384, 1_024, 1_048_576),
    requestTimeoutSeconds: number(env, 'DWS_REQUEST_TIMEOUT_SECONDS', 30, 0.1, 3_600),
    keepAliveTimeoutSeconds: number(env, 'DWS_KEEP_ALIVE_TIMEOUT_SECONDS', 72, 0.1, 3_600),
    connectionTimeoutSeconds: number(env, 'DWS_CONNECTION_TIMEOUT_SECONDS', 0, 0, 3_600),
    shutdownTimeoutSeconds: number(env, 'DWS_SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600),
    signatureWindowSeconds: 15 * 60,
    bodyLimitBytes: 1024 * 1024,
    benchAblations: benchAblations(env, host),
    emulatorApi: onOff(env, 'DWS_EMULATOR_API', true),
    seedFile: text(env, 'DWS_SEED_FILE'),
    signatureDebug: onOff(env, 'DWS_SIGNATURE_DEBUG', true),
  };
}
