/** Job statuses of ListJobDetails and the transitions our runner makes between them. */
export type JobStatus = 'INIT' | 'WAITING' | 'RUNNING' | 'DELAY_SCHEDULED' | 'FAIL' | 'SUCCESS' | 'STOP';
export type JobName = 'encryptCluster' | 'createCluster';

export const FINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['FAIL', 'SUCCESS', 'STOP']);

const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  INIT: ['RUNNING', 'FAIL', 'STOP'],
  WAITING: ['RUNNING', 'FAIL', 'STOP'],
  DELAY_SCHEDULED: ['RUNNING', 'FAIL', 'STOP'],
  // RUNNING -> RUNNING is a progress update or a take-over by another worker after its lease expired.
  RUNNING: ['RUNNING', 'SUCCESS', 'FAIL', 'STOP'],
  FAIL: [],
  SUCCESS: [],
  STOP: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_JOB_STATUSES.has(status);
}

/** Progress of a running job from elapsed time; never reports 100% before the job has finished. */
export function progressAt(elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0) return 99;
  return Math.max(0, Math.min(99, Math.floor((elapsedMs / durationMs) * 100)));
}
