/**
 * PostgreSQL flavour of the database wrapper: a `pg` pool behind Kysely. Any number of instances may
 * share one database; what keeps them correct is in the queries (row locks, conditional updates), not
 * here. This file only makes the pool robust: a lost connection is an error of the query that used it
 * (answered 503 upstream), never a crash, and the pool opens fresh connections when the server is back.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Errors, ServiceError } from '../domain/errors.js';
import { currentClient, type RequestClient, throwIfClientGone } from './call-context.js';
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
   * How long a query may wait for a pooled connection, and a transaction for a transaction slot, while
   * every one is in use (default 30 s). A burst of changes to one cluster holds connections while it
   * waits for the row, so this is much longer than opening a connection takes; past it the request
   * answers 503 STORE_BUSY.
   */
  acquireTimeoutMs?: number;
  /** Server-side bound on one statement (`statement_timeout`, default 10 s). */
  statementTimeoutMs?: number;
  /** Server-side bound on waiting for a row lock (`lock_timeout`, default 2 s). */
  lockTimeoutMs?: number;
  /**
   * Client-side bound on one query round trip and on waiting for a transaction slot (default 15 s): it
   * also holds when the server or the network does not answer at all (a partition), where the two
   * server-side timeouts cannot act. The connection of a query that runs out is closed.
   */
  callTimeoutMs?: number;
  /** Share of the pool that transactions may not take, kept for plain reads (default 0.3). */
  readReserve?: number;
  /** Called when an idle or checked-out connection breaks (the pool replaces it). */
  onConnectionError?: (error: Error) => void;
}

export const POSTGRES_DEFAULTS = {
  poolSize: 10,
  connectTimeoutMs: 5_000,
  acquireTimeoutMs: 30_000,
  statementTimeoutMs: 10_000,
  lockTimeoutMs: 2_000,
  callTimeoutMs: 15_000,
  readReserve: 0.3,
} as const;

/** How many transactions may hold a connection at once: the pool minus the share kept for reads. */
export function transactionSlots(poolSize: number, readReserve: number): number {
  return Math.max(1, poolSize - Math.ceil(poolSize * readReserve));
}

/** A query that ran out of DWS_STORE_CALL_TIMEOUT_SECONDS (its connection is closed; answered 503). */
export class StoreCallTimeout extends Error {
  readonly code = 'DWS_STORE_TIMEOUT';
  constructor(ms: number) {
    super(`store call timed out after ${ms} ms`);
    this.name = 'StoreCallTimeout';
  }
}

/** No transaction slot was freed within the acquire timeout (answered 503 STORE_BUSY). */
export class TransactionSlotTimeout extends Error {
  readonly code = 'DWS_TRANSACTION_SLOT_TIMEOUT';
  constructor(ms: number) {
    super(`no transaction slot was free within ${ms} ms`);
    this.name = 'TransactionSlotTimeout';
  }
}

type QueryCallback = (error: Error | null, result?: unknown) => void;

/**
 * The pool's client, with two bounds on every query: a client-side timer (the connection is destroyed
 * when it fires, so the query fails instead of hanging on a silent peer), and the client of the
 * request being served (currentClient): a client that has gone cancels the statement it waits on (a row
 * lock, typically), and no statement but ROLLBACK starts for it any more — COMMIT included.
 */
function boundedClient(callTimeoutMs: number, connectTimeoutMs: number): typeof pg.Client {
  return class BoundedClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      // pg-pool has one timeout for both waits: the pool's is the wait for a free connection, and each
      // client opens its connection under its own, shorter one (a server that does not answer fails
      // fast, as unavailable, while a full pool is waited for).
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
    }

    override query(...args: unknown[]): never {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      const client = currentClient();
      const rollback = typeof text === 'string' && /^\s*rollback/i.test(text);
      const last = args.length - 1;
      const callback = typeof args[last] === 'function' ? (args[last] as QueryCallback) : undefined;
      if (client?.gone && !rollback) {
        const error = new ServiceError(Errors.CLIENT_CLOSED_REQUEST);
        if (callback) {
          process.nextTick(() => callback(error));
          return undefined as never;
        }
        return Promise.reject(error) as never;
      }
      const timer = setTimeout(() => {
        this.connection.stream.destroy(new StoreCallTimeout(callTimeoutMs));
      }, callTimeoutMs);
      const stopWatching = client?.onGone(() => this.cancelRunning());
      const settle = () => {
        clearTimeout(timer);
        stopWatching?.();
      };
      if (callback) {
        args[last] = (error: Error | null, result?: unknown) => {
          settle();
          callback(error, result);
        };
        return (super.query as (...a: unknown[]) => never)(...args);
      }
      const result = (super.query as (...a: unknown[]) => Promise<unknown>)(...args);
      result.then(settle, settle);
      return result as never;
    }

    /** Asks the server to cancel what this connection runs (PostgreSQL's cancel request, on its own socket). */
    private cancelRunning(): void {
      // `pg` types omit the cancel-request parts of Connection and the backend key of Client.
      const connection = new pg.Connection() as pg.Connection & {
        cancel(processId: number, secretKey: number): void;
        connect(port: number, host: string): void;
      };
      const backend = this as unknown as { processID: number; secretKey: number };
      connection.on('error', () => {});
      connection.once('connect', () => {
        connection.cancel(backend.processID, backend.secretKey);
      });
      connection.connect(this.port, this.host);
    }
  } as unknown as typeof pg.Client;
}

/** Waits for one of `slots` places, failing after `timeoutMs` or when the request's client has gone. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(
    slots: number,
    private readonly timeoutMs: number,
  ) {
    this.free = slots;
  }

  async acquire(client: RequestClient | undefined): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return () => this.release();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        cleanup();
        resolve(() => this.release());
      };
      const fail = (error: Error) => {
        cleanup();
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(error);
      };
      const timer = setTimeout(() => fail(new TransactionSlotTimeout(this.timeoutMs)), this.timeoutMs);
      const stopWatching = client?.onGone(() => fail(new ServiceError(Errors.CLIENT_CLOSED_REQUEST)));
      const cleanup = () => {
        clearTimeout(timer);
        stopWatching?.();
      };
      this.waiting.push(grant);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const settings = { ...POSTGRES_DEFAULTS, ...definedOnly(options) };
  const pool = new pg.Pool({
    connectionString: url,
    Client: boundedClient(settings.callTimeoutMs, settings.connectTimeoutMs),
    max: settings.poolSize,
    types,
    connectionTimeoutMillis: Math.max(settings.acquireTimeoutMs, settings.connectTimeoutMs),
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'dws-encryption',
    // Per session: a statement, and above all the wait for a row lock held by a stuck instance, ends
    // with an error (answered 503) instead of holding this connection (see docs/reliability.md).
    statement_timeout: settings.statementTimeoutMs,
    lock_timeout: settings.lockTimeoutMs,
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
  // Transactions (the writes, which may wait on row locks) never take the whole pool: a share stays
  // for plain reads, so one cluster's lock held by a stuck instance cannot starve this instance.
  const slots = new Slots(transactionSlots(settings.poolSize, settings.readReserve), settings.callTimeoutMs);
  return {
    db,
    dialect: 'postgres',
    async transaction(fn) {
      throwIfClientGone();
      const release = await slots.acquire(currentClient());
      try {
        return await db.transaction().execute(async (trx) => {
          const result = await fn(trx);
          throwIfClientGone();
          return result;
        });
      } finally {
        release();
      }
    },
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => db.destroy(),
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
