/**
 * `npm run bench`: the hot read `GET /v1/{project_id}/clusters/{cluster_id}/encrypt-info` of the
 * service against node's bare `http` server answering the same JSON body (the ceiling), both in their
 * own child processes, driven by the same load generator (wrk, else autocannon) with pre-signed
 * requests, alternating ceiling and service (A B A B) so that machine noise hits both. Also: the same
 * read with 1,000,000 clusters in the store, the time from `npm start` to the first answer, and the
 * throughput of conversions and key rotations. Writes bench/results/<time>.json and the figures in
 * docs/benchmarks.md. Options (environment): see docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../test/helpers/eventually.js';
import { clusterBody } from '../test/helpers/server.js';
import { type LoadGenerator, type LoadResult, pickLoadGenerator, runLoad } from './lib/load.js';
import { officialSign, presignEncryptInfo, type SignedRequest, send } from './lib/presign.js';
import { type Child, cpuSeconds, peakRssMiB, ROOT, spawnCeiling, spawnService } from './lib/processes.js';
import { ABLATE_PG_POOL, writeReport } from './lib/report.js';
import { type BenchStore, openBenchStore } from './lib/store.js';

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

const SECONDS = num('BENCH_SECONDS', 10);
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 3);
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const ROUNDS = Math.max(1, num('BENCH_ROUNDS', 2));
const CLUSTERS = num('BENCH_CLUSTERS', 1000);
const LARGE = num('BENCH_LARGE_CLUSTERS', 1_000_000);
/** Distinct clusters the load hits, and signing times per cluster: HOT × TIMES distinct requests. */
const HOT = num('BENCH_HOT_CLUSTERS', 64);
const TIMES = num('BENCH_SIGN_TIMES', 64);
/** Distinct clusters read in the large store (one signing time each). */
const LARGE_HOT = num('BENCH_LARGE_HOT_CLUSTERS', 20_000);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const ALL_STEPS = 'read,ablate,log,startup,ops,large';
const STEPS = new Set((process.env.BENCH_STEPS ?? ALL_STEPS).split(',').map((s) => s.trim()));
/** Length of each round of the ablation step (8 servers per round: keep it short). */
const ABLATE_SECONDS = num('BENCH_ABLATE_SECONDS', 4);
const ABLATE_ROUNDS = Math.max(1, num('BENCH_ABLATE_ROUNDS', 3));
/**
 * The ablation step's variants: everything on, then each piece of per-request work off in turn
 * (DWS_BENCH_ABLATE, a switch the service refuses with NODE_ENV=production).
 */
const ABLATIONS: { off: string; what: string }[] = [
  { off: '', what: 'everything on (the service as shipped)' },
  { off: 'signature', what: 'signature check (HMAC, SHA-256, canonical request): access key trusted' },
  { off: 'metrics', what: 'metrics hooks (Prometheus counter and histogram)' },
  { off: 'request-log', what: 'request log line' },
  { off: 'request-id', what: 'request-id generation (a constant id)' },
  { off: 'serialize', what: "response serialization (the first answer's JSON reused)" },
  { off: 'store', what: 'store read (the first row read, answered again)' },
  {
    off: 'client-signal',
    what: "the store's client-disconnect watch (a 'close' listener and AsyncLocalStorage per request)",
  },
];

/**
 * Only a full run (every step, the default lengths and sizes) rewrites docs/benchmarks.md; a short or
 * partial run would replace the page's figures with unrepresentative ones. BENCH_REPORT=1 forces the
 * rewrite, BENCH_REPORT=0 prevents it.
 */
function shouldWriteReport(): boolean {
  if (process.env.BENCH_REPORT === '1') return true;
  if (process.env.BENCH_REPORT === '0') return false;
  const shaping = [
    'BENCH_STEPS',
    'BENCH_SECONDS',
    'BENCH_WARMUP_SECONDS',
    'BENCH_ROUNDS',
    'BENCH_CONNECTIONS',
    'BENCH_CLUSTERS',
    'BENCH_LARGE_CLUSTERS',
    'BENCH_LARGE_HOT_CLUSTERS',
    'BENCH_HOT_CLUSTERS',
    'BENCH_SIGN_TIMES',
    'BENCH_ABLATE_SECONDS',
    'BENCH_ABLATE_ROUNDS',
    'BENCH_PROFILE',
    'BENCH_BASELINE_DIST',
  ];
  return shaping.every((name) => (process.env[name] ?? '') === '');
}
const PROFILE = process.env.BENCH_PROFILE === '1';

const AK = 'BENCHAKEXAMPLE000001';
const SK = 'bench-secret-key-for-dws-encryption-001';
const CREDENTIALS = { ak: AK, sk: SK };

export interface ReadScenario {
  name: string;
  store: string;
  clusters: number;
  logLevel: string;
  ceiling: LoadResult[];
  service: LoadResult[];
  ceilingRps: number;
  serviceRps: number;
  ratio: number;
  ratios: number[];
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  peakRssMiB: number;
  /** Set on the large-store figure: the name of the small-store figure measured in the same rounds. */
  comparedWith?: string;
  /** Set on the ablation step's figures: the switch turned off ('' for everything on) and what it does. */
  ablation?: Ablation;
  /** CPU µs per request (user + system; median of the rounds) of the ceiling and the service process, and their ratio. */
  ceilingCpuMicros: number;
  serviceCpuMicros: number;
  cpuRatio: number;
}

export interface Results {
  startedAt: string;
  machine: { nproc: number; cpuModel: string; node: string; platform: string; loadAverage: string };
  options: Record<string, unknown>;
  loadGenerator: LoadGenerator;
  reads: ReadScenario[];
  startup: { store: string; state: string; runsMs: number[]; medianMs: number }[];
  operations: { store: string; name: string; count: number; seconds: number; perSecond: number }[];
  notes: string[];
}

const log = (message: string) => process.stdout.write(`[bench] ${message}\n`);
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function pool<T>(concurrency: number, items: readonly T[], fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}

function machine(): Results['machine'] {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name:'));
    if (line) cpuModel = line.slice('Model name:'.length).trim();
  } catch {
    // lscpu missing: keep os.cpus()
  }
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || cpus().length,
    cpuModel,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

/** A service instance driven through the API. */
class Service {
  child!: Child;
  constructor(
    readonly env: Record<string, string>,
    readonly logFile: string,
    readonly projectId: string,
  ) {}

  get port(): number {
    return this.child.port;
  }
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  get baseUrl(): string {
    return `http://${this.host}`;
  }

  async start(extra: Record<string, string> = {}, profile = false): Promise<void> {
    const env = { ...this.env, ...extra };
    const nodeArgs = profile
      ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'results', 'profiles')}`]
      : [];
    this.child = await spawnService(env, this.logFile, nodeArgs);
    let gone = false;
    const exited = new Promise<never>((_, reject) =>
      this.child.process.once('exit', (code) => {
        gone = true;
        reject(new Error(`service exited with ${code}; see ${this.logFile}`));
      }),
    );
    exited.catch(() => {});
    // Polling stops once the process has exited (it would otherwise go on loading the machine).
    const up = eventually('the service', async () => gone || (await this.health()) < 500, 60_000, 5);
    await Promise.race([up, exited]);
  }

  /** Status of a signed read of a cluster that does not exist (404 once the service answers). */
  async health(): Promise<number> {
    const res = await this.call('GET', `/v1/${this.projectId}/clusters/${randomUUID()}/encrypt-info`);
    return res.status;
  }

  call(method: string, path: string, body?: unknown) {
    return send(this.baseUrl, officialSign(this.host, method, path, CREDENTIALS, { body }));
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }
}

async function createClusters(
  service: Service,
  count: number,
  prefix: string,
  keyId: string | undefined,
): Promise<string[]> {
  const ids: string[] = new Array(count);
  await pool(
    16,
    Array.from({ length: count }, (_, i) => i),
    async (i) => {
      const extra = keyId ? { master_key_id: keyId, crypt_algorithm: 'generalCipher' } : {};
      const body = await service.ok(
        'POST',
        `/v2/${service.projectId}/clusters`,
        clusterBody(`${prefix}-${i}`, extra),
      );
      ids[i] = body.cluster.id;
    },
  );
  return ids;
}

interface ReadTarget {
  name: string;
  store: string;
  clusters: number;
  logLevel: string;
  service: Service;
  /** Pre-signed requests valid on this service (the ceiling answers any). */
  requests: SignedRequest[];
  /** Pairs this figure with another one measured in the same rounds (the large-store comparison). */
  comparedWith?: string;
  ablation?: Ablation;
}

/** One variant of the ablation step; `build` is 'baseline' for BENCH_BASELINE_DIST's build. */
export interface Ablation {
  off: string;
  what: string;
  build?: string;
}

/**
 * Warm everything, then rounds of ceiling, service[, another service] (A B A B ...), so that noise on
 * the machine hits all of them alike. The ceiling gets the first target's requests.
 */
async function measureRead(
  ceiling: Child,
  targets: ReadTarget[],
  generator: LoadGenerator,
  workDir: string,
  seconds = SECONDS,
  rounds = ROUNDS,
): Promise<ReadScenario[]> {
  // Every request is valid: check a few against each service before loading it.
  for (const t of targets) {
    for (const request of t.requests.slice(0, 3)) {
      const res = await send(t.service.baseUrl, request);
      if (res.status !== 200 || !res.body?.cluster_id)
        throw new Error(`pre-signed request refused: ${res.text}`);
    }
  }
  // CPU time per request of each server process: far less sensitive to other load on the machine
  // than requests/s, so it tells whether a change made the hot path cheaper.
  const load = async (child: Child, requests: SignedRequest[], duration: number) => {
    const before = cpuSeconds(child.process.pid);
    const result = await runLoad({
      port: child.port,
      connections: CONNECTIONS,
      seconds: duration,
      requests,
      generator,
      workDir,
    });
    result.cpuMicrosPerRequest = ((cpuSeconds(child.process.pid) - before) * 1e6) / result.requests;
    return result;
  };
  const first = targets[0]!;
  if (WARMUP_SECONDS > 0) {
    await load(ceiling, first.requests, WARMUP_SECONDS);
    for (const t of targets) await load(t.service.child, t.requests, WARMUP_SECONDS);
  }
  const a: LoadResult[] = [];
  const b: LoadResult[][] = targets.map(() => []);
  // Each round starts the services at another place in the list, so that a drift of the machine's load
  // within a round does not always favour the same ones.
  const stride = Math.max(1, Math.ceil(targets.length / rounds));
  for (let round = 0; round < rounds; round++) {
    a.push(await load(ceiling, first.requests, seconds));
    for (let k = 0; k < targets.length; k++) {
      const i = (k + round * stride) % targets.length;
      const t = targets[i]!;
      const r = await load(t.service.child, t.requests, seconds);
      b[i]!.push(r);
      log(
        `${t.name} round ${round + 1}: ceiling ${a[round]!.requestsPerSecond.toFixed(0)} req/s, service ${r.requestsPerSecond.toFixed(0)} req/s (p99 ${r.p99Ms.toFixed(2)} ms, non-2xx ${r.non2xx}); CPU µs/request ${a[round]!.cpuMicrosPerRequest?.toFixed(1)} vs ${r.cpuMicrosPerRequest?.toFixed(1)}`,
      );
    }
  }
  const ceilingRps = mean(a.map((r) => r.requestsPerSecond));
  return targets.map((t, i) => {
    const results = b[i]!;
    const serviceRps = mean(results.map((r) => r.requestsPerSecond));
    const scenario: ReadScenario = {
      name: t.name,
      store: t.store,
      clusters: t.clusters,
      logLevel: t.logLevel,
      ...(t.comparedWith ? { comparedWith: t.comparedWith } : {}),
      ...(t.ablation ? { ablation: t.ablation } : {}),
      ceiling: a,
      service: results,
      ceilingRps,
      serviceRps,
      ratio: serviceRps / ceilingRps,
      ratios: results.map((r, k) => r.requestsPerSecond / a[k]!.requestsPerSecond),
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      non2xx: results.reduce((n, r) => n + r.non2xx, 0),
      errors: results.reduce((n, r) => n + r.errors, 0),
      peakRssMiB: peakRssMiB(t.service.child.process.pid),
      // The median of the rounds: one round disturbed by other work on the machine does not move it.
      ceilingCpuMicros: median(a.map((r) => r.cpuMicrosPerRequest ?? Number.NaN)),
      serviceCpuMicros: median(results.map((r) => r.cpuMicrosPerRequest ?? Number.NaN)),
      cpuRatio: 0,
    };
    scenario.cpuRatio = scenario.ceilingCpuMicros / scenario.serviceCpuMicros;
    log(
      `${t.name}: ratio ${scenario.ratio.toFixed(3)} (${scenario.ratios.map((r) => r.toFixed(3)).join(', ')}), p99 ${scenario.p99Ms.toFixed(2)} ms, peak RSS ${scenario.peakRssMiB.toFixed(0)} MiB, CPU µs/request ${scenario.ceilingCpuMicros.toFixed(1)} vs ${scenario.serviceCpuMicros.toFixed(1)} (ratio ${scenario.cpuRatio.toFixed(3)})`,
    );
    return scenario;
  });
}

/**
 * The ablation step: one instance per variant of ABLATIONS (SQLite: each on its own copy of the store),
 * all measured in the same rounds with the ceiling, so that the difference between a variant and
 * "everything on" is what the switched-off work costs.
 */
async function measureAblations(
  bench: BenchStore,
  service: Service,
  env: Record<string, string>,
  dataDir: string,
  storeName: string,
  ceiling: Child,
  sign: (host: string) => SignedRequest[],
  generator: LoadGenerator,
  workDir: string,
): Promise<ReadScenario[]> {
  await service.stop();
  // With BENCH_BASELINE_DIST every variant also runs on the other build, in the same rounds: the
  // table before and after a change, measured under the same load.
  const baselineDist = process.env.BENCH_BASELINE_DIST;
  const variants: { ablation: Ablation; service: Service }[] = [];
  try {
    // The baseline build only on SQLite: on PostgreSQL twice the instances would hold more connections
    // than the server allows (100 by default), and there each instance keeps a smaller pool too.
    const builds = baselineDist && storeName === 'sqlite' ? ['', 'baseline'] : [''];
    for (const build of builds) {
      for (const ablation of ABLATIONS) {
        const dir = mkdtempSync(join(workDir, `ablate-${variants.length}-`));
        if (storeName === 'sqlite') copyStoreFiles(bench, dataDir, dir);
        const variant = new Service(
          {
            ...env,
            DATA_DIR: dir,
            DWS_BENCH_ABLATE: ablation.off,
            ...(storeName === 'postgresql' ? { DATABASE_POOL_SIZE: String(ABLATE_PG_POOL) } : {}),
            ...(build && baselineDist ? { BENCH_DIST: baselineDist } : {}),
          },
          join(workDir, `ablate-${variants.length}.log`),
          service.projectId,
        );
        if (build) {
          // An older build may not know every switch (it refuses an unknown one at start-up): that
          // variant is left out of its table rather than failing the run.
          try {
            await variant.start();
          } catch (error) {
            await variant.stop().catch(() => {});
            log(`${build} build: '${ablation.off}' left out (${(error as Error).message})`);
            continue;
          }
          variants.push({ ablation: { ...ablation, build }, service: variant });
          continue;
        }
        variants.push({ ablation, service: variant });
        await variant.start();
      }
    }
    log(
      `${storeName}: ablation, ${variants.length} instances, ${ABLATE_ROUNDS} rounds of ${ABLATE_SECONDS} s`,
    );
    return await measureRead(
      ceiling,
      variants.map(({ ablation, service: variant }) => ({
        name: `${storeName}, ${CLUSTERS.toLocaleString('en')} clusters, ${ablation.off || 'nothing'} off${ablation.build ? ` (${ablation.build} build)` : ''}`,
        store: storeName,
        clusters: CLUSTERS,
        logLevel: LOG_LEVEL,
        service: variant,
        requests: sign(variant.host),
        ablation,
      })),
      generator,
      workDir,
      ABLATE_SECONDS,
      ABLATE_ROUNDS,
    );
  } finally {
    for (const { service: variant } of variants) await variant.stop();
    await service.start();
  }
}

/**
 * Copies an SQLite store's files (the service stopped). The benchmark's own connection is closed
 * first: closing the copy's descriptors of the database files would drop every POSIX lock this
 * process holds on them (SQLite's connection included), so the next service to stop would take
 * itself for the last user of the file and remove its WAL index under the benchmark's connection,
 * which then reads a stale or "malformed" database. The connection reopens on its next use.
 */
function copyStoreFiles(bench: BenchStore, from: string, to: string): void {
  void bench.close();
  cpSync(from, to, { recursive: true });
}

/** Spawn → first answered signed request, `runs` times. */
async function measureStartup(service: Service, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    await service.start();
    out.push(performance.now() - service.child.spawnedAt);
    await service.stop();
  }
  return out;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function operations(
  service: Service,
  bench: BenchStore,
  storeName: string,
  keyId: string,
  results: Results,
): Promise<void> {
  const p = service.projectId;
  const n = CLUSTERS;
  const plain = await createClusters(service, n, 'conv', undefined);
  const secondKey = (await service.ok('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'bench-key-2' }))
    .key_info.key_id as string;
  const record = (name: string, seconds: number) => {
    results.operations.push({ store: storeName, name, count: n, seconds, perSecond: n / seconds });
    log(`${storeName} ${name}: ${n} in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)}/s`);
  };
  let accepted = 0;
  const conversion = await timed(async () => {
    const t0 = performance.now();
    await pool(32, plain, async (id) => {
      await service.ok('POST', `/v2/${p}/clusters/${id}/encrypt`, {
        encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
      });
    });
    accepted = (performance.now() - t0) / 1000;
    await eventually('conversions', async () => (await bench.countConverting()) === 0, 300_000, 20);
  });
  record('conversion requests accepted (POST encrypt)', accepted);
  record('conversions completed (POST encrypt → encrypted, DWS_ENCRYPT_JOB_SECONDS=0)', conversion);
  record(
    'data-key rotations (POST rotate-key)',
    await timed(() => pool(32, plain, (id) => service.ok('POST', `/v1/${p}/clusters/${id}/rotate-key`))),
  );
  record(
    'master-key rotations (POST rotate-key with master_key_id: re-wraps 2 data keys)',
    await timed(() =>
      pool(32, plain, (id) =>
        service.ok('POST', `/v1/${p}/clusters/${id}/rotate-key`, { master_key_id: secondKey }),
      ),
    ),
  );
}

async function runStore(
  storeName: 'sqlite' | 'postgresql',
  databaseUrl: string | undefined,
  generator: LoadGenerator,
  workDir: string,
  results: Results,
  ceilingRef: { child?: Child },
): Promise<void> {
  const dataDir = mkdtempSync(join(workDir, `${storeName}-`));
  const projectId = randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DWS_BOOTSTRAP_AK: AK,
    DWS_BOOTSTRAP_SK: SK,
    DWS_BOOTSTRAP_PROJECT_ID: projectId,
    LOG_LEVEL,
    DWS_ENCRYPT_JOB_SECONDS: '0',
    // The benchmark drives one access key at tens of thousands of requests per second and creates
    // BENCH_CLUSTERS clusters (3 nodes each) in one project, and as many again for the operations step:
    // no rate limit, quotas above its needs.
    DWS_RATE_LIMIT_PER_SECOND: '0',
    DWS_QUOTA_NODES: String(Math.max(256, CLUSTERS * 2 * 3 + 30)),
    DWS_QUOTA_KEYS: '20',
    DWS_QUOTA_ACTIVE_JOBS: String(Math.max(100, CLUSTERS)),
  };
  let bench: BenchStore;
  if (databaseUrl) {
    bench = await openBenchStore({ kind: 'postgresql', adminUrl: databaseUrl });
    env.DATABASE_URL = bench.serviceUrl;
    env.DWS_ROOT_KEY = randomBytes(32).toString('base64');
  } else {
    bench = await openBenchStore({ kind: 'sqlite', path: join(dataDir, 'dws-encryption.db') });
  }
  const service = new Service(env, join(workDir, `${storeName}-service.log`), projectId);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    log(`${storeName}: starting the service, creating ${CLUSTERS} encrypted clusters`);
    await service.start();
    const keyId = (await service.ok('POST', `/v1.0/${projectId}/kms/create-key`, { key_alias: 'bench-key' }))
      .key_info.key_id as string;
    const setupSeconds = await timed(async () => {
      await createClusters(service, CLUSTERS, 'bench', keyId);
    });
    results.operations.push({
      store: storeName,
      name: 'encrypted cluster creations (POST clusters, 16 in flight)',
      count: CLUSTERS,
      seconds: setupSeconds,
      perSecond: CLUSTERS / setupSeconds,
    });
    const hot = await bench.pickClusters(HOT);
    const sign = (host = service.host) => presignEncryptInfo(host, projectId, hot, TIMES, CREDENTIALS);
    if (!ceilingRef.child) {
      const body = (await send(service.baseUrl, sign()[0]!)).text;
      ceilingRef.child = await spawnCeiling(body);
      log(`ceiling: bare node:http answering ${body.length} bytes`);
    }
    const ceiling = ceilingRef.child;

    let baseline: Service | undefined;
    if (process.env.BENCH_BASELINE_DIST && !databaseUrl) {
      // Development aid: another build (a copy of dist/) on a copy of this store, measured in the same rounds.
      await service.stop();
      const copy = mkdtempSync(join(workDir, 'baseline-'));
      copyStoreFiles(bench, dataDir, copy);
      baseline = new Service(
        { ...env, DATA_DIR: copy, BENCH_DIST: process.env.BENCH_BASELINE_DIST },
        join(workDir, 'baseline.log'),
        projectId,
      );
      cleanups.push(() => baseline!.stop());
      await baseline.start();
      await service.start();
    }
    if (STEPS.has('read')) {
      if (PROFILE) {
        // Profile the read only: restart with --cpu-prof after the setup.
        await service.stop();
        await service.start({}, true);
      }
      const targets: ReadTarget[] = [
        {
          name: `${storeName}, ${CLUSTERS.toLocaleString('en')} clusters`,
          store: storeName,
          clusters: CLUSTERS,
          logLevel: LOG_LEVEL,
          service,
          requests: sign(),
        },
      ];
      if (baseline) {
        targets.push({
          name: `${storeName}, ${CLUSTERS.toLocaleString('en')} clusters, baseline build (BENCH_BASELINE_DIST)`,
          store: storeName,
          clusters: CLUSTERS,
          logLevel: LOG_LEVEL,
          service: baseline,
          requests: sign(baseline.host),
        });
      }
      results.reads.push(...(await measureRead(ceiling, targets, generator, workDir)));
    }
    await baseline?.stop();
    if (STEPS.has('ablate')) {
      results.reads.push(
        ...(await measureAblations(
          bench,
          service,
          env,
          dataDir,
          storeName,
          ceiling,
          sign,
          generator,
          workDir,
        )),
      );
    }
    if (STEPS.has('log')) {
      const other = LOG_LEVEL === 'warn' ? 'info' : 'warn';
      await service.stop();
      await service.start({ LOG_LEVEL: other }, PROFILE);
      results.reads.push(
        ...(await measureRead(
          ceiling,
          [
            {
              name: `${storeName}, ${CLUSTERS.toLocaleString('en')} clusters`,
              store: storeName,
              clusters: CLUSTERS,
              logLevel: other,
              service,
              requests: sign(),
            },
          ],
          generator,
          workDir,
        )),
      );
      await service.stop();
      await service.start();
    }
    if (STEPS.has('startup')) {
      await service.stop();
      const existing = await measureStartup(service, 3);
      results.startup.push({
        store: storeName,
        state: `${CLUSTERS} clusters`,
        runsMs: existing,
        medianMs: median(existing),
      });
      log(
        `${storeName} start → first answer (existing store): ${existing.map((t) => t.toFixed(0)).join(', ')} ms`,
      );
      if (!databaseUrl) {
        const fresh: number[] = [];
        for (let i = 0; i < 3; i++) {
          const freshDir = mkdtempSync(join(workDir, 'fresh-'));
          const s = new Service({ ...env, DATA_DIR: freshDir }, join(workDir, 'fresh.log'), projectId);
          fresh.push(...(await measureStartup(s, 1)));
          rmSync(freshDir, { recursive: true, force: true });
        }
        results.startup.push({
          store: storeName,
          state: 'empty data directory',
          runsMs: fresh,
          medianMs: median(fresh),
        });
        log(`${storeName} start → first answer (fresh): ${fresh.map((t) => t.toFixed(0)).join(', ')} ms`);
      }
      await service.start();
    }
    if (STEPS.has('ops')) {
      // A failure here must not throw away the figures measured so far: it is recorded as a note.
      await operations(service, bench, storeName, keyId, results).catch((error: Error) => {
        const note = `${storeName}: the operations step failed (${error.message}); its figures are missing`;
        log(note);
        results.notes.push(note);
      });
    }
    if (STEPS.has('large') && LARGE > 0) {
      // A copy of this store grown to LARGE clusters, served by a second instance; both are measured
      // in the same rounds (ceiling, this store, the large one) so that noise hits them alike.
      await service.stop();
      const largeDir = mkdtempSync(join(workDir, `${storeName}-large-`));
      const largeBench = await bench.clone(join(largeDir, 'dws-encryption.db'));
      if (existsSync(join(dataDir, 'root.key'))) {
        copyFileSync(join(dataDir, 'root.key'), join(largeDir, 'root.key'));
        chmodSync(join(largeDir, 'root.key'), 0o600);
      }
      cleanups.push(() => largeBench.close());
      const existing = await largeBench.countClusters();
      const add = LARGE - existing;
      if (add > 0) {
        log(`${storeName}: bulk-inserting ${add} clusters into a copy of the store`);
        const seconds = await timed(() => largeBench.bulkInsert(projectId, add));
        log(`${storeName}: bulk insert took ${seconds.toFixed(1)} s`);
      }
      const total = await largeBench.countClusters();
      // Like for like: on SQLite both instances run without the row cache (DWS_SQLITE_ROW_CACHE=0), so
      // every read is a store lookup and the pair shows what the store's size costs.
      const noCache: Record<string, string> = databaseUrl ? {} : { DWS_SQLITE_ROW_CACHE: '0' };
      const smallService = new Service({ ...env, ...noCache }, service.logFile, projectId);
      const largeService = new Service(
        {
          ...env,
          ...noCache,
          DATA_DIR: largeDir,
          ...(databaseUrl ? { DATABASE_URL: largeBench.serviceUrl } : {}),
        },
        join(workDir, `${storeName}-large.log`),
        projectId,
      );
      cleanups.push(() => largeService.stop());
      cleanups.push(() => smallService.stop());
      await smallService.start();
      await largeService.start();
      const small = await bench.countClusters();
      // The large store's requests spread over LARGE_HOT clusters drawn from all of it: more than the
      // SQLite row cache holds, so most reads go to the store.
      const hotLarge = await largeBench.pickClusters(LARGE_HOT);
      log(`${storeName}: signing ${hotLarge.length} requests for the large store`);
      const suffix = databaseUrl ? '' : ', row cache off';
      const smallName = `${storeName}, ${small.toLocaleString('en')} clusters (beside the large store${suffix})`;
      results.reads.push(
        ...(await measureRead(
          ceiling,
          [
            {
              name: smallName,
              store: storeName,
              clusters: small,
              logLevel: LOG_LEVEL,
              service: smallService,
              requests: sign(smallService.host),
            },
            {
              name: `${storeName}, ${total.toLocaleString('en')} clusters (${hotLarge.length.toLocaleString('en')} distinct clusters read${suffix})`,
              store: storeName,
              clusters: total,
              logLevel: LOG_LEVEL,
              service: largeService,
              requests: presignEncryptInfo(largeService.host, projectId, hotLarge, 1, CREDENTIALS),
              comparedWith: smallName,
            },
          ],
          generator,
          workDir,
        )),
      );
      await largeService.stop();
      await smallService.stop();
    }
  } finally {
    await service.stop().catch(() => {});
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await bench.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    log('building the service (tsc -p tsconfig.build.json)');
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
  }
  const generator = pickLoadGenerator();
  const workDir = mkdtempSync(join(tmpdir(), 'dws-bench-'));
  const results: Results = {
    startedAt,
    machine: machine(),
    options: {
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      clusters: CLUSTERS,
      largeClusters: LARGE,
      hotClusters: HOT,
      signTimes: TIMES,
      largeHotClusters: LARGE_HOT,
      distinctSignedRequests: HOT * TIMES,
      logLevel: LOG_LEVEL,
      steps: [...STEPS],
      postgres: Boolean(process.env.DATABASE_URL),
    },
    loadGenerator: generator,
    reads: [],
    startup: [],
    operations: [],
    notes: [],
  };
  log(
    `machine: ${results.machine.nproc} × ${results.machine.cpuModel}, node ${results.machine.node}, load ${results.machine.loadAverage}; load generator ${generator}`,
  );
  const ceilingRef: { child?: Child } = {};
  try {
    if (process.env.BENCH_SQLITE !== '0') {
      // A failure keeps the figures measured before it (and the PostgreSQL run after it).
      await runStore('sqlite', undefined, generator, workDir, results, ceilingRef).catch((error: Error) => {
        const note = `sqlite: the run stopped early (${error.message})`;
        log(note);
        results.notes.push(note);
      });
    }
    if (process.env.DATABASE_URL) {
      // A PostgreSQL failure keeps the SQLite figures (and the PostgreSQL ones measured before it).
      await runStore('postgresql', process.env.DATABASE_URL, generator, workDir, results, ceilingRef).catch(
        (error: Error) => {
          const note = `postgresql: the run stopped early (${error.message})`;
          log(note);
          results.notes.push(note);
        },
      );
    }
  } finally {
    await ceilingRef.child?.stop();
    if (process.env.BENCH_KEEP !== '1') rmSync(workDir, { recursive: true, force: true });
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
  if (shouldWriteReport()) {
    writeReport(join(ROOT, 'docs', 'benchmarks.md'), results);
    log('updated docs/benchmarks.md');
  } else {
    log('docs/benchmarks.md left alone (not a full run; BENCH_REPORT=1 writes it anyway)');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
