/**
 * Credential versions of the identities file's users. At every start the declared users are compared
 * with the table: a new user starts at version 1; a user whose credential fingerprint changed, or who is
 * declared again after having been absent, gets the next version; a user no longer declared is marked
 * removed (and keeps its version, so declaring it again moves past every token it ever had).
 */
import type { Db } from './database.js';

export interface DeclaredUser {
  userId: string;
  domainId: string;
  fingerprint: string;
}

/** Brings the table in line with the declared users; returns each declared user's version. */
export async function reconcileCredentialVersions(
  db: Db,
  declared: readonly DeclaredUser[],
  now: number,
): Promise<Map<string, number>> {
  const rows = await db.selectFrom('iam_users').selectAll().execute();
  const stored = new Map(rows.map((row) => [row.user_id, row]));
  const versions = new Map<string, number>();
  for (const user of declared) {
    const row = stored.get(user.userId);
    if (row === undefined) {
      await db
        .insertInto('iam_users')
        .values({
          user_id: user.userId,
          domain_id: user.domainId,
          credential_fingerprint: user.fingerprint,
          version: 1,
          removed: 0,
          updated_at: now,
        })
        // Another instance starting at the same moment may have added it: theirs stands.
        .onConflict((oc) => oc.column('user_id').doNothing())
        .execute();
      versions.set(user.userId, 1);
      continue;
    }
    if (row.removed === 0 && row.credential_fingerprint === user.fingerprint) {
      versions.set(user.userId, Number(row.version));
      continue;
    }
    const version = Number(row.version) + 1;
    await db
      .updateTable('iam_users')
      .set({
        domain_id: user.domainId,
        credential_fingerprint: user.fingerprint,
        version,
        removed: 0,
        updated_at: now,
      })
      .where('user_id', '=', user.userId)
      .execute();
    versions.set(user.userId, version);
  }
  const declaredIds = new Set(declared.map((user) => user.userId));
  const gone = rows.filter((row) => row.removed === 0 && !declaredIds.has(row.user_id)).map((r) => r.user_id);
  if (gone.length > 0) {
    await db
      .updateTable('iam_users')
      .set({ removed: 1, updated_at: now })
      .where('user_id', 'in', gone)
      .execute();
  }
  return versions;
}
