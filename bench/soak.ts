/**
 * `npm run soak`: a mixed workload at a fixed rate against the service in its own process on loopback,
 * for a bounded time, then a report. The service runs as `node --import tsx src/main.ts` (no build
 * needed) on an embedded SQLite store in a temporary data directory.
 *
 * Workload (open loop: requests are sent on schedule whether or not earlier ones have answered, at most
 * SOAK_MAX_IN_FLIGHT at once): reads (encrypt-info, cluster detail, cluster list, job detail, key
 * describe and list), conversions (create a cluster, encrypt it; the pool of clusters is kept bounded by
 * deleting the oldest), data-key and master-key rotations, KMS data-key operations (create, encrypt,
 * decrypt), key disable/enable, deletions, and a share of invalid requests (which must get a 4xx).
 *
 * Report: answers by status class, every 5xx and transport error (there must be none), latency
 * percentiles overall and per operation, the service's RSS sampled every few seconds (first, last, max,
 * and the least-squares slope over the whole run and over its second half), its CPU time, and finally
 * the store invariants (test/helpers/invariants.ts) once every job has finished. Exits 1 on any 5xx,
 * transport error or broken invariant.
 *
 * Options: --duration <s> (SOAK_SECONDS, default 300), --rate <req/s> (SOAK_RATE, default 50),
 * SOAK_MAX_IN_FLIGHT (default 256), SOAK_JOB_SECONDS (conversion time, default 2), --json <file>.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStoreReadOnly, startChild } from '../test/helpers/child.js';
import { checkInvariantsIn } from '../test/helpers/invariants.js';
import { clusterBody } from '../test/helpers/server.js';
import { officialSign } from './lib/presign.js';
import { cpuSeconds, rssMiB } from './lib/processes.js';

// ---------------------------------------------------------------------------------------------------
// Options

function option(flag: string, env: string, fallback: number): number {
  const at = process.argv.indexOf(flag);
  const raw = at >= 0 ? process.argv[at + 1] : process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} / ${env} must be a positive number`);
  return value;
}

const DURATION_S = option('--duration', 'SOAK_SECONDS', 300);
const RATE = option('--rate', 'SOAK_RATE', 50);
const MAX_IN_FLIGHT = option('--max-in-flight', 'SOAK_MAX_IN_FLIGHT', 256);
const JOB_SECONDS = option('--job-seconds', 'SOAK_JOB_SECONDS', 2);
const JSON_OUT = process.argv.includes('--json')
  ? process.argv[process.argv.indexOf('--json') + 1]
  : undefined;
const RSS_EVERY_MS = 5_000;
const POOL = 60;

const AK = 'SOAKAKEXAMPLE0000001';
const SK = 'soak-secret-key-for-dws-encryption';
const PROJECT = 'aaaabbbbccccddddeeeeffff00001111';

// ---------------------------------------------------------------------------------------------------
// The service

interface Service {
  proc: ChildProcess;
  host: string;
  dataDir: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startService(): Promise<Service> {
  // The same child-process start as the crash and shutdown tests, with the soak's own credential and timing.
  const child = await startChild({
    dataDir: mkdtempSync(join(tmpdir(), 'dws-soak-')),
    readyTimeoutMs: 60_000,
    env: {
      DWS_BOOTSTRAP_AK: AK,
      DWS_BOOTSTRAP_SK: SK,
      DWS_BOOTSTRAP_PROJECT_ID: PROJECT,
      DWS_ENCRYPT_JOB_SECONDS: String(JOB_SECONDS),
      DWS_JOB_POLL_MS: '250',
      // Explicit, whatever the tests' helper sets: the rate limit above the soak's highest rate, and
      // quotas above its pool (POOL clusters of 3 nodes, each with at most one job; 3 keys).
      DWS_RATE_LIMIT_PER_SECOND: String(Math.max(1_000, RATE * 4)),
      DWS_RATE_LIMIT_BURST: String(Math.max(2_000, MAX_IN_FLIGHT * 4)),
      DWS_QUOTA_NODES: String(Math.max(256, POOL * 3 * 2)),
      DWS_QUOTA_KEYS: '20',
      DWS_QUOTA_ACTIVE_JOBS: String(Math.max(100, POOL * 2)),
    },
  });
  return {
    proc: child.proc,
    host: `127.0.0.1:${child.port}`,
    dataDir: child.dataDir,
    output: child.output,
    exited: child.exited.then(({ code }) => code),
  };
}

// ---------------------------------------------------------------------------------------------------
// Calls and statistics

interface Answer {
  status: number;
  body: any;
  text: string;
}

const latencies = new Map<string, number[]>();
const statuses = new Map<string, Map<number, number>>();
const failures: string[] = [];
let transportErrors = 0;
let inFlight = 0;
let skipped = 0;
let sent = 0;

let service: Service;

async function call(op: string, method: string, path: string, body?: unknown): Promise<Answer | undefined> {
  const request = officialSign(service.host, method, path, { ak: AK, sk: SK }, { body });
  const headers = { ...request.headers };
  delete headers.Host;
  const started = performance.now();
  try {
    const response = await fetch(`http://${service.host}${path}`, {
      method,
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    (latencies.get(op) ?? latencies.set(op, []).get(op)!).push(ms);
    const byStatus = statuses.get(op) ?? statuses.set(op, new Map()).get(op)!;
    byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status >= 500 && failures.length < 50)
      failures.push(`${op} ${method} ${path}: ${response.status} ${text}`);
    return { status: response.status, body: parsed, text };
  } catch (error) {
    transportErrors++;
    if (failures.length < 50) failures.push(`${op} ${method} ${path}: ${(error as Error).message}`);
    return undefined;
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

// ---------------------------------------------------------------------------------------------------
// The workload

const p = PROJECT;
const aesKeys: string[] = [];
let sm4Key = '';
let spareKey = '';
let spareEnabled = true;
const clusters: { id: string; encrypted: boolean; converting: boolean }[] = [];
const jobs: string[] = [];
let counter = 0;

async function setup(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const res = await call('setup', 'POST', `/v1.0/${p}/kms/create-key`, {
      key_alias: `soak-aes-${i}`,
      key_spec: 'AES_256',
    });
    aesKeys.push(res!.body.key_info.key_id);
  }
  sm4Key = (await call('setup', 'POST', `/v1.0/${p}/kms/create-key`, {
    key_alias: 'soak-sm4',
    key_spec: 'SM4',
  }))!.body.key_info.key_id;
  spareKey = (await call('setup', 'POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'soak-spare' }))!.body
    .key_info.key_id;
  for (let i = 0; i < 20; i++) {
    const encrypted = i % 2 === 0;
    const res = await call(
      'setup',
      'POST',
      `/v2/${p}/clusters`,
      clusterBody(
        `soak-${counter++}`,
        encrypted ? { master_key_id: pick(aesKeys), crypt_algorithm: 'generalCipher' } : {},
      ),
    );
    clusters.push({ id: res!.body.cluster.id, encrypted, converting: false });
  }
}

const OPERATIONS: [weight: number, name: string, run: () => Promise<void>][] = [
  [
    20,
    'read encrypt-info',
    async () => {
      await call('read encrypt-info', 'GET', `/v1/${p}/clusters/${pick(clusters).id}/encrypt-info`);
    },
  ],
  [
    8,
    'read cluster',
    async () => {
      await call('read cluster', 'GET', `/v1.0/${p}/clusters/${pick(clusters).id}`);
    },
  ],
  [3, 'list clusters', async () => void (await call('list clusters', 'GET', `/v1.0/${p}/clusters`))],
  [
    6,
    'read job',
    async () => {
      if (jobs.length) await call('read job', 'GET', `/v1.0/${p}/job/${pick(jobs)}`);
    },
  ],
  [
    4,
    'describe key',
    async () =>
      void (await call('describe key', 'POST', `/v1.0/${p}/kms/describe-key`, { key_id: pick(aesKeys) })),
  ],
  [
    2,
    'list keys',
    async () => void (await call('list keys', 'POST', `/v1.0/${p}/kms/list-keys`, { limit: '10' })),
  ],
  [
    8,
    'convert',
    async () => {
      // The pool stays bounded: every conversion beyond it first deletes the oldest settled cluster.
      if (clusters.length >= POOL) await deleteOldest();
      const created = await call(
        'create cluster',
        'POST',
        `/v2/${p}/clusters`,
        clusterBody(`soak-${counter++}`),
      );
      if (created?.status !== 200) return;
      const entry = { id: created.body.cluster.id as string, encrypted: false, converting: true };
      clusters.push(entry);
      const sm = Math.random() < 0.25;
      const res = await call('encrypt', 'POST', `/v2/${p}/clusters/${entry.id}/encrypt`, {
        encrypt: {
          master_key_id: sm ? sm4Key : pick(aesKeys),
          crypt_algorithm: sm ? 'SMcompatible' : 'generalCipher',
        },
      });
      if (res?.status === 200) {
        jobs.push(res.body.job_id);
        if (jobs.length > 500) jobs.shift();
        setTimeout(
          () => {
            entry.converting = false;
            entry.encrypted = true;
          },
          JOB_SECONDS * 1000 + 1_000,
        );
      } else entry.converting = false;
    },
  ],
  [
    12,
    'rotate data key',
    async () => {
      const target = clusters.filter((c) => c.encrypted);
      if (target.length)
        await call('rotate data key', 'POST', `/v1/${p}/clusters/${pick(target).id}/rotate-key`);
    },
  ],
  [
    3,
    'rotate master key',
    async () => {
      const target = clusters.filter((c) => c.encrypted);
      if (!target.length) return;
      // The cluster's algorithm decides which keys fit; a misfit answers 400, which is counted as such.
      await call('rotate master key', 'POST', `/v1/${p}/clusters/${pick(target).id}/rotate-key`, {
        master_key_id: pick(aesKeys),
      });
    },
  ],
  [
    8,
    'data key round trip',
    async () => {
      const key = pick(aesKeys);
      const created = await call('create datakey', 'POST', `/v1.0/${p}/kms/create-datakey`, {
        key_id: key,
        datakey_length: '256',
        additional_authenticated_data: 'soak',
      });
      if (created?.status !== 200) return;
      const back = await call('decrypt datakey', 'POST', `/v1.0/${p}/kms/decrypt-datakey`, {
        key_id: key,
        cipher_text: created.body.cipher_text,
        datakey_cipher_length: '32',
        additional_authenticated_data: 'soak',
      });
      if (back?.status === 200 && back.body.data_key !== created.body.plain_text) {
        failures.push('decrypt-datakey returned another key than create-datakey');
      }
    },
  ],
  [
    3,
    'encrypt datakey',
    async () => {
      const dek = Buffer.alloc(32, counter % 256);
      await call('encrypt datakey', 'POST', `/v1.0/${p}/kms/encrypt-datakey`, {
        key_id: pick(aesKeys),
        plain_text: Buffer.concat([dek, createHash('sha256').update(dek).digest()]).toString('hex'),
        datakey_plain_length: '32',
      });
    },
  ],
  [
    2,
    'key state',
    async () => {
      spareEnabled = !spareEnabled;
      await call('key state', 'POST', `/v1.0/${p}/kms/${spareEnabled ? 'enable-key' : 'disable-key'}`, {
        key_id: spareKey,
      });
    },
  ],
  [
    4,
    'delete cluster',
    async () => {
      if (clusters.length > POOL / 2) await deleteOldest();
    },
  ],
  [
    4,
    'invalid request',
    async () => {
      const res = await pick([
        () =>
          call('invalid request', 'POST', `/v2/${p}/clusters/${pick(clusters).id}/encrypt`, {
            encrypt: { master_key_id: 'x' },
          }),
        () => call('invalid request', 'GET', `/v1/${p}/clusters/not-a-uuid/encrypt-info`),
        () =>
          call('invalid request', 'POST', `/v1.0/${p}/kms/create-datakey`, {
            key_id: pick(aesKeys),
            datakey_length: '7',
          }),
        () =>
          call('invalid request', 'POST', `/v1.0/${p}/kms/schedule-key-deletion`, {
            key_id: pick(aesKeys),
            pending_days: '1',
          }),
      ])();
      if (res && (res.status < 400 || res.status >= 500))
        failures.push(`invalid request answered ${res.status}: ${res.text}`);
    },
  ],
];

async function deleteOldest(): Promise<void> {
  const at = clusters.findIndex((c) => !c.converting);
  if (at < 0) return;
  const [victim] = clusters.splice(at, 1);
  await call('delete cluster', 'DELETE', `/v1.0/${p}/clusters/${victim!.id}`);
}

const TOTAL_WEIGHT = OPERATIONS.reduce((s, [w]) => s + w, 0);
function chooseOperation(): () => Promise<void> {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const [w, , run] of OPERATIONS) {
    r -= w;
    if (r < 0) return run;
  }
  return OPERATIONS[0]![2];
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(
    `soak: ${DURATION_S} s at ${RATE} requests/s (at most ${MAX_IN_FLIGHT} in flight), conversions ${JOB_SECONDS} s`,
  );
  service = await startService();
  const pid = service.proc.pid;
  await setup();

  const rss: { t: number; mib: number }[] = [];
  const started = performance.now();
  const cpuStart = cpuSeconds(pid);
  const sampler = setInterval(() => {
    const t = (performance.now() - started) / 1000;
    const mib = rssMiB(pid);
    rss.push({ t, mib });
    const done = [...statuses.values()].reduce((s, m) => s + [...m.values()].reduce((a, b) => a + b, 0), 0);
    process.stdout.write(
      `  t=${t.toFixed(0)}s rss=${mib.toFixed(1)} MiB answered=${done} in-flight=${inFlight} errors=${failures.length}\n`,
    );
  }, RSS_EVERY_MS);
  rss.push({ t: 0, mib: rssMiB(pid) });

  const interval = 1000 / RATE;
  const pending = new Set<Promise<void>>();
  for (let i = 0; ; i++) {
    const due = started + i * interval;
    if (due - started > DURATION_S * 1000) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      continue;
    }
    inFlight++;
    sent++;
    const run = chooseOperation()()
      .catch((error) => {
        failures.push(`workload error: ${(error as Error).stack}`);
      })
      .finally(() => {
        inFlight--;
        pending.delete(run);
      });
    pending.add(run);
  }
  await Promise.all(pending);
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;
  rss.push({ t: elapsed, mib: rssMiB(pid) });
  const cpu = cpuSeconds(pid) - cpuStart;

  // Every conversion finishes; then the store must satisfy its invariants.
  const deadline = Date.now() + (JOB_SECONDS + 30) * 1000;
  let open = -1;
  while (Date.now() < deadline) {
    const store = openStoreReadOnly(service.dataDir);
    try {
      const row = await store.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'not in', ['SUCCESS', 'FAIL', 'STOP'])
        .executeTakeFirstOrThrow();
      open = Number(row.n);
    } finally {
      await store.close();
    }
    if (open === 0) break;
    await sleep(250);
  }
  const store = openStoreReadOnly(service.dataDir);
  let violations: string[];
  let counts: Record<string, number>;
  try {
    violations = await store.db.transaction().execute((trx) => checkInvariantsIn(trx, store.rootKey));
    const count = async (table: 'clusters' | 'jobs' | 'audit_events' | 'cluster_data_keys') =>
      Number(
        (
          await store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    counts = {
      clusters: await count('clusters'),
      jobs: await count('jobs'),
      data_key_versions: await count('cluster_data_keys'),
      audit_events: await count('audit_events'),
    };
  } finally {
    await store.close();
  }

  service.proc.kill('SIGTERM');
  const exitCode = await service.exited;

  // ----- report
  const all = [...latencies.values()].flat().sort((a, b) => a - b);
  const byClass = new Map<string, number>();
  for (const m of statuses.values()) {
    for (const [status, n] of m) {
      const cls = `${Math.floor(status / 100)}xx`;
      byClass.set(cls, (byClass.get(cls) ?? 0) + n);
    }
  }
  const fivexx = byClass.get('5xx') ?? 0;
  const rssMibs = rss.map((r) => r.mib).filter(Number.isFinite);
  const half = rss.filter((r) => r.t >= elapsed / 2);
  const report = {
    durationSeconds: Math.round(elapsed),
    targetRate: RATE,
    sent,
    answered: all.length,
    achievedRate: Math.round((all.length / elapsed) * 10) / 10,
    skippedForBackpressure: skipped,
    statusClasses: Object.fromEntries([...byClass].sort()),
    fivexx,
    transportErrors,
    failures,
    latencyMs: {
      p50: round(percentile(all, 0.5)),
      p90: round(percentile(all, 0.9)),
      p99: round(percentile(all, 0.99)),
      max: round(all[all.length - 1] ?? Number.NaN),
    },
    perOperation: Object.fromEntries(
      [...latencies]
        .filter(([op]) => op !== 'setup')
        .sort()
        .map(([op, values]) => {
          const sorted = [...values].sort((a, b) => a - b);
          return [
            op,
            {
              n: sorted.length,
              statuses: Object.fromEntries(statuses.get(op) ?? []),
              p50: round(percentile(sorted, 0.5)),
              p99: round(percentile(sorted, 0.99)),
            },
          ];
        }),
    ),
    rssMiB: {
      first: round(rssMibs[0] ?? Number.NaN),
      last: round(rssMibs[rssMibs.length - 1] ?? Number.NaN),
      max: round(Math.max(...rssMibs)),
      slopePerMinute: round(slope(rss.map((r) => ({ x: r.t / 60, y: r.mib })))),
      secondHalfSlopePerMinute: round(slope(half.map((r) => ({ x: r.t / 60, y: r.mib })))),
      samples: rss.map((r) => [Math.round(r.t), round(r.mib)]),
    },
    serviceCpuSeconds: round(cpu),
    store: { ...counts, openJobsAtEnd: open, invariantViolations: violations },
    serviceExitCode: exitCode,
  };
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
  rmSync(service.dataDir, { recursive: true, force: true });
  const ok =
    fivexx === 0 &&
    transportErrors === 0 &&
    failures.length === 0 &&
    violations.length === 0 &&
    open === 0 &&
    exitCode === 0;
  console.log(ok ? '\nsoak: PASS' : '\nsoak: FAIL');
  process.exit(ok ? 0 : 1);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function printReport(r: any): void {
  console.log('\n== soak report');
  console.log(
    `duration ${r.durationSeconds} s, ${r.sent} operations started, ${r.answered} answers (${r.achievedRate}/s), ${r.skippedForBackpressure} skipped for back-pressure`,
  );
  console.log(
    `status classes: ${JSON.stringify(r.statusClasses)}; 5xx: ${r.fivexx}; transport errors: ${r.transportErrors}`,
  );
  console.log(
    `latency ms: p50 ${r.latencyMs.p50}, p90 ${r.latencyMs.p90}, p99 ${r.latencyMs.p99}, max ${r.latencyMs.max}`,
  );
  console.log('per operation (n, statuses, p50 ms, p99 ms):');
  for (const [op, v] of Object.entries<any>(r.perOperation)) {
    console.log(
      `  ${op.padEnd(20)} ${String(v.n).padStart(7)}  ${JSON.stringify(v.statuses).padEnd(28)} ${v.p50}  ${v.p99}`,
    );
  }
  console.log(
    `service RSS MiB: first ${r.rssMiB.first}, last ${r.rssMiB.last}, max ${r.rssMiB.max}; slope ${r.rssMiB.slopePerMinute} MiB/min (second half ${r.rssMiB.secondHalfSlopePerMinute} MiB/min)`,
  );
  console.log(`service CPU: ${r.serviceCpuSeconds} s`);
  console.log(`store at the end: ${JSON.stringify(r.store)}`);
  console.log(`service exit code after SIGTERM: ${r.serviceExitCode}`);
  if (r.failures.length) console.log(`failures:\n  ${r.failures.join('\n  ')}`);
}

main().catch((error) => {
  console.error(error);
  service?.proc.kill('SIGKILL');
  process.exit(1);
});
