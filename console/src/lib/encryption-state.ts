/** Which of the three encryption states a cluster row shows, from what the console can read. */
import type { ClusterDetail, EncryptInfo, Job } from '../api/types.js';
import { isJobFinal, parseProgress } from './format.js';

export type EncryptionView =
  | { state: 'plain' }
  | { state: 'converting'; progress: number | null; jobId: string | null }
  | { state: 'encrypted' }
  | { state: 'unknown' };

const CONVERTING_TASK = /ENCRYPT/i;

/**
 * - converting: a conversion job this console follows is not final yet, or the cluster reports an
 *   encryption task (task_status / sub_status / action_progress mentioning ENCRYPT);
 * - encrypted: encrypt-info names a master key;
 * - plain: encrypt-info answered with nulls (the seed's "not encrypted" answer);
 * - unknown: encrypt-info could not be read.
 */
export function encryptionView(
  detail: Partial<ClusterDetail> | null | undefined,
  info: EncryptInfo | null | undefined,
  job: { jobId: string; detail: Partial<Job> | undefined; action: string } | undefined,
): EncryptionView {
  if (job && job.action === 'encrypt' && !isJobFinal(job.detail?.status)) {
    return { state: 'converting', progress: parseProgress(job.detail?.progress), jobId: job.jobId };
  }
  const task = detail
    ? [detail.task_status, detail.sub_status].find((t) => t && CONVERTING_TASK.test(t))
    : undefined;
  const actionKey = detail?.action_progress
    ? Object.keys(detail.action_progress).find((k) => CONVERTING_TASK.test(k))
    : undefined;
  if (task || actionKey) {
    const progress = actionKey ? parseProgress(detail?.action_progress?.[actionKey]) : null;
    return { state: 'converting', progress, jobId: null };
  }
  if (info === undefined || info === null) return { state: 'unknown' };
  if (info.master_key_id) return { state: 'encrypted' };
  return { state: 'plain' };
}
