/**
 * The conversion of a plain cluster into an encrypted one (POST .../encrypt starts it). On completion a
 * new data key is generated, wrapped under the master key and recorded as the cluster's; a key that
 * became unusable meanwhile fails the job and leaves the cluster plain.
 */
import { type Static, Type } from '@sinclair/typebox';
import { assertMasterKeyFits, CRYPT_ALGORITHMS } from '../domain/clusters.js';
import { ServiceError } from '../domain/errors.js';
import { masterKeyFacts, recordConversion } from '../services/clusters.js';
import { updateCluster } from '../store/clusters.js';
import { clusterJobKind, jobErrorCode, RequestedBy, requester } from './kind.js';

export const EncryptClusterPayload = Type.Object({
  masterKeyId: Type.String(),
  cryptAlgorithm: Type.Union(CRYPT_ALGORITHMS.map((algorithm) => Type.Literal(algorithm))),
  requestedBy: RequestedBy,
});
export type EncryptClusterPayload = Static<typeof EncryptClusterPayload>;

declare module '../store/schema.js' {
  interface JobPayloads {
    encryptCluster: EncryptClusterPayload;
  }
}

export const encryptClusterKind = clusterJobKind('encryptCluster', EncryptClusterPayload, {
  clusterTask: 'ENCRYPTING',
  restore: () => ({ encryption_state: 'plain' }),
  failurePrefix: 'EncryptCluster-fail',

  async complete(trx, job, payload, { clusters, keys, now: clock }) {
    const actor = requester(job, payload.requestedBy);
    const now = clock();
    const row = await clusters.lockCluster(trx, job.project_id, job.cluster_id);
    try {
      const key = await keys.masterKeyForCluster(trx, job.project_id, payload.masterKeyId);
      assertMasterKeyFits(masterKeyFacts(key), payload.cryptAlgorithm);
      await clusters.storeNewDataKey(trx, row, key, payload.cryptAlgorithm, now);
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      // The refusal is the job's outcome: the cluster goes back to plain in this same transaction.
      await updateCluster(trx, job.project_id, job.cluster_id, {
        encryption_state: 'plain',
        updated_at: now,
      });
      await recordConversion(trx, actor, job.cluster_id, 'failure', now, {
        job_id: job.id,
        error_code: jobErrorCode(error),
      });
      return error;
    }
    await recordConversion(trx, actor, job.cluster_id, 'success', now, { job_id: job.id });
    return undefined;
  },
});
