/**
 * PostgreSQL flavour of the database wrapper: a `pg` pool behind Kysely. Any number of instances may
 * share one database; what keeps them correct is in the queries (row locks, conditional updates), not
 * here. This file only makes the pool robust: a lost connection is an error of the query that used it
 * (answered 503 upstream), never a crash, and the pool opens fresh connections when the server is back.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { registerPostgresReads } from './fast-reads.js';
import { migrateToLatest } from './migrations.js';
import type { Schema } from './schema.js';
import type { Database } from './types.js';

const INT8_OID = 20;

// Times are epoch milliseconds in bigint columns: well inside Number's exact range, so read them as numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface PostgresOptions {
  /** Most connections this instance opens (default 10). */
  poolSize?: number;
  /** How long to wait for a new connection to open before the query fails (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * How long a query may wait for a pooled connection while every one is in use (default 30 s). A burst
   * of changes to one cluster holds connections while it waits for the row, so this is much longer
   * than opening a connection takes; past it the request answers 503 STORE_BUSY.
   */
  acquireTimeoutMs?: number;
  /** Called when an idle or checked-out connection breaks (the pool replaces it). */
  onConnectionError?: (error: Error) => void;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types,
    // pg-pool has one timeout for both waits: the pool's is the wait for a free connection, and each
    // client opens its connection under its own, shorter one (a server that does not answer fails
    // fast, as unavailable, while a full pool is waited for).
    connectionTimeoutMillis: Math.max(options.acquireTimeoutMs ?? 30_000, connectTimeoutMs),
    Client: class extends pg.Client {
      constructor(config?: pg.ClientConfig) {
        super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
      }
    },
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'dws-encryption',
    // Our transactions last milliseconds. One left open for a minute belongs to an instance that hangs or
    // was cut off by the network: the server ends it, releasing its row locks for the other instances
    // (a killed process's connection is closed by its kernel, and its transaction rolled back, at once).
    idle_in_transaction_session_timeout: 60_000,
  });
  const onError = (error: Error) => options.onConnectionError?.(error);
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', onError);
  // The pool listens for errors only on idle clients. A client checked out by a transaction, between two
  // of its queries, has no listener: a server shutdown at that moment would be an uncaught 'error' event.
  // A permanent listener makes it an error of the next query instead; on release the pool discards the
  // broken client.
  pool.on('connect', (client) => {
    client.on('error', onError);
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  registerPostgresReads(db, pool);
  try {
    // Kysely's migrator holds a PostgreSQL advisory lock while it migrates, so instances starting
    // together migrate once; the others wait, then find nothing left to do.
    await migrateToLatest(db, 'postgres');
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
  return {
    db,
    dialect: 'postgres',
    transaction: (fn) => db.transaction().execute(fn),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => db.destroy(),
  };
}
