/**
 * The load generator: wrk when it is installed (C, one thread, pre-signed raw requests through
 * bench/wrk.lua), else autocannon in this process. Both cycle through the same pre-signed requests.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { rawRequest, type SignedRequest } from './presign.js';

export interface LoadResult {
  requestsPerSecond: number;
  requests: number;
  seconds: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers that were not 2xx (wrk: status ≥ 400) plus socket errors and timeouts. */
  errors: number;
  non2xx: number;
  /** CPU time the server process used per request, in µs (filled in by the caller). */
  cpuMicrosPerRequest?: number;
}

export type LoadGenerator = 'wrk' | 'autocannon';

export function pickLoadGenerator(): LoadGenerator {
  const wanted = process.env.BENCH_LOADGEN;
  if (wanted === 'autocannon' || wanted === 'wrk') return wanted;
  return spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk';
}

export interface LoadOptions {
  port: number;
  connections: number;
  seconds: number;
  requests: readonly SignedRequest[];
  generator: LoadGenerator;
  workDir: string;
}

const requestFiles = new WeakMap<readonly SignedRequest[], string>();

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  return options.generator === 'wrk' ? runWrk(options) : runAutocannon(options);
}

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  let file = requestFiles.get(options.requests);
  if (!file) {
    file = join(options.workDir, `requests-${Math.random().toString(36).slice(2)}.bin`);
    writeFileSync(file, options.requests.map(rawRequest).join('\0'));
    requestFiles.set(options.requests, file);
  }
  const threads = process.env.BENCH_WRK_THREADS ?? '1';
  const script = join(import.meta.dirname, '..', 'wrk.lua');
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'wrk',
      [
        `-t${threads}`,
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        '--timeout',
        '5s',
        '-s',
        script,
        `http://127.0.0.1:${options.port}/`,
      ],
      { env: { ...process.env, BENCH_REQUESTS: file }, maxBuffer: 1 << 20 },
      (error, out, err) => (error ? reject(new Error(`wrk failed: ${error.message}\n${err}`)) : resolve(out)),
    );
  });
  const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    errors: Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>;
    latency_us: { p50: number; p90: number; p99: number; max: number };
  };
  const seconds = r.duration_us / 1e6;
  const e = r.errors;
  return {
    requestsPerSecond: r.requests / seconds,
    requests: r.requests,
    seconds,
    p50Ms: r.latency_us.p50 / 1000,
    p90Ms: r.latency_us.p90 / 1000,
    p99Ms: r.latency_us.p99 / 1000,
    maxMs: r.latency_us.max / 1000,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
    non2xx: e.status,
  };
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  // One shared cursor: consecutive requests on every connection are distinct.
  let cursor = 0;
  const list = options.requests;
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        setupRequest: (request: any) => {
          const next = list[cursor++ % list.length]!;
          return { ...request, method: next.method, path: next.path, headers: next.headers };
        },
      },
    ],
  });
  const non2xx = result.non2xx;
  return {
    requestsPerSecond: result.requests.total / options.seconds,
    requests: result.requests.total,
    seconds: options.seconds,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: non2xx + result.errors + result.timeouts,
    non2xx,
  };
}
