/**
 * The durable job runner. Jobs live in the store; an instance claims one with a lease (a conditional
 * UPDATE, atomic in both dialects; on PostgreSQL a batch at a time with FOR UPDATE SKIP LOCKED, so
 * instances polling together take different jobs), renews the lease while it reports progress, and
 * finishes the job in one transaction whose first statement re-checks it still owns the lease — an
 * UPDATE, which also locks the job row until commit, so a take-over waits for the finish and then finds
 * the job final (see docs/deployment.md for the lease length and the reasoning). An instance that dies simply stops
 * renewing: once the lease expires any instance (or the same one after a restart) claims the job and
 * carries on from its stored due time, and the ownership check makes the final side effects (data key,
 * cluster update, audit) happen exactly once. What a job does when it finishes is its kind's (kinds.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Errors, ServiceError } from '../domain/errors.js';
import type { JobFault } from '../domain/faults.js';
import { progressAt } from '../domain/jobs.js';
import type { Database, Db } from '../store/database.js';
import { claimJobs, releaseLeases, renewLease, updateOwnedJob } from '../store/jobs.js';
import type { JobRow } from '../store/schema.js';
import { type JobDeps, type JobFailure, jobFailure } from './kind.js';
import { jobKind, readPayload } from './kinds.js';

export interface RunnerOptions {
  leaseMs: number;
  pollMs: number;
  maxConcurrent: number;
  /** Identifies this instance in `lease_owner` (default `<hostname>:<pid>:<random>`). */
  owner?: string;
  now?: () => number;
  onError?: (error: unknown, job?: JobRow) => void;
  onJobFinished?: (job: JobRow, status: 'SUCCESS' | 'FAIL', durationMs: number) => void;
}

export class JobRunner {
  readonly owner: string;
  private readonly running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Consecutive polling rounds that failed (the store unreachable): the next poll is delayed. */
  private failedPolls = 0;
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    private readonly deps: JobDeps,
    private readonly options: RunnerOptions,
  ) {
    // Host and process id make `lease_owner` tell an operator which instance holds a job.
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops claiming, lets running jobs reach a checkpoint, and hands their leases back. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled(this.running.values());
    await releaseLeases(this.database.db, this.owner, this.now()).catch(() => {});
  }

  get activeJobs(): number {
    return this.running.size;
  }

  /** One polling round: claim what is claimable, up to the concurrency cap. Exposed for tests. */
  async poll(): Promise<void> {
    const free = this.options.maxConcurrent - this.running.size;
    if (free <= 0 || this.stopping) return;
    const jobs = await claimJobs(
      this.database.db,
      this.database.dialect,
      this.owner,
      this.now(),
      this.options.leaseMs,
      free,
      [...this.running.keys()],
    );
    for (const job of jobs) {
      const run = this.run(job)
        .catch((error) => this.options.onError?.(error, job))
        .finally(() => this.running.delete(job.id));
      this.running.set(job.id, run);
    }
  }

  private schedule(delay: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.poll()
        .then(() => {
          this.failedPolls = 0;
        })
        .catch((error) => {
          // The store is away (or failing): report the first failure of a streak, then back off
          // (doubling, up to a few seconds) so that an outage neither floods the log nor the database.
          // The runner keeps polling; it resumes by itself when the store answers again.
          if (this.failedPolls === 0) this.options.onError?.(error);
          this.failedPolls++;
        })
        .finally(() => {
          const backoff = Math.min(MAX_POLL_BACKOFF_MS, this.options.pollMs * 2 ** this.failedPolls);
          this.schedule(this.failedPolls === 0 ? this.options.pollMs : backoff);
        });
    }, delay);
    this.timer.unref();
  }

  private async run(job: JobRow): Promise<void> {
    if (job.attempts > MAX_ATTEMPTS) {
      // Claimed again and again without finishing (it keeps failing outside the domain rules):
      // fail it cleanly instead of retrying forever, leaving the cluster as it was.
      await this.finish(job, new ServiceError(Errors.INTERNAL, 'The job failed repeatedly and was stopped.'));
      return;
    }
    const duration = Math.max(0, job.due_at - job.begin_at);
    // Report progress a few times a second, and renew the lease well before it runs out.
    const tick = Math.max(
      20,
      Math.min(500, Math.floor(this.options.leaseMs / 3), Math.floor(duration / 20) || 20),
    );
    const fault = jobFaultOf(job);
    for (;;) {
      const now = this.now();
      if (fault && (now >= job.due_at || progressAt(now - job.begin_at, duration) >= fault.fail_at_percent)) {
        // An emulator job fault: the job fails at the chosen progress, undone like an abandoned job.
        await this.finish(job, undefined, fault);
        return;
      }
      if (now >= job.due_at) break;
      if (this.stopping) return; // checkpointed: the lease is released in stop(); the job resumes elsewhere
      const owned = await renewLease(
        this.database.db,
        this.database.dialect,
        job.id,
        this.owner,
        now,
        this.options.leaseMs,
        { status: 'RUNNING', progress: progressAt(now - job.begin_at, duration), updated_at: now },
      );
      if (!owned) return; // the lease was lost to another instance, which now finishes the job
      await sleep(Math.min(tick, job.due_at - now));
    }
    await this.finish(job);
  }

  /**
   * Finishes the job in one transaction: its kind's work (or, when `abandoned` or under a job `fault`,
   * its kind's undo).
   */
  private async finish(job: JobRow, abandoned?: ServiceError, fault?: JobFault): Promise<void> {
    const outcome = await this.database.transaction(async (trx) => {
      const now = this.now();
      // Claim the right to finish first: if the lease was lost this changes nothing and rolls back.
      const owned = await updateOwnedJob(trx, job.id, this.owner, { status: 'RUNNING', updated_at: now });
      if (!owned) return null;
      const failure = fault
        ? await this.failByFault(trx, job, fault)
        : await this.complete(trx, job, abandoned);
      const status = failure ? 'FAIL' : 'SUCCESS';
      await updateOwnedJob(trx, job.id, this.owner, {
        status,
        progress: failure ? (fault?.fail_at_percent ?? job.progress) : 100,
        failed_code: failure?.failedCode ?? null,
        failed_detail: failure?.failedDetail ?? null,
        end_at: now,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      });
      return { status, durationMs: now - job.begin_at } as const;
    });
    if (outcome) this.options.onJobFinished?.(job, outcome.status, outcome.durationMs);
  }

  /** Runs the job's kind; returns the failure to record, or null when the job succeeded. */
  private async complete(trx: Db, job: JobRow, abandoned?: ServiceError): Promise<JobFailure | null> {
    const kind = jobKind(job.name);
    if (!kind) return jobFailure(unknownKindPrefix(job.name), unusable(`unknown job type ${job.name}`));
    const payload = readPayload(kind, job);
    if (payload === undefined)
      return jobFailure(kind.failurePrefix, unusable('the job payload is not valid'));
    if (abandoned) {
      await kind.abandon(trx, job, payload, this.deps);
      return jobFailure(kind.failurePrefix, abandoned);
    }
    const refusal = await kind.complete(trx, job, payload, this.deps);
    return refusal ? jobFailure(kind.failurePrefix, refusal) : null;
  }

  /** A job fault: the kind's undo, and the failure the fault rule chose. */
  private async failByFault(trx: Db, job: JobRow, fault: JobFault): Promise<JobFailure> {
    const kind = jobKind(job.name);
    const payload = kind && readPayload(kind, job);
    if (kind && payload !== undefined) await kind.abandon(trx, job, payload, this.deps);
    return { failedCode: fault.failed_code, failedDetail: fault.failed_detail };
  }
}

/** The emulator job fault a job was started with (POST /_dws/faults with `job`), if any. */
function jobFaultOf(job: JobRow): JobFault | undefined {
  try {
    return (JSON.parse(job.payload_json) as { fault?: JobFault }).fault;
  } catch {
    return undefined;
  }
}

/** How often a job may be claimed before it is failed instead of retried (each restart or lease loss is one). */
const MAX_ATTEMPTS = 20;

/** A job this build cannot run: it fails with the internal error. */
function unusable(reason: string): ServiceError {
  return new ServiceError(Errors.INTERNAL, reason);
}

/** The `failed_code` prefix of a job whose kind is unknown, in the style of the kinds' own (`EncryptCluster-fail`). */
function unknownKindPrefix(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}-fail`;
}

/** The longest pause between two polls while the store keeps failing. */
const MAX_POLL_BACKOFF_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
