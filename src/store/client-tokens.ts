/**
 * X-Client-Token records: one row per (project, token) holding the first answer to that request. A
 * request claims its token by inserting the row (a unique key, so of two concurrent requests exactly one
 * inserts); it records its answer when it has one, or deletes the row when it failed in a way worth
 * retrying (5xx). Rows are kept for the replay window, then purged.
 */
import { type Kysely, sql } from 'kysely';
import { DB_NOW_MS } from './clock.js';
import type { Schema } from './schema.js';
import type { Db } from './types.js';

export type ClientTokenRow = {
  request_hash: string;
  status: number | null;
  response: string | null;
  created_at: number;
};

/**
 * Inserts the claim; false when the (project, token) row exists already. With `deadline` (PostgreSQL) the
 * row is inserted only if the database runs the statement by the time it returns (epoch ms by the
 * database's clock, read once a connection is held, just before the statement is sent): a claim held up
 * in a network partition past its caller's store-call timeout, and delivered once the partition ends,
 * must not land — its request already answered 503, and a claim nobody answers would refuse the retries
 * (409) until it counts as abandoned.
 */
export async function claimClientToken(
  db: Kysely<Schema>,
  projectId: string,
  token: string,
  requestHash: string,
  now: number,
  deadline?: () => number,
): Promise<boolean> {
  if (deadline) {
    return db.connection().execute(async (connection) => {
      const guarded = await sql`
        INSERT INTO client_tokens (project_id, token, request_hash, status, response, created_at)
        SELECT ${projectId}, ${token}, ${requestHash}, NULL, NULL, ${now}::bigint
        WHERE ${DB_NOW_MS} <= ${deadline()}::bigint
        ON CONFLICT (project_id, token) DO NOTHING`.execute(connection);
      return Number(guarded.numAffectedRows ?? 0) === 1;
    });
  }
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
 * died before answering): only if it is still exactly as read, so one taker wins. `deadline`: as for
 * claimClientToken.
 */
export async function retakeClientToken(
  db: Kysely<Schema>,
  projectId: string,
  token: string,
  seen: ClientTokenRow,
  requestHash: string,
  now: number,
  deadline?: () => number,
): Promise<boolean> {
  const retake = (conn: Kysely<Schema>, notAfter?: number) => {
    const update = conn
      .updateTable('client_tokens')
      .set({ request_hash: requestHash, status: null, response: null, created_at: now })
      .where('project_id', '=', projectId)
      .where('token', '=', token)
      .where('created_at', '=', seen.created_at);
    return (notAfter === undefined ? update : update.where(DB_NOW_MS, '<=', notAfter)).executeTakeFirst();
  };
  const result = deadline
    ? await db.connection().execute((connection) => retake(connection, deadline()))
    : await retake(db);
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
