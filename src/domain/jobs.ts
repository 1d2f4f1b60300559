/** Job statuses of ListJobDetails and the transitions the runner makes between them. */
export type JobStatus = 'INIT' | 'WAITING' | 'RUNNING' | 'DELAY_SCHEDULED' | 'FAIL' | 'SUCCESS' | 'STOP';

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

const ALL_STATUSES = Object.keys(TRANSITIONS) as JobStatus[];

/** Statuses of a job that is not finished: it may still be claimed, run and finished. */
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ALL_STATUSES.filter(
  (s) => !FINAL_JOB_STATUSES.has(s),
);

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses a job may be in for a change to `to` to be allowed (the store's guard of every update). */
export function statusesLeadingTo(to: JobStatus): readonly JobStatus[] {
  return ALL_STATUSES.filter((from) => canTransition(from, to));
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_JOB_STATUSES.has(status);
}

/** Progress of a running job from elapsed time; never reports 100% before the job has finished. */
export function progressAt(elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0) return 99;
  return Math.max(0, Math.min(99, Math.floor((elapsedMs / durationMs) * 100)));
}
