/**
 * A cluster's deletion (DELETE /v2/{project_id}/clusters/{cluster_id}): the cluster shows DELETING
 * until the job removes it with its data keys. Given up, the cluster gets back the status it had.
 */
import { type Static, Type } from '@sinclair/typebox';
import { auditDeletion } from '../services/clusters.js';
import { clusterJobKind, RequestedBy, requester } from './kind.js';

export const DeleteClusterPayload = Type.Object({
  previousStatus: Type.Union([
    Type.Literal('CREATING'),
    Type.Literal('AVAILABLE'),
    Type.Literal('UNAVAILABLE'),
  ]),
  requestedBy: RequestedBy,
});

declare module '../store/schema.js' {
  interface JobPayloads {
    deleteCluster: Static<typeof DeleteClusterPayload>;
  }
}

export const deleteClusterKind = clusterJobKind('deleteCluster', DeleteClusterPayload, {
  clusterTask: 'DELETING',
  restore: (payload) => ({ status: payload.previousStatus }),
  failurePrefix: 'DeleteCluster-fail',

  async complete(trx, job, payload, { clusters, now: clock }) {
    const now = clock();
    // Removing what is already gone (a v1 deletion meanwhile) is still a success.
    await clusters.removeCluster(trx, job.project_id, job.cluster_id);
    await auditDeletion(trx, requester(job, payload.requestedBy), job.cluster_id, 'success', now, {
      job_id: job.id,
    });
    return undefined;
  },
});
