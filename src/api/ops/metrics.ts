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
 * | `dws_log_lines_dropped_total` | | log lines dropped because standard output did not take them in time (a stalled or gone log collector) |
 * | `dws_throttled_requests_total` | account | requests refused by the per-caller rate limit (429 `APIGW.0308`), by account (domain id) |
 * | `dws_quota_refusals_total` | account, quota | creations refused by a project quota (`keys`, `nodes`, `active_jobs`), by account |
 * | `dws_store_errors_total` | source | store unreachable or unwritable (`request`: answered 503; `job`: job runner; `readiness`: /readyz) |
 * | `process_*`, `nodejs_*` | | prom-client's default process metrics |
 */
import { Counter, collectDefaultMetrics, Histogram, type Metric, Registry } from 'prom-client';

export type StoreErrorSource = 'request' | 'job' | 'readiness';

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
type RequestLabels = Readonly<{ method: string; route: string; status: string }>;

/** The answers of one method, route pattern and status: plain numbers, no label set to hash. */
class RequestSeries {
  count = 0;
  sum = 0;
  /** Answers per bucket of REQUEST_BUCKETS (not cumulative); past the last bound only `count` grows. */
  readonly buckets = new Float64Array(REQUEST_BUCKETS.length);
  constructor(readonly labels: RequestLabels) {}
}

/**
 * The request metrics of one route (method and pattern), bound once when the route is added: an
 * answer finds its series by status in a small map, where prom-client's `inc(labels)` and
 * `observe(labels, v)` would hash the label set twice per request.
 */
export class RouteRequests {
  readonly #byStatus = new Map<number, RequestSeries>();

  constructor(
    private readonly all: RequestMetrics,
    readonly method: string,
    readonly route: string,
  ) {}

  observe(status: number, seconds: number): void {
    let series = this.#byStatus.get(status);
    if (series === undefined) {
      series = this.all.series(this.method, this.route, status);
      this.#byStatus.set(status, series);
    }
    series.count++;
    series.sum += seconds;
    for (let i = 0; i < REQUEST_BUCKETS.length; i++) {
      if (seconds <= REQUEST_BUCKETS[i]!) {
        series.buckets[i]!++;
        break;
      }
    }
  }
}

/**
 * `dws_http_requests_total` and `dws_http_request_duration_seconds`, kept as RequestSeries and shown to
 * the registry as a counter and a histogram in prom-client's own form (same exposition text).
 */
class RequestMetrics {
  readonly #series = new Map<string, RequestSeries>();

  series(method: string, route: string, status: number): RequestSeries {
    const key = `${method} ${route} ${status}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new RequestSeries({ method, route, status: String(status) });
      this.#series.set(key, series);
    }
    return series;
  }

  reset(): void {
    for (const series of this.#series.values()) {
      series.count = 0;
      series.sum = 0;
      series.buckets.fill(0);
    }
  }

  counter(name: string, help: string): Metric {
    const metric = {
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name,
        help,
        type: 'counter',
        aggregator: 'sum',
        values: [...this.#series.values()].map((s) => ({ labels: { ...s.labels }, value: s.count })),
      }),
      reset: () => this.reset(),
    };
    return metric as unknown as Metric;
  }

  histogram(name: string, help: string): Metric {
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => {
        const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
        for (const s of this.#series.values()) {
          let cumulative = 0;
          for (const [i, le] of REQUEST_BUCKETS.entries()) {
            cumulative += s.buckets[i]!;
            values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${name}_bucket` });
          }
          values.push(
            { labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${name}_bucket` },
            { labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` },
            { labels: { ...s.labels }, value: s.count, metricName: `${name}_count` },
          );
        }
        return { name, help, type: 'histogram', aggregator: 'sum', values };
      },
      reset: () => this.reset(),
    };
    return metric as unknown as Metric;
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics();
  readonly #routes = new Map<string, RouteRequests>();
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
  private readonly throttled = new Counter({
    name: 'dws_throttled_requests_total',
    help: 'Requests refused by the per-caller rate limit (429 APIGW.0308), by account (domain id).',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  private readonly quotaRefusals = new Counter({
    name: 'dws_quota_refusals_total',
    help: 'Creations refused by a project quota, by account (domain id) and quota (keys, nodes, active_jobs).',
    labelNames: ['account', 'quota'] as const,
    registers: [this.registry],
  });
  private readonly storeErrors = new Counter({
    name: 'dws_store_errors_total',
    help: 'Times the store could not be reached or written, by where it was noticed.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean; logLinesDropped?: () => number } = {}) {
    this.registry.registerMetric(
      this.requests.counter(
        'dws_http_requests_total',
        'HTTP requests answered, by method, route pattern and status code.',
      ),
    );
    this.registry.registerMetric(
      this.requests.histogram(
        'dws_http_request_duration_seconds',
        'HTTP request latency in seconds, by method, route pattern and status code.',
      ),
    );
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const dropped = options.logLinesDropped ?? (() => 0);
    new Counter({
      name: 'dws_log_lines_dropped_total',
      help: 'Log lines dropped because standard output did not take them in time (a stalled or gone reader).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(dropped());
      },
    });
    // Known series start at zero, so dashboards and alerts see them before the first event.
    this.storeErrors.inc({ source: 'request' }, 0);
    this.storeErrors.inc({ source: 'job' }, 0);
    this.storeErrors.inc({ source: 'readiness' }, 0);
  }

  /** The request metrics of one route, bound once (at start-up, for each route as it is added). */
  route(method: string, route: string): RouteRequests {
    const key = `${method} ${route}`;
    let bound = this.#routes.get(key);
    if (bound === undefined) {
      bound = new RouteRequests(this.requests, method, route);
      this.#routes.set(key, bound);
    }
    return bound;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.route(method, route).observe(status, seconds);
  }

  observeKeyOperation(operation: string, ok: boolean): void {
    this.keyOperations.inc({ operation, outcome: ok ? 'ok' : 'error' });
  }

  observeJob(job: string, outcome: 'SUCCESS' | 'FAIL', durationMs: number): void {
    this.jobs.inc({ job, outcome });
    this.jobDuration.observe({ job, outcome }, Math.max(0, durationMs) / 1000);
  }

  /** Accounts are the declared ones (bounded by the identities file), so the label set stays small. */
  observeThrottled(account: string): void {
    this.throttled.inc({ account });
  }

  observeQuotaRefusal(account: string, quota: 'keys' | 'nodes' | 'active_jobs'): void {
    this.quotaRefusals.inc({ account, quota });
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
