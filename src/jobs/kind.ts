/**
 * What a job kind is. The runner owns leases, progress and the finishing transaction; a kind owns the
 * work inside that transaction. The kinds themselves are listed in kinds.ts.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { renderCode, type ServiceError } from '../domain/errors.js';
import { type Actor, systemActor } from '../services/actor.js';
import { recordAudit } from '../services/audit.js';
import type { ClusterService } from '../services/clusters.js';
import type { KeyService } from '../services/kms.js';
import { updateCluster } from '../store/clusters.js';
import type { Db } from '../store/database.js';
import type { ClusterUpdate, JobName, JobPayloads, JobRow } from '../store/schema.js';

/** What a kind may use besides the transaction. */
export interface JobDeps {
  clusters: ClusterService;
  keys: KeyService;
  now: () => number;
}

export interface JobKind<N extends JobName = JobName> {
  readonly name: N;
  /** The stored payload's schema; a payload that does not match fails the job instead of running it. */
  readonly payload: TSchema & { static: JobPayloads[N] };
  /** Prefix of `failed_code` (`EncryptCluster-fail`): the service's style. */
  readonly failurePrefix: string;
  /** The cluster's `task_status` and `action_progress` key while the job runs (`ENCRYPTING`). */
  readonly clusterTask: string;
  /**
   * Does the job's work in the runner's transaction. Returns the refusal that fails the job (after
   * recording whatever the failure changes, in the same transaction), or undefined when it succeeded.
   */
  complete(trx: Db, job: JobRow, payload: JobPayloads[N], deps: JobDeps): Promise<ServiceError | undefined>;
  /** Undoes what starting the job changed, when the job is given up (it kept failing). */
  abandon(trx: Db, job: JobRow, payload: JobPayloads[N], deps: JobDeps): Promise<void>;
}

/** A failed job's record: `failed_code` `<prefix>:<code>`, `failed_detail` `<code>:<message>`. */
export interface JobFailure {
  failedCode: string;
  failedDetail: string;
}

/** A job refusal's code: jobs belong to the DWS surface. */
export function jobErrorCode(error: ServiceError): string {
  return renderCode(error.def, 'DWS');
}

export function jobFailure(prefix: string, error: ServiceError): JobFailure {
  const code = jobErrorCode(error);
  return { failedCode: `${prefix}:${code}`, failedDetail: `${code}:${error.message}` };
}

/** The payload field naming the user who started a job (the actor without its project, the job's). */
export const RequestedBy = Type.Object({
  domainId: Type.String(),
  userName: Type.String(),
  accessKey: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
});

/** The user who started a job, from the `requestedBy` its payload recorded: its completion is audited in their name. */
export function requester(job: JobRow, requestedBy: Omit<Actor, 'projectId'>): Actor {
  return { ...requestedBy, projectId: job.project_id };
}

/**
 * A kind that works on one cluster and, given up, gives the cluster back `restore(payload)` (the status
 * or encryption state it had before the job), audited as a failed job; the runner then fails the job.
 */
export function clusterJobKind<N extends JobName>(
  name: N,
  payload: JobKind<N>['payload'],
  kind: Pick<JobKind<N>, 'clusterTask' | 'failurePrefix' | 'complete'> & {
    restore: (payload: JobPayloads[N]) => ClusterUpdate;
  },
): JobKind<N> {
  const { clusterTask, failurePrefix, complete, restore } = kind;
  return {
    name,
    payload,
    clusterTask,
    failurePrefix,
    complete,
    async abandon(trx, job, jobPayload, { now: clock }) {
      const changes = restore(jobPayload);
      const now = clock();
      await updateCluster(trx, job.project_id, job.cluster_id, { ...changes, updated_at: now });
      await recordAudit(
        trx,
        systemActor(job.project_id),
        { action: job.name, resourceType: 'job', resourceId: job.id, result: 'failure', detail: changes },
        now,
      );
    },
  };
}
