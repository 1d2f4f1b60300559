/** Stored access keys (the bootstrap credential). Secrets are sealed under the root key. */
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
