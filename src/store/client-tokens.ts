/**
 * X-Client-Token records: one row per (project, token) holding the first answer to that request. A
 * request claims its token by inserting the row (a unique key, so of two concurrent requests exactly one
 * inserts); it records its answer when it has one, or deletes the row when it failed in a way worth
 * retrying (5xx). Rows are kept for the replay window, then purged.
 */
import type { Db } from './types.js';

export type ClientTokenRow = {
  request_hash: string;
  status: number | null;
  response: string | null;
  created_at: number;
};

/** Inserts the claim; false when the (project, token) row exists already. */
export async function claimClientToken(
  db: Db,
  projectId: string,
  token: string,
  requestHash: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .insertInto('client_tokens')
    .values({
      project_id: projectId,
      token,
      request_hash: requestHash,
      status: null,
      response: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['project_id', 'token']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function findClientToken(
  db: Db,
  projectId: string,
  token: string,
): Promise<ClientTokenRow | undefined> {
  return db
    .selectFrom('client_tokens')
    .select(['request_hash', 'status', 'response', 'created_at'])
    .where('project_id', '=', projectId)
    .where('token', '=', token)
    .executeTakeFirst();
}

/**
 * Takes over a row that is past the replay window or whose first request was abandoned (the instance
 * died before answering): only if it is still exactly as read, so one taker wins.
 */
export async function retakeClientToken(
  db: Db,
  projectId: string,
  token: string,
  seen: ClientTokenRow,
  requestHash: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('client_tokens')
    .set({ request_hash: requestHash, status: null, response: null, created_at: now })
    .where('project_id', '=', projectId)
    .where('token', '=', token)
    .where('created_at', '=', seen.created_at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function recordClientTokenAnswer(
  db: Db,
  projectId: string,
  token: string,
  status: number,
  response: string,
): Promise<void> {
  await db
    .updateTable('client_tokens')
    .set({ status, response })
    .where('project_id', '=', projectId)
    .where('token', '=', token)
    .where('status', 'is', null)
    .execute();
}

export async function releaseClientToken(db: Db, projectId: string, token: string): Promise<void> {
  await db
    .deleteFrom('client_tokens')
    .where('project_id', '=', projectId)
    .where('token', '=', token)
    .where('status', 'is', null)
    .execute();
}

export async function purgeClientTokens(db: Db, before: number): Promise<void> {
  await db.deleteFrom('client_tokens').where('created_at', '<', before).execute();
}
