/**
 * Store selection for tests: every API test file runs once per store, `for (const store of stores())`.
 *
 * - `sqlite` always; `postgres` when a PostgreSQL server answers at TEST_POSTGRES_URL (default
 *   `postgres://postgres@127.0.0.1:5432/postgres`, an account that may create databases).
 * - Under `CI=true` PostgreSQL is mandatory: it is always in the list, and an unreachable server fails
 *   the tests that need it. Elsewhere a missing server skips them with a visible notice.
 * - `TEST_STORE=sqlite` or `TEST_STORE=postgres` restricts the list to one store.
 *
 * Each PostgreSQL test server gets a database of its own with a unique name (`dws_t_<pid>_<time>_<rand>`)
 * and a fresh root key; the database is dropped when the server is closed with `removeData`, when the
 * test process exits, or — if a run was killed — by the next run, once its process is gone.
 */
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';

export type Store = 'sqlite' | 'postgres';

export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CI = process.env.CI === 'true';
const PREFIX = 'dws_t_';

/** The admin URL without its password, for messages. */
export function describePostgres(): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.password = '';
  return url.toString();
}

let probeError: string | undefined;

async function probe(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    probeError = error instanceof Error ? error.message || String(error) : String(error);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const wanted = process.env.TEST_STORE;
if (wanted !== undefined && wanted !== '' && wanted !== 'sqlite' && wanted !== 'postgres') {
  throw new Error(`TEST_STORE must be sqlite or postgres, got '${wanted}'`);
}
/** Whether PostgreSQL answered when this module was loaded (probed once per test process). */
export const postgresReachable = wanted === 'sqlite' ? false : await probe();

let noticeShown = false;

/**
 * The stores to run a suite against. When PostgreSQL is not reachable (and not mandatory) this also
 * registers one skipped test naming the reason, so the skip shows in the report of every file.
 */
export function stores(): Store[] {
  if (wanted === 'sqlite') return ['sqlite'];
  if (postgresReachable || CI) return wanted === 'postgres' ? ['postgres'] : ['sqlite', 'postgres'];
  const reason = `PostgreSQL not reachable at ${describePostgres()} (${probeError ?? 'no answer'}); PostgreSQL tests skipped (mandatory under CI=true)`;
  if (!noticeShown) {
    noticeShown = true;
    console.warn(`warning: ${reason}`);
  }
  test(`store postgres`, { skip: reason }, () => {});
  return wanted === 'postgres' ? [] : ['sqlite'];
}

/** For tests that only make sense on PostgreSQL: the reason to skip them, or false to run them. */
export function postgresSkip(): string | false {
  if (wanted === 'sqlite') return 'TEST_STORE=sqlite';
  if (postgresReachable || CI) return false;
  return `PostgreSQL not reachable at ${describePostgres()} (${probeError ?? 'no answer'})`;
}

export interface TestDatabase {
  readonly name: string;
  /** Connection URL of this database (same account as the admin URL). */
  readonly url: string;
  /** The root key every instance on this database shares (base64 of 32 bytes), as DWS_ROOT_KEY. */
  readonly rootKey: string;
  /** Drops the database (connections still open are terminated). Idempotent. */
  drop(): Promise<void>;
}

let admin: pg.Pool | undefined;
const live = new Set<TestDatabase>();
let swept = false;

function adminPool(): pg.Pool {
  if (!admin) {
    // allowExitOnIdle: an idle admin connection must not keep a finished test process alive.
    admin = new pg.Pool({
      connectionString: POSTGRES_ADMIN_URL,
      max: 2,
      allowExitOnIdle: true,
      connectionTimeoutMillis: 5_000,
    });
    admin.on('error', () => {});
    process.once('beforeExit', () => {
      void dropAll();
    });
  }
  return admin;
}

function quoteIdent(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unexpected database name ${name}`);
  return `"${name}"`;
}

/** Drops databases left by killed test runs: their process is gone and they are a few minutes old. */
async function sweepStale(pool: pg.Pool): Promise<void> {
  if (swept) return;
  swept = true;
  const { rows } = await pool.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE datname LIKE $1',
    [`${PREFIX}%`],
  );
  for (const { datname } of rows) {
    const match = /^dws_t_(\d+)_([0-9a-z]+)_/.exec(datname);
    if (!match) continue;
    const pid = Number(match[1]);
    const ageMs = Date.now() - Number.parseInt(match[2]!, 36);
    if (ageMs < 5 * 60_000 || processAlive(pid)) continue;
    await pool.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => {});
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates an empty database with a unique name (migrations run when a server first opens it). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const pool = adminPool();
  try {
    await sweepStale(pool);
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${describePostgres()}${CI ? ' (mandatory under CI=true)' : ''}: ${
        (error as Error).message || String(error)
      }`,
    );
  }
  const name = `${PREFIX}${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  // template0: never connected to, so concurrent CREATE DATABASE calls never find their template busy.
  await pool.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING 'UTF8'`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const database: TestDatabase = {
    name,
    url: url.toString(),
    rootKey: randomBytes(32).toString('base64'),
    drop() {
      dropped ??= (async () => {
        live.delete(database);
        await pool.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      })();
      return dropped;
    },
  };
  live.add(database);
  return database;
}

/** Drops every database this process created and has not dropped yet (runs when the process is done). */
export async function dropAll(): Promise<void> {
  await Promise.allSettled([...live].map((d) => d.drop()));
}

/** PostgreSQL databases of test servers by data directory, so that a restart on the same directory reuses it. */
const byDataDir = new Map<string, TestDatabase>();

export interface PreparedStore {
  store: Store;
  /** DATABASE_URL and DWS_ROOT_KEY for PostgreSQL; nothing for SQLite (the data directory holds both). */
  env: Record<string, string>;
  database?: TestDatabase;
  /** Drops the database when this server owns it (not when the caller passed a shared one). */
  release(): Promise<void>;
}

/**
 * The store of a test server started on `dataDir`: a restart on a directory that used PostgreSQL reuses
 * its database; otherwise `store` (default: TEST_STORE, else sqlite) decides, and PostgreSQL gets a new
 * database. A `database` passed in is shared: the caller creates and drops it.
 */
export async function prepareStore(
  dataDir: string,
  options: { store?: Store; database?: TestDatabase },
): Promise<PreparedStore> {
  const shared = options.database;
  const known = byDataDir.get(dataDir);
  const store: Store =
    shared || known ? 'postgres' : (options.store ?? (wanted === 'postgres' ? 'postgres' : 'sqlite'));
  if (store === 'sqlite') return { store, env: {}, release: async () => {} };
  const database = shared ?? known ?? (await createTestDatabase());
  if (!shared) byDataDir.set(dataDir, database);
  return {
    store,
    env: { DATABASE_URL: database.url, DWS_ROOT_KEY: database.rootKey },
    database,
    release: async () => {
      if (shared) return;
      byDataDir.delete(dataDir);
      await database.drop();
    },
  };
}
