/**
 * Dialect-specific fast paths for the hottest reads (see docs/benchmarks.md). Kysely compiles a query
 * on every call, and its SQLite driver also prepares the statement on every call; for a read that
 * runs on every request these costs dominate. Repository functions (src/store/*.ts) ask here for the
 * native handle behind a Kysely instance and, when there is one, run a cached prepared statement:
 * - SQLite: a better-sqlite3 statement prepared once per connection. Used only while no transaction is
 *   open on the (single) connection, so a read never sees another operation's uncommitted writes; in
 *   a transaction the caller falls back to the Kysely query, which waits for the connection.
 *   `cachedFirst` adds a row cache for the embedded mode, where this process is the only writer of the
 *   file (one process owns an SQLite store; DWS_SQLITE_ROW_CACHE=0 for anything else). The connection
 *   counts its own writes: every statement it prepares that may write (`!statement.readonly`: DML,
 *   BEGIN/COMMIT, DDL, writing pragmas, `exec`) bumps a counter when prepared and again when run, and
 *   the cache is emptied whenever the counter moved since the last read. That costs nothing per read,
 *   where asking SQLite (`SELECT total_changes()`) cost a statement step on every request.
 * - PostgreSQL: a named statement through the pool (parsed and planned once per pooled connection).
 * Only the root instance is registered: inside a transaction (`Transaction<Schema>`) repository
 * functions always take the Kysely path, on the transaction's own connection.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Schema } from './schema.js';
import type { Db } from './types.js';

/** Returned by `SqliteReads.cachedFirst` when the fast path cannot be used (a transaction is open). */
export const UNAVAILABLE: unique symbol = Symbol('fast read unavailable');

/** Default of DWS_SQLITE_ROW_CACHE: rows cached at most; past this the cache starts afresh. */
export const DEFAULT_SQLITE_ROW_CACHE = 10_000;

class SqliteReads {
  private readonly statements = new Map<string, SqliteDatabase.Statement>();
  /** Bumped by every statement of the connection that may write (see countWrites). */
  private writes = 0;
  private generation = -1;
  /** Per statement: key → frozen row. */
  private readonly caches = new Map<string, Map<string, unknown>>();
  private cachedRows = 0;

  /** `maxRows`: cached rows at most (a flood of distinct ids cannot grow it); 0 turns the cache off. */
  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly maxRows: number,
  ) {
    this.countWrites();
  }

  /** Wraps the connection's `prepare` and `exec` so that every statement that may write bumps `writes`. */
  private countWrites(): void {
    const sqlite = this.sqlite;
    const prepare = sqlite.prepare.bind(sqlite);
    const exec = sqlite.exec.bind(sqlite);
    const wrote = () => {
      this.writes++;
    };
    sqlite.prepare = ((source: string) => {
      const statement = prepare(source);
      if (!statement.readonly) {
        wrote();
        for (const method of ['run', 'get', 'all', 'iterate'] as const) {
          const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
          (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
            try {
              return original(...args);
            } finally {
              wrote();
            }
          };
        }
      }
      return statement;
    }) as typeof sqlite.prepare;
    sqlite.exec = ((source: string) => {
      try {
        return exec(source);
      } finally {
        wrote();
      }
    }) as typeof sqlite.exec;
  }

  /**
   * The first row of `sql` with `params`, frozen, from the row cache of `sql` under `key` (which must
   * identify the parameters), or UNAVAILABLE while a transaction is open. Only found rows are cached.
   */
  cachedFirst<T extends object>(
    sql: string,
    key: string,
    params: readonly unknown[],
  ): T | undefined | typeof UNAVAILABLE {
    if (this.sqlite.inTransaction || !this.sqlite.open) return UNAVAILABLE;
    if (this.maxRows === 0) return this.statement(sql)!.get(...params) as T | undefined;
    const generation = this.writes;
    if (generation !== this.generation || this.cachedRows >= this.maxRows) {
      for (const rows of this.caches.values()) rows.clear();
      this.cachedRows = 0;
      this.generation = generation;
    }
    let rows = this.caches.get(sql);
    if (rows === undefined) {
      rows = new Map();
      this.caches.set(sql, rows);
    }
    const cached = rows.get(key) as T | undefined;
    if (cached !== undefined) return cached;
    const row = this.statement(sql)!.get(...params) as T | undefined;
    if (row !== undefined) {
      rows.set(key, Object.freeze(row));
      this.cachedRows++;
    }
    return row;
  }

  /** The prepared statement for `sql`, or undefined while a transaction is open on the connection. */
  statement(sql: string): SqliteDatabase.Statement | undefined {
    if (this.sqlite.inTransaction || !this.sqlite.open) return undefined;
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

class PostgresReads {
  constructor(private readonly pool: pg.Pool) {}

  /** Runs a named (prepared once per connection) statement and returns its first row. */
  async first<T>(name: string, text: string, values: readonly unknown[]): Promise<T | undefined> {
    const result = await this.pool.query({ name, text, values: values as unknown[] });
    return result.rows[0] as T | undefined;
  }
}

const handles = new WeakMap<object, SqliteReads | PostgresReads>();

export function registerSqliteReads(
  db: Kysely<Schema>,
  sqlite: SqliteDatabase.Database,
  rowCache = DEFAULT_SQLITE_ROW_CACHE,
): void {
  handles.set(db, new SqliteReads(sqlite, rowCache));
}

export function registerPostgresReads(db: Kysely<Schema>, pool: pg.Pool): void {
  handles.set(db, new PostgresReads(pool));
}

/** The SQLite fast path of `db`, if `db` is a registered root SQLite instance. */
export function sqliteReads(db: Db): SqliteReads | undefined {
  const handle = handles.get(db);
  return handle instanceof SqliteReads ? handle : undefined;
}

/** The PostgreSQL fast path of `db`, if `db` is a registered root PostgreSQL instance. */
export function postgresReads(db: Db): PostgresReads | undefined {
  const handle = handles.get(db);
  return handle instanceof PostgresReads ? handle : undefined;
}
