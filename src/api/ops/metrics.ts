/**
 * Prometheus metrics of one instance, in a Registry of its own (never prom-client's global one), so that
 * a process — or a test — can build several apps side by side.
 *
 * | metric | labels | what |
 * | --- | --- | --- |
 * | `dws_http_requests_total` | method, route, status | requests answered (`route` is the route pattern, never the raw URL) |
 * | `dws_http_request_duration_seconds` | method, route, status | latency histogram of the same |
 * | `dws_jobs_finished_total` | job, outcome | jobs that reached SUCCESS or FAIL in this instance |
 * | `dws_job_duration_seconds` | job, outcome | from the job's begin to its end |
 * | `dws_kms_key_operations_total` | operation, outcome | KMS calls by permission name (`kms:cmk:create`, ...); outcome `ok` or `error` |
 * | `dws_store_errors_total` | source | store unreachable or unwritable (`request`: answered 503; `job`: job runner; `readiness`: /readyz) |
 * | `process_*`, `nodejs_*` | | prom-client's default process metrics |
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export type StoreErrorSource = 'request' | 'job' | 'readiness';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'dws_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'dws_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: 'dws_jobs_finished_total',
    help: 'Jobs finished by this instance, by job name and outcome (SUCCESS or FAIL).',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'dws_job_duration_seconds',
    help: 'Job duration in seconds (begin to end), by job name and outcome.',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  private readonly keyOperations = new Counter({
    name: 'dws_kms_key_operations_total',
    help: 'KMS operations, by permission name and outcome (ok or error).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly storeErrors = new Counter({
    name: 'dws_store_errors_total',
    help: 'Times the store could not be reached or written, by where it was noticed.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    // Known series start at zero, so dashboards and alerts see them before the first event.
    this.storeErrors.inc({ source: 'request' }, 0);
    this.storeErrors.inc({ source: 'job' }, 0);
    this.storeErrors.inc({ source: 'readiness' }, 0);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  observeKeyOperation(operation: string, ok: boolean): void {
    this.keyOperations.inc({ operation, outcome: ok ? 'ok' : 'error' });
  }

  observeJob(job: string, outcome: 'SUCCESS' | 'FAIL', durationMs: number): void {
    this.jobs.inc({ job, outcome });
    this.jobDuration.observe({ job, outcome }, Math.max(0, durationMs) / 1000);
  }

  storeError(source: StoreErrorSource): void {
    this.storeErrors.inc({ source });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
