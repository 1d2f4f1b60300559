/** A cluster's creation (POST /v2/{project_id}/clusters with a configured creation time): it becomes AVAILABLE. */
import { type Static, Type } from '@sinclair/typebox';
import { systemActor } from '../services/actor.js';
import { recordAudit } from '../services/audit.js';
import { updateCluster } from '../store/clusters.js';
import { clusterJobKind } from './kind.js';

export const CreateClusterPayload = Type.Object({});

declare module '../store/schema.js' {
  interface JobPayloads {
    createCluster: Static<typeof CreateClusterPayload>;
  }
}

export const createClusterKind = clusterJobKind('createCluster', CreateClusterPayload, {
  clusterTask: 'CREATING',
  restore: () => ({ status: 'UNAVAILABLE' }),
  failurePrefix: 'CreateCluster-fail',

  async complete(trx, job, _payload, { now: clock }) {
    const now = clock();
    await updateCluster(trx, job.project_id, job.cluster_id, { status: 'AVAILABLE', updated_at: now });
    await recordAudit(
      trx,
      systemActor(job.project_id),
      {
        action: 'dws:openAPICluster:create',
        resourceType: 'cluster',
        resourceId: job.cluster_id,
        result: 'success',
        detail: { status: 'AVAILABLE', job_id: job.id },
      },
      now,
    );
    return undefined;
  },
});
