/**
 * What every client command shares: the global options, credentials from flags or the official SDKs'
 * environment variables, output (tables or --json), and the CLI's own error types.
 */
import type { Command } from 'commander';
import { DwsClient, type Job } from './client.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  endpoint?: string;
  ak?: string;
  sk?: string;
  projectId?: string;
  json?: boolean;
}

/** Wrong or missing input: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A job ended FAIL or STOP: exit code 1, its failed_detail as the message. */
export class JobFailedError extends Error {
  constructor(readonly job: Job) {
    super(job.failed_detail ?? `job ${job.job_id} ended ${job.status}`);
    this.name = 'JobFailedError';
  }
}

export interface Output {
  json: boolean;
  /** Progress bars only on a terminal, never in --json mode. */
  interactive: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Rewrites the current stderr line (progress). */
  status(text: string): void;
  endStatus(): void;
}

export type Env = Record<string, string | undefined>;

/** Where a run of the CLI reads its environment and input and writes its output. */
export interface CliIo {
  env: Env;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout(text: string): void;
  stderr(text: string): void;
  stderrIsTTY: boolean;
}

/** The process's own environment and standard streams (every run but the in-process tests'). */
export function processIo(): CliIo {
  return {
    env: process.env,
    stdin: process.stdin,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

let current: CliIo | undefined;

/** The IO of the run in progress (`run` of program.ts sets it; one run at a time per process). */
export function cliIo(): CliIo {
  return current ?? processIo();
}

export async function withCliIo<T>(io: CliIo, body: () => Promise<T>): Promise<T> {
  const previous = current;
  current = io;
  try {
    return await body();
  } finally {
    current = previous;
  }
}

export function makeOutput(json: boolean): Output {
  const io = cliIo();
  let statusShown = false;
  const interactive = !json && io.stderrIsTTY;
  return {
    json,
    interactive,
    out: (text) => io.stdout(`${text}\n`),
    err: (text) => io.stderr(`${text}\n`),
    status: (text) => {
      if (!interactive) return;
      io.stderr(`\r\x1b[2K${text}`);
      statusShown = true;
    },
    endStatus: () => {
      if (statusShown) io.stderr('\n');
      statusShown = false;
    },
  };
}

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The endpoint, credentials and project: flags first, then the environment. */
export function clientFrom(options: GlobalOptions, env: Env = cliIo().env): DwsClient {
  const endpoint = options.endpoint ?? env.DWS_ENDPOINT ?? DEFAULT_ENDPOINT;
  const ak = options.ak ?? env.HUAWEICLOUD_SDK_AK;
  const sk = options.sk ?? env.HUAWEICLOUD_SDK_SK;
  const projectId = options.projectId ?? env.HUAWEICLOUD_SDK_PROJECT_ID;
  const missing = [
    ak ? '' : 'HUAWEICLOUD_SDK_AK (or --ak)',
    sk ? '' : 'HUAWEICLOUD_SDK_SK (or --sk)',
    projectId ? '' : 'HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(
      `missing credentials: set ${missing.join(', ')}. The service prints them on its first start; ` +
        '`dws-encryption demo --start` starts one with fresh credentials.',
    );
  }
  try {
    return new DwsClient({ endpoint, ak: ak!, sk: sk!, projectId: projectId! });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Prints `data` as JSON in --json mode, else the human-readable text. */
export function emit(output: Output, data: unknown, human: () => string): void {
  output.out(output.json ? JSON.stringify(data, null, 2) : human());
}

export function parseInteger(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
    }
    return n;
  };
}

export function parseSeconds(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number of seconds`);
    return n;
  };
}
