import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.js';
import type { Job } from '../api/types.js';
import { Badge, statusTone } from '../components/Badge.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { type TrackedJob, useJobs } from '../jobs.js';
import { formatWireTime, isJobFinal, parseProgress } from '../lib/format.js';
import { hrefFor, linkClick, navigate } from '../router.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ACTION_LABELS: Record<string, string> = {
  encrypt: 'Encrypt cluster',
  lookup: 'Looked up',
};

function JobProgress({ job }: { job: Job | undefined }) {
  const value = job?.status === 'SUCCESS' ? 100 : parseProgress(job?.progress);
  return <ProgressBar value={job ? value : null} label="Job progress" />;
}

export function JobsPage({ api, jobId }: { api: ApiClient; jobId?: string }) {
  const jobs = useJobs();
  const [lookup, setLookup] = useState('');
  const [lookupProblem, setLookupProblem] = useState<string | null>(null);

  function submit(event: Event) {
    event.preventDefault();
    const id = lookup.trim().toLowerCase();
    if (!UUID_PATTERN.test(id)) {
      setLookupProblem('A job id is a UUID, such as 0f3c7d2e-4b1a-4c8e-9d6f-2a5b7c9e1f03.');
      return;
    }
    setLookupProblem(null);
    setLookup('');
    navigate(hrefFor({ page: 'jobs', jobId: id }));
  }

  return (
    <main class="page" id="main">
      <div class="page-head">
        <div>
          <h1>Jobs</h1>
          <p class="muted">
            Asynchronous operations started from this browser tab, and any job looked up by id.
          </p>
        </div>
        <form class="inline-form" onSubmit={submit} aria-label="Look up a job">
          <label for="job-lookup">Job id</label>
          <input
            id="job-lookup"
            class="mono"
            value={lookup}
            onInput={(event) => setLookup((event.currentTarget as HTMLInputElement).value)}
            spellcheck={false}
            aria-invalid={lookupProblem ? 'true' : undefined}
            aria-describedby={lookupProblem ? 'job-lookup-problem' : undefined}
          />
          <button type="submit" class="button">
            Look up
          </button>
        </form>
      </div>
      {lookupProblem ? (
        <p class="field-error" id="job-lookup-problem" role="alert">
          {lookupProblem}
        </p>
      ) : null}
      {jobId ? <JobDetail api={api} jobId={jobId} /> : null}
      <h2 class="section-title">Followed jobs</h2>
      {jobs.tracked.length === 0 ? (
        <p class="empty">No jobs yet. Start an encryption on the Clusters page, or look a job up by id.</p>
      ) : (
        <div class="table-wrap">
          <table class="table jobs-table">
            <caption class="visually-hidden">Followed jobs</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Cluster</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Begin</th>
                <th scope="col">End</th>
                <th scope="col">Failure</th>
              </tr>
            </thead>
            <tbody>
              {jobs.tracked.map((tracked) => (
                <JobRow
                  key={tracked.jobId}
                  tracked={tracked}
                  job={jobs.details[tracked.jobId]}
                  error={jobs.errors[tracked.jobId]}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

function JobRow({ tracked, job, error }: { tracked: TrackedJob; job: Job | undefined; error: unknown }) {
  return (
    <tr>
      <th scope="row" data-label="Job">
        <a href={hrefFor({ page: 'jobs', jobId: tracked.jobId })} onClick={linkClick} class="cell-main">
          {job?.job_name ?? ACTION_LABELS[tracked.action] ?? tracked.action}
        </a>
        <span class="cell-sub mono">{tracked.jobId}</span>
      </th>
      <td data-label="Cluster">{tracked.clusterName ?? '—'}</td>
      <td data-label="Status">{job ? <Badge tone={statusTone(job.status)}>{job.status}</Badge> : '…'}</td>
      <td data-label="Progress">
        <JobProgress job={job} />
      </td>
      <td data-label="Begin" class="nowrap">
        {formatWireTime(job?.begin_time)}
      </td>
      <td data-label="End" class="nowrap">
        {formatWireTime(job?.end_time)}
      </td>
      <td data-label="Failure">
        {job?.failed_code || job?.failed_detail ? (
          <span class="failure">
            {job.failed_code ? <code>{job.failed_code}</code> : null} {job.failed_detail}
          </span>
        ) : (
          '—'
        )}
        {error ? <ErrorNote error={error} /> : null}
      </td>
    </tr>
  );
}

function JobDetail({ api, jobId }: { api: ApiClient; jobId: string }) {
  const jobs = useJobs();
  const known = jobs.tracked.find((job) => job.jobId === jobId);
  // A job opened by id (link or look-up) is followed like the others, so it polls while it runs.
  useEffect(() => {
    if (!known) jobs.track({ jobId, action: 'lookup', clusterId: null, clusterName: null });
    else void jobs.refresh(jobId);
  }, [jobId, api]);
  const job = jobs.details[jobId];
  const error = jobs.errors[jobId];
  const running = job ? !isJobFinal(job.status) : true;
  return (
    <section class="card job-card" aria-labelledby="job-detail-title">
      <div class="card-head">
        <h2 id="job-detail-title">{job?.job_name ?? known?.action ?? 'Job'}</h2>
        {job ? <Badge tone={statusTone(job.status)}>{job.status}</Badge> : null}
      </div>
      <dl class="facts">
        <dt>Job id</dt>
        <dd class="mono">{jobId}</dd>
        {known?.clusterName ? (
          <>
            <dt>Cluster</dt>
            <dd>{known.clusterName}</dd>
          </>
        ) : null}
        <dt>Progress</dt>
        <dd>
          <JobProgress job={job} />
          {running && job ? <span class="help"> updates every second</span> : null}
        </dd>
        <dt>Begin time</dt>
        <dd>{formatWireTime(job?.begin_time)}</dd>
        <dt>End time</dt>
        <dd>{formatWireTime(job?.end_time)}</dd>
        <dt>Failed code</dt>
        <dd>{job?.failed_code ? <code>{job.failed_code}</code> : '—'}</dd>
        <dt>Failed detail</dt>
        <dd>{job?.failed_detail || '—'}</dd>
      </dl>
      <ErrorNote error={error} context="Could not read the job" />
      <p>
        <a href={hrefFor({ page: 'jobs' })} onClick={linkClick}>
          All followed jobs
        </a>
      </p>
    </section>
  );
}
