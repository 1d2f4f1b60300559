/** Job queries, including the lease-based claim used by the job runner. */

import { type ExpressionBuilder, type RawBuilder, sql } from 'kysely';
import { ACTIVE_JOB_STATUSES, statusesLeadingTo } from '../domain/jobs.js';
import { DB_NOW_MS } from './clock.js';
import type { Db } from './database.js';
import type { JobRow, JobTable, Schema } from './schema.js';

export async function insertJob(db: Db, row: JobTable): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
}

export async function findJob(db: Db, projectId: string, jobId: string): Promise<JobRow | undefined> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', jobId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

const ACTIVE = ACTIVE_JOB_STATUSES;

/** A time in a statement: this instance's milliseconds, or the database's own clock (`DB_NOW_MS`). */
type StatementTime = number | RawBuilder<number>;

/** A job that may be claimed at `now`: not final, and its lease free or expired. */
function claimable(now: StatementTime) {
  return (eb: ExpressionBuilder<Schema, 'jobs'>) =>
    eb.and([
      eb('status', 'in', ACTIVE),
      eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]),
    ]);
}

/** What claiming a job changes: its lease (to `leaseExpiresAt`) and its count of attempts. */
function claim(owner: string, leaseExpiresAt: StatementTime, now: number) {
  return (eb: ExpressionBuilder<Schema, 'jobs'>) => ({
    lease_owner: owner,
    lease_expires_at: leaseExpiresAt,
    attempts: eb('attempts', '+', 1),
    updated_at: now,
  });
}

/** Ids of jobs that are not final and whose lease is free or expired, oldest first. */
export async function findClaimableJobIds(db: Db, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('jobs')
    .select('id')
    .where(claimable(now))
    .orderBy('begin_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Takes the lease of one job if it is still free or expired. The conditional UPDATE is atomic in both
 * dialects: on PostgreSQL (READ COMMITTED) a second UPDATE racing for the same row waits for the first
 * to commit and then re-evaluates its WHERE against the new row, where the lease is no longer expired,
 * so of several instances exactly one gets a row back.
 */
export async function claimJob(
  db: Db,
  jobId: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<JobRow | undefined> {
  return db
    .updateTable('jobs')
    .set(claim(owner, now + leaseMs, now))
    .where('id', '=', jobId)
    .where(claimable(now))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Claims up to `limit` claimable jobs, oldest first, skipping `exclude` (jobs this instance already runs).
 *
 * PostgreSQL: one statement, `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)`: the
 * candidate rows are locked as they are picked and rows another instance is claiming (or finishing)
 * right now are skipped instead of waited for, so N instances polling together each take different jobs
 * in one round trip. The outer WHERE repeats the lease condition, so a row is only ever claimed while
 * its lease is free or expired. SQLite: a select, then the conditional claim of each id (one process).
 */
export async function claimJobs(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  exclude: readonly string[] = [],
): Promise<JobRow[]> {
  if (limit <= 0) return [];
  if (dialect === 'sqlite') {
    const claimed: JobRow[] = [];
    for (const id of await findClaimableJobIds(db, now, limit + exclude.length)) {
      if (claimed.length >= limit) break;
      if (exclude.includes(id)) continue;
      const job = await claimJob(db, id, owner, now, leaseMs);
      if (job) claimed.push(job);
    }
    return claimed;
  }
  // The lease is timed by the database's clock, not this instance's: an instance whose clock runs ahead
  // cannot take a lease early, nor give itself a longer one (see src/store/clock.ts).
  return db
    .updateTable('jobs')
    .set(claim(owner, sql<number>`${DB_NOW_MS} + ${leaseMs}`, now))
    .where('id', 'in', (eb) => {
      let candidates = eb.selectFrom('jobs').select('id').where(claimable(DB_NOW_MS));
      if (exclude.length > 0) candidates = candidates.where('id', 'not in', [...exclude]);
      return candidates.orderBy('begin_at').limit(limit).forUpdate().skipLocked();
    })
    .where(claimable(DB_NOW_MS))
    .returningAll()
    .execute();
}

/**
 * Renews `owner`'s lease of a job by `leaseMs` from now — the database's now on PostgreSQL — while it
 * still holds it, with the other `changes` (progress); false when the lease was lost.
 */
export async function renewLease(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  jobId: string,
  owner: string,
  now: number,
  leaseMs: number,
  changes: Partial<Omit<JobTable, 'id' | 'lease_expires_at'>>,
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({
      ...changes,
      lease_expires_at: dialect === 'postgres' ? sql<number>`${DB_NOW_MS} + ${leaseMs}` : now + leaseMs,
    })
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', 'in', changes.status === undefined ? ACTIVE : statusesLeadingTo(changes.status))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Updates a job only while `owner` still holds its lease and the job's status may move to
 * `changes.status` (the transition table of src/domain/jobs.ts; without a status change, while the job
 * is active). Returns false when the lease was lost or the transition is not allowed.
 */
export async function updateOwnedJob(
  db: Db,
  jobId: string,
  owner: string,
  changes: Partial<Omit<JobTable, 'id'>>,
): Promise<boolean> {
  const from = changes.status === undefined ? ACTIVE : statusesLeadingTo(changes.status);
  const result = await db
    .updateTable('jobs')
    .set(changes)
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Releases every lease held by `owner` (graceful shutdown: another instance or the next start resumes). */
export async function releaseLeases(db: Db, owner: string, now: number): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('lease_owner', '=', owner)
    .where('status', 'in', ACTIVE)
    .execute();
}

/** Unfinished jobs of the whole store, or of one project. */
export async function countActiveJobs(db: Db, projectId?: string): Promise<number> {
  let query = db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ACTIVE);
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  const row = await query.executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Counts unfinished jobs that will use the master key `keyId` (a conversion wraps its data key under it). */
export async function countActiveJobsUsingKey(db: Db, projectId: string, keyId: string): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('master_key_id', '=', keyId)
    .where('project_id', '=', projectId)
    .where('status', 'in', ACTIVE)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Makes every unfinished job due now (the emulator's "complete jobs") and frees its lease, so that the
 * instance running it lets go and the next claim, by any instance, finishes it at once. Answers the ids.
 */
export async function finishActiveJobsNow(db: Db, now: number): Promise<string[]> {
  await db
    .updateTable('jobs')
    .set({ due_at: now })
    .where('status', 'in', ACTIVE)
    .where('due_at', '>', now)
    .execute();
  await db
    .updateTable('jobs')
    .set({ lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('status', 'in', ACTIVE)
    .execute();
  const due = await db.selectFrom('jobs').select('id').where('status', 'in', ACTIVE).execute();
  return due.map((r) => r.id);
}

export async function jobStatuses(db: Db, ids: readonly string[]): Promise<{ id: string; status: string }[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('jobs').select(['id', 'status']).where('id', 'in', ids).orderBy('begin_at').execute();
}

/** The unfinished jobs of a project's clusters (a cluster has at most one): what each cluster is doing. */
export async function listActiveClusterJobs(
  db: Db,
  projectId: string,
  clusterIds: readonly string[],
): Promise<Pick<JobRow, 'cluster_id' | 'name' | 'progress'>[]> {
  if (clusterIds.length === 0) return [];
  const found: Pick<JobRow, 'cluster_id' | 'name' | 'progress'>[] = [];
  // Chunked: SQLite caps bound parameters per statement.
  for (let i = 0; i < clusterIds.length; i += 500) {
    const rows = await db
      .selectFrom('jobs')
      .select(['cluster_id', 'name', 'progress'])
      .where('project_id', '=', projectId)
      .where('status', 'in', ACTIVE)
      .where('cluster_id', 'in', clusterIds.slice(i, i + 500))
      .execute();
    found.push(...rows);
  }
  return found;
}
