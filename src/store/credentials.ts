/** Stored access keys (the bootstrap credential). Secrets are sealed under the root key. */
import { sql } from 'kysely';
import type { Db } from './database.js';
import type { CredentialRow, CredentialTable } from './schema.js';

export async function insertCredential(db: Db, row: CredentialTable): Promise<void> {
  await db.insertInto('credentials').values(row).execute();
}

export async function findCredential(db: Db, accessKey: string): Promise<CredentialRow | undefined> {
  return db.selectFrom('credentials').selectAll().where('access_key', '=', accessKey).executeTakeFirst();
}

export async function listCredentials(db: Db): Promise<CredentialRow[]> {
  return db.selectFrom('credentials').selectAll().orderBy('created_at').execute();
}

/** Replaces a stored credential's sealed secret; false when there is no such access key. */
export async function updateCredentialSecret(
  db: Db,
  accessKey: string,
  secretSealed: string,
): Promise<boolean> {
  const result = await db
    .updateTable('credentials')
    .set({ secret_sealed: secretSealed })
    .where('access_key', '=', accessKey)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** An arbitrary constant naming the bootstrap lock among PostgreSQL advisory locks. */
const BOOTSTRAP_LOCK_ID = 7_231_911_204;

/**
 * Serializes credential bootstrapping across instances until the transaction ends: a PostgreSQL
 * transaction-scoped advisory lock. SQLite needs nothing (one writer at a time, one process).
 */
export async function lockCredentials(db: Db, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'postgres')
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(BOOTSTRAP_LOCK_ID)})`.execute(db);
}
