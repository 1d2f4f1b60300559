/**
 * The service as a child whose standard output is read by a reader that misbehaves (see
 * test/robustness/log-output*.test.ts): it never reads, stops reading once the service is up, or has
 * exited. Drives ~3,000 request lines through it, checks the service keeps serving and counts dropped
 * lines, then sends SIGTERM and checks the process ends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './child.js';
import { eventually } from './eventually.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Logged with every request line (callerReqId): longer lines fill the pipe with fewer requests.
const LONG_ID = 'r'.repeat(64);
export type LogReader = 'never-reads' | 'stops-reading' | 'exited';

export async function runWithLogReader(reader: LogReader): Promise<void> {
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
    await eventually('listening', async () => (await fetch(`${url}/healthz`)).ok);
    if (reader === 'stops-reading') child.stdout.pause();
    if (reader === 'exited') child.stdout.destroy();
    // ~3,000 request lines: far more than the pipe and the 64 KiB queue hold.
    for (let round = 0; round < 150; round++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${url}/healthz`, { headers: { 'X-Request-Id': LONG_ID } }).then((res) => res.status),
        ),
      );
      assert.deepEqual(new Set(answers), new Set([200]), 'the service keeps serving');
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const dropped = Number(/^dws_log_lines_dropped_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(dropped > 0, `lines were dropped and counted (${dropped})`);
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 120_000)),
    ]);
    assert.notEqual(code, 'alive', 'the process ended after SIGTERM');
  } finally {
    if (alive) child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
