/**
 * The jobs this browser tab started (or looked up), polled with ListJobDetails while they run. The
 * service has no "list jobs" operation, so the console remembers job ids itself (sessionStorage,
 * per project). Lives above the pages so progress keeps updating while the user moves around.
 */
import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type ApiClient, ApiError } from './api/client.js';
import { getJob } from './api/endpoints.js';
import type { Job } from './api/types.js';
import { isJobFinal } from './lib/format.js';

export interface TrackedJob {
  jobId: string;
  action: string;
  clusterId: string | null;
  clusterName: string | null;
  startedAt: number;
}

export interface JobsState {
  tracked: TrackedJob[];
  details: Readonly<Record<string, Job>>;
  errors: Readonly<Record<string, unknown>>;
  track(job: Omit<TrackedJob, 'startedAt'>): void;
  forget(jobId: string): void;
  refresh(jobId: string): Promise<void>;
  /** The newest job tracked for a cluster, if any. */
  jobForCluster(clusterId: string): TrackedJob | undefined;
}

const JobsContext = createContext<JobsState | null>(null);

export const POLL_MS = 1000;
const MAX_TRACKED = 50;

function storageKey(projectId: string): string {
  return `dws-console.jobs.${projectId}`;
}

function loadTracked(projectId: string): TrackedJob[] {
  try {
    const raw = sessionStorage.getItem(storageKey(projectId));
    const list = raw ? (JSON.parse(raw) as TrackedJob[]) : [];
    return Array.isArray(list) ? list.filter((job) => typeof job?.jobId === 'string') : [];
  } catch {
    return [];
  }
}

/** A job the service says does not exist (or is not ours) is not polled again. */
function isPermanent(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 403);
}

export function JobsProvider({ api, children }: { api: ApiClient; children: ComponentChildren }) {
  const [tracked, setTracked] = useState<TrackedJob[]>(() => loadTracked(api.projectId));
  const [details, setDetails] = useState<Record<string, Job>>({});
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const inFlight = useRef(new Set<string>());

  useEffect(() => {
    try {
      sessionStorage.setItem(storageKey(api.projectId), JSON.stringify(tracked));
    } catch {
      // storage full or disabled: tracking still works for this page view
    }
  }, [api.projectId, tracked]);

  const refresh = useCallback(
    async (jobId: string) => {
      if (inFlight.current.has(jobId)) return;
      inFlight.current.add(jobId);
      try {
        const job = await getJob(api, jobId);
        setDetails((current) => ({ ...current, [jobId]: job }));
        setErrors((current) => {
          if (!(jobId in current)) return current;
          const { [jobId]: _, ...rest } = current;
          return rest;
        });
      } catch (error) {
        setErrors((current) => ({ ...current, [jobId]: error }));
      } finally {
        inFlight.current.delete(jobId);
      }
    },
    [api],
  );

  const active = tracked
    .filter((job) => !isJobFinal(details[job.jobId]?.status) && !isPermanent(errors[job.jobId]))
    .map((job) => job.jobId);
  const activeKey = active.join(',');

  useEffect(() => {
    if (!activeKey) return;
    const ids = activeKey.split(',');
    for (const id of ids) void refresh(id);
    const timer = setInterval(() => {
      for (const id of ids) void refresh(id);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [activeKey, refresh]);

  const track = useCallback((job: Omit<TrackedJob, 'startedAt'>) => {
    setTracked((current) =>
      [{ ...job, startedAt: Date.now() }, ...current.filter((j) => j.jobId !== job.jobId)].slice(
        0,
        MAX_TRACKED,
      ),
    );
  }, []);

  const forget = useCallback((jobId: string) => {
    setTracked((current) => current.filter((j) => j.jobId !== jobId));
  }, []);

  const value = useMemo<JobsState>(
    () => ({
      tracked,
      details,
      errors,
      track,
      forget,
      refresh,
      jobForCluster: (clusterId) => tracked.find((job) => job.clusterId === clusterId),
    }),
    [tracked, details, errors, track, forget, refresh],
  );
  return <JobsContext.Provider value={value}>{children}</JobsContext.Provider>;
}

export function useJobs(): JobsState {
  const value = useContext(JobsContext);
  if (!value) throw new Error('useJobs outside JobsProvider');
  return value;
}
