/** IAM tokens, stored as their SHA-256 only (the token itself is never written anywhere). */
import type { Db } from './database.js';
import type { TokenRow, TokenTable } from './schema.js';

export async function insertToken(db: Db, row: TokenTable): Promise<void> {
  await db.insertInto('tokens').values(row).execute();
}

/** The token with this hash, expired or not (the caller decides). */
export async function findTokenByHash(db: Db, tokenHash: string): Promise<TokenRow | undefined> {
  return db.selectFrom('tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Removes tokens that expired before `now`; returns how many. */
export async function deleteExpiredTokens(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('tokens').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Removes the token with this hash (revocation); returns how many rows went (0 or 1). */
export async function deleteTokenByHash(db: Db, tokenHash: string): Promise<number> {
  const result = await db.deleteFrom('tokens').where('token_hash', '=', tokenHash).executeTakeFirst();
  return Number(result.numDeletedRows);
}
