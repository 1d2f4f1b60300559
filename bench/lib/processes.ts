/** Child processes of the benchmark: the service (`node dist/src/main.js`) and the ceiling server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// One free-port helper for tests and benchmarks.
import { freePort } from '../../test/helpers/child.js';

export { freePort };

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Child {
  process: ChildProcess;
  port: number;
  /** Wall-clock time at spawn (performance.now()). */
  spawnedAt: number;
  stop(): Promise<void>;
}

// Children still running when the benchmark exits (a crash included) are ended with it.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function stopper(child: ChildProcess, logFd?: number): () => Promise<void> {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (logFd !== undefined) closeSync(logFd);
  };
}

/** Starts `node dist/src/main.js` (what `npm start` runs) with `env`; output goes to `logFile`. */
export async function spawnService(
  env: Record<string, string>,
  logFile: string,
  nodeArgs: string[] = [],
): Promise<Child> {
  const port = Number(env.PORT) || (await freePort());
  const fd = openSync(logFile, 'a');
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(env.BENCH_DIST ?? join(ROOT, 'dist'), 'src', 'main.js')],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
      stdio: ['ignore', fd, fd],
    },
  );
  return { process: child, port, spawnedAt, stop: stopper(child, fd) };
}

/** Starts the bare node:http ceiling answering `body`. */
export async function spawnCeiling(body: string): Promise<Child> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'ceiling.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), BENCH_BODY: body },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ceiling exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return { process: child, port, spawnedAt, stop: stopper(child) };
}

/** Peak resident set size (VmHWM) of a process in MiB, from /proc (Linux); NaN elsewhere. */
export function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Current resident set size (VmRSS) in MiB. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

const CLOCK_TICKS = 100;
