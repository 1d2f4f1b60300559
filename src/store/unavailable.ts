/**
 * Which errors mean "the store cannot be reached or written right now" (answered 503, retried by the job
 * runner) as opposed to a bug (500). The lists come from what `pg`, `better-sqlite3` and Node's sockets
 * actually raise, checked against a real server: refused or dropped connections, a connection killed by
 * the server (`pg_terminate_backend`, shutdown, fail-over), a server that does not answer in time, and
 * a database that is read-only, full or out of connections. Waiting too long for what other requests
 * hold (a pooled connection, a transaction slot, a row or file lock) is not that: `isStoreBusy` tells
 * those apart (answered 503 STORE_BUSY, "retry shortly"). Both are 503: a login the server refuses
 * (pg_hba.conf, a database closed to connections) and a statement cancelled by its timeout are outages.
 */

/** Error codes: SQLite result codes, Node socket/DNS codes, PostgreSQL SQLSTATE codes and classes. */
const CODES = [
  // SQLite: the file cannot be opened, written or locked
  'SQLITE_READONLY',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  // Node sockets and DNS (the database host is down, unreachable or not resolvable)
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // Our own client-side bound on a store call (src/store/postgres.ts)
  'DWS_STORE_TIMEOUT',
];

/** PostgreSQL SQLSTATE codes (exact) and classes (two characters). */
const SQLSTATES = [
  '08', // connection exception (08000, 08001, 08003, 08004, 08006, ...)
  '28', // invalid authorization: pg_hba.conf rejects the service (28000), wrong password (28P01)
  '53', // insufficient resources: disk full (53100), out of memory (53200), too many connections (53300)
  // operator intervention: statement_timeout or a cancel (57014), admin_shutdown (57P01), crash_shutdown
  // (57P02), cannot_connect_now (57P03), database_dropped (57P04), idle_session_timeout (57P05)
  '57',
  '55000', // object_not_in_prerequisite_state: the database is not accepting connections
  '58', // system error: I/O error (58030)
  '25006', // read_only_sql_transaction: connected to a standby, e.g. during a fail-over
  '3D000', // invalid_catalog_name: the database was dropped under the instance
];

/**
 * Messages of `pg` and `pg-pool` errors that carry no code. `timeout expired` is a new connection that
 * did not open within its connect timeout (the server or the network does not answer: a partition).
 */
const MESSAGES =
  /Connection terminated|not queryable|Query read timeout|connect ECONNREFUSED|Client was closed and is not queryable|Cannot use a pool after calling end on the pool|Client has encountered a connection error|^timeout expired$/;

/** Contention: the store works, but what this request needs was held by others for too long. */
const BUSY_CODES = [
  'SQLITE_BUSY', // the file stayed locked by another connection past busy_timeout
  'SQLITE_LOCKED',
  'DWS_TRANSACTION_SLOT_TIMEOUT', // no transaction slot freed in time (src/store/postgres.ts)
];
const BUSY_SQLSTATES = [
  '55P03', // lock_not_available: a lock wait ran past lock_timeout
  '40001', // serialization_failure (distributed SQL engines under SERIALIZABLE): retry
  '40P01', // deadlock_detected: one of the two transactions was aborted; retry
];
/** pg-pool's answer when no pooled connection was freed within the wait (the pool is full, not broken). */
const BUSY_MESSAGES = /timeout exceeded when trying to connect/;

export function isStoreUnavailable(error: unknown): boolean {
  return matches(error, CODES, SQLSTATES, MESSAGES);
}

export function isStoreBusy(error: unknown): boolean {
  return matches(error, BUSY_CODES, BUSY_SQLSTATES, BUSY_MESSAGES);
}

function matches(error: unknown, codes: string[], sqlStates: string[], messages: RegExp): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (codes.some((c) => code.startsWith(c))) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && sqlStates.some((s) => code.startsWith(s))) return true;
  }
  if (typeof message === 'string' && messages.test(message)) return true;
  // Node's happy-eyeballs connect reports every address it tried in an AggregateError.
  return (
    Array.isArray(errors) && errors.length > 0 && errors.every((e) => matches(e, codes, sqlStates, messages))
  );
}
