/**
 * The small database wrapper: one Kysely instance, its dialect, transactions, and close. The factory
 * picks the embedded SQLite store (default) or PostgreSQL from the configured URL.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { type DatabaseConnection, type Driver, Kysely, SqliteDialect } from 'kysely';
import { throwIfClientGone } from './call-context.js';
import { registerSqliteReads } from './fast-reads.js';
import { migrateToLatest } from './migrations.js';
import type { Schema } from './schema.js';
import type { Database } from './types.js';

export type { Database, Db, Dialect } from './types.js';

export interface StoreOptions {
  /** `sqlite:<path>`, a bare file path, `:memory:`, or `postgres://...`. */
  url: string;
  /** PostgreSQL: most connections of this instance's pool. */
  poolSize?: number;
  /** PostgreSQL: session and client-side bounds (see PostgresOptions; defaults POSTGRES_DEFAULTS). */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  callTimeoutMs?: number;
  readReserve?: number;
  /** PostgreSQL: a connection broke (logged; the pool replaces it). */
  onConnectionError?: (error: Error) => void;
  /** SQLite: rows the encrypt-info read may cache (0: none; see fast-reads.ts). */
  sqliteRowCache?: number;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function sqlitePath(url: string): string {
  return url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
}

export async function openDatabase(options: StoreOptions): Promise<Database> {
  if (isPostgresUrl(options.url)) {
    const { openPostgres } = await import('./postgres.js');
    const { url, sqliteRowCache: _, ...postgresOptions } = options;
    return openPostgres(url, postgresOptions);
  }
  return openSqlite(sqlitePath(options.url), { rowCache: options.sqliteRowCache });
}

export async function openSqlite(
  path: string,
  options: { rowCache?: number | undefined } = {},
): Promise<Database> {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    // The store holds wrapped keys, sealed secrets and the audit trail: only the service's user may read
    // it. Created empty with mode 0600 before SQLite opens it; SQLite gives its -wal and -shm files the
    // main file's mode. An existing file keeps the mode it has.
    closeSync(openSync(path, 'a', 0o600));
  }
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers run beside the writer and makes a crashed process's file open cleanly.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SafeRollbackSqliteDialect(sqlite) });
  registerSqliteReads(db, sqlite, options.rowCache);
  await migrateToLatest(db, 'sqlite');
  return {
    db,
    dialect: 'sqlite',
    // Kysely's SQLite driver has one connection guarded by a mutex: a transaction excludes every other
    // query, which is what serializes operations in the embedded mode.
    transaction: (fn) => {
      throwIfClientGone();
      return db.transaction().execute(async (trx) => {
        const result = await fn(trx);
        // Work whose client has gone is rolled back instead of committed (nobody would see the answer).
        throwIfClientGone();
        return result;
      });
    },
    ping: async () => {
      sqlite.prepare('SELECT 1').get();
    },
    close: () => db.destroy(),
  };
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, ...);
 * Kysely's ROLLBACK then fails with "cannot rollback - no transaction is active" and that error would
 * replace the real one (a disk-full write answered 500 instead of 503). Roll back only what is open.
 */
class SafeRollbackSqliteDialect extends SqliteDialect {
  readonly #sqlite: SqliteDatabase.Database;

  constructor(sqlite: SqliteDatabase.Database) {
    super({ database: sqlite });
    this.#sqlite = sqlite;
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection: DatabaseConnection) => {
      if (this.#sqlite.inTransaction) await rollback(connection);
    };
    return driver;
  }
}
