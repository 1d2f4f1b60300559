/**
 * The service as a child process (`node --import tsx src/main.ts`), for tests that kill it (`kill -9`),
 * signal it (SIGTERM) or restart it on the same data directory, and a read-only view of its SQLite store
 * from the test process (WAL lets a second process read while the service writes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { parseRootKey } from '../../src/crypto/index.js';
import type { Schema } from '../../src/store/schema.js';
import {
  type ApiResponse,
  type CallOptions,
  signedCall,
  TEST_AK,
  TEST_PROJECT_ID,
  TEST_QUOTA_ENV,
  TEST_SK,
} from './server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A TCP port that was free a moment ago (the child binds it; a lost race is retried by startChild). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ChildService {
  proc: ChildProcess;
  url: string;
  port: number;
  dataDir: string;
  projectId: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  call(method: string, path: string, body?: unknown, options?: CallOptions): Promise<ApiResponse>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait for the exit (a no-op when it already exited). */
  kill(): Promise<void>;
}

export interface ChildOptions {
  dataDir?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Run the service from this checkout instead of this one (to compare two versions). */
  root?: string;
}

export async function startChild(options: ChildOptions = {}): Promise<ChildService> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dws-child-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(dataDir, await freePort(), options);
    } catch (error) {
      lastError = error;
      if (!String((error as Error).message).includes('EADDRINUSE')) throw error;
    }
  }
  throw lastError;
}

async function startOnce(dataDir: string, port: number, options: ChildOptions): Promise<ChildService> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: options.root ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      DWS_BOOTSTRAP_AK: TEST_AK,
      DWS_BOOTSTRAP_SK: TEST_SK,
      DWS_BOOTSTRAP_PROJECT_ID: TEST_PROJECT_ID,
      DWS_ENCRYPT_JOB_SECONDS: '1.5',
      DWS_JOB_POLL_MS: '50',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...TEST_QUOTA_ENV,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (gone) throw new Error(`the service exited while starting:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the service did not start in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    url,
    port,
    dataDir,
    projectId: TEST_PROJECT_ID,
    output: () => output,
    call: (method, path, body, callOptions = {}) =>
      signedCall(url, method, path, body, { ...callOptions, ak: TEST_AK, sk: TEST_SK }),
    exited,
    async kill() {
      if (!gone) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A read-only Kysely view of a data directory's SQLite store, and its root key. */
export function openStoreReadOnly(dataDir: string): {
  db: Kysely<Schema>;
  rootKey: Buffer;
  close(): Promise<void>;
} {
  const sqlite = new SqliteDatabase(join(dataDir, 'dws-encryption.db'), { readonly: true });
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const rootKey = parseRootKey(readFileSync(join(dataDir, 'root.key'), 'utf8').trim());
  return { db, rootKey, close: () => db.destroy() };
}

/** Polls a job through the API until it is final. */
export async function waitForChildJob(child: ChildService, jobId: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await child.call('GET', `/v1.0/${child.projectId}/job/${jobId}`);
    if (res.status !== 200) throw new Error(`job read failed: ${res.status} ${res.text}`);
    if (['SUCCESS', 'FAIL', 'STOP'].includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
