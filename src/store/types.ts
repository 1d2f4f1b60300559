/**
 * The store's shared types, in a file that imports no store module: the database wrapper, its dialect
 * and the Kysely handle repositories take. `database.ts`, `fast-reads.ts`, `postgres.ts` and
 * `migrations.ts` all import from here, so none of them depends on another for a type.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** What repository functions take: the root instance or an open transaction. */
export type Db = Kysely<Schema> | Transaction<Schema>;

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction; on PostgreSQL rows read with `forUpdate` stay locked until commit. */
  transaction<T>(fn: (trx: Transaction<Schema>) => Promise<T>): Promise<T>;
  /** Cheap round trip for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
