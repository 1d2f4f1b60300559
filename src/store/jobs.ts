/** Job queries, including the lease-based claim used by the job runner. */
import type { Db } from './database.js';
import type { JobRow, JobTable } from './schema.js';

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

export async function findJobById(db: Db, jobId: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
}

/** Ids of jobs that are not final and whose lease is free or expired, oldest first. */
export async function findClaimableJobIds(db: Db, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('jobs')
    .select('id')
    .where('status', 'in', ['INIT', 'WAITING', 'RUNNING', 'DELAY_SCHEDULED'])
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
    .orderBy('begin_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Takes the lease of one job if it is still free or expired. The conditional UPDATE is atomic in both
 * dialects, so of several instances racing for a job exactly one gets a row back.
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
    .set((eb) => ({
      lease_owner: owner,
      lease_expires_at: now + leaseMs,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', jobId)
    .where('status', 'in', ['INIT', 'WAITING', 'RUNNING', 'DELAY_SCHEDULED'])
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
    .returningAll()
    .executeTakeFirst();
}

/** Updates a job only while `owner` still holds its lease; returns false when the lease was lost. */
export async function updateOwnedJob(
  db: Db,
  jobId: string,
  owner: string,
  changes: Partial<Omit<JobTable, 'id'>>,
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set(changes)
    .where('id', '=', jobId)
    .where('lease_owner', '=', owner)
    .where('status', 'in', ['INIT', 'WAITING', 'RUNNING', 'DELAY_SCHEDULED'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Releases every lease held by `owner` (graceful shutdown: another instance or the next start resumes). */
export async function releaseLeases(db: Db, owner: string, now: number): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('lease_owner', '=', owner)
    .where('status', 'in', ['INIT', 'WAITING', 'RUNNING', 'DELAY_SCHEDULED'])
    .execute();
}

export async function countActiveJobs(db: Db): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['INIT', 'WAITING', 'RUNNING', 'DELAY_SCHEDULED'])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
