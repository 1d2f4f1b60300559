/**
 * A log reader that stalls or has gone never keeps the service from serving or from stopping: log
 * writes are asynchronous and bounded (src/log-output.ts), lines that cannot be written are dropped and
 * counted in /metrics, and SIGTERM ends the process. Three readers: one that never reads (the pipe is
 * full from the start), one that stops reading once the service is up, one that has exited (its end of
 * the pipe is closed: EPIPE).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/child.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
type Reader = 'never-reads' | 'stops-reading' | 'exited';

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function scenario(reader: Reader): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-log-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      DWS_LOG_BUFFER_BYTES: '65536',
      DWS_SHUTDOWN_TIMEOUT_SECONDS: '2',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  if (reader === 'never-reads') child.stdout.pause();
  else child.stdout.resume();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('listening', async () => (await fetch(`${url}/healthz`)).ok);
    if (reader === 'stops-reading') child.stdout.pause();
    if (reader === 'exited') child.stdout.destroy();
    // ~3,000 request lines: far more than the pipe and the 64 KiB queue hold.
    for (let round = 0; round < 150; round++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${url}/healthz`).then((res) => res.status)),
      );
      assert.deepEqual(new Set(answers), new Set([200]), 'the service keeps serving');
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const dropped = Number(/^dws_log_lines_dropped_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(dropped > 0, `lines were dropped and counted (${dropped})`);
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 30_000)),
    ]);
    assert.notEqual(code, 'alive', 'the process ended after SIGTERM');
  } finally {
    if (alive) child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('a reader that never reads (a full pipe): serving goes on, lines are dropped and counted, SIGTERM ends the process', () =>
  scenario('never-reads'));
test('a reader that stops reading: serving goes on, SIGTERM ends the process', () =>
  scenario('stops-reading'));
test('a reader that has exited (EPIPE): serving goes on, SIGTERM ends the process', () => scenario('exited'));
