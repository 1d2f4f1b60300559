/** The bootstrap credential: generated and stored once when not configured, reused after a restart. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { signedCall } from './helpers/server.js';

test('without DWS_BOOTSTRAP_*, a credential is generated once, works, and is the same after a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-bootstrap-'));
  try {
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const first = await startServer(config, { logger: false });
    const { bootstrap } = first;
    assert.equal(bootstrap.generated, true);
    assert.match(bootstrap.accessKey, /^[A-Z0-9]{20}$/);
    assert.match(bootstrap.projectId, /^[0-9a-f]{32}$/);
    const res = await signedCall(first.url, 'GET', `/v1.0/${bootstrap.projectId}/clusters`, undefined, {
      ak: bootstrap.accessKey,
      sk: bootstrap.secretKey,
    });
    assert.equal(res.status, 200);
    await first.close();
    assert.equal(statSync(join(dataDir, 'root.key')).mode & 0o777, 0o600, 'root key file is private');

    const second = await startServer(config, { logger: false });
    assert.equal(second.bootstrap.generated, false);
    assert.equal(second.bootstrap.accessKey, bootstrap.accessKey);
    assert.equal(second.bootstrap.secretKey, bootstrap.secretKey);
    assert.equal(second.bootstrap.projectId, bootstrap.projectId);
    await second.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Runs `npm start`'s entry point on DATA_DIR until it listens (then SIGTERM), or until it exits. */
function runOnce(dataDir: string, port = '0'): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: port, DATA_DIR: dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line: ${out}`));
    }, 120_000);
    const collect = (chunk: Buffer) => {
      out += chunk;
      if (out.includes('dws-encryption listening')) {
        // give the credential lines a moment, then stop gracefully
        setTimeout(() => child.kill('SIGTERM'), 300);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

test('npm start without a terminal writes the generated credential to a 0600 file and logs only its path', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-bootstrap-print-'));
  const file = join(dataDir, 'bootstrap-credential.txt');
  try {
    const first = await runOnce(dataDir);
    const written = readFileSync(file, 'utf8');
    assert.match(written, /export HUAWEICLOUD_SDK_AK=[A-Z0-9]{20}/);
    assert.match(written, /export HUAWEICLOUD_SDK_SK=\S+/);
    assert.match(written, /export HUAWEICLOUD_SDK_PROJECT_ID=[0-9a-f]{32}/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const secret = /HUAWEICLOUD_SDK_SK=(\S+)/.exec(written)![1]!;
    assert.ok(!first.out.includes(secret), 'the secret is not in the output (a log collector)');
    assert.ok(first.out.includes(file), 'the file is named in the log');
    rmSync(file);
    const second = await runOnce(dataDir);
    assert.doesNotMatch(second.out, /HUAWEICLOUD_SDK_SK=/);
    assert.equal(existsSync(file), false, 'the secret is shown only on the start that generated it');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a first start that fails (port in use) leaves no unseen credential: the next start generates and shows it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-bootstrap-busy-'));
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const failed = await runOnce(dataDir, String(port));
    assert.notEqual(failed.code, 0, failed.out);
    assert.match(failed.out, /EADDRINUSE/);
    const started = await runOnce(dataDir);
    assert.ok(started.out.includes('bootstrap credential generated'), started.out);
    assert.match(readFileSync(join(dataDir, 'bootstrap-credential.txt'), 'utf8'), /HUAWEICLOUD_SDK_SK=\S+/);
  } finally {
    blocker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('dws-encryption credentials reset prints a new secret for the generated credential; the old one stops working', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-bootstrap-reset-'));
  try {
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const first = await startServer(config, { logger: false });
    const old = first.bootstrap;
    await first.close();
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'credentials', 'reset'],
      {
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
        encoding: 'utf8',
      },
    );
    assert.match(output, new RegExp(`export HUAWEICLOUD_SDK_AK=${old.accessKey}`));
    const secret = /HUAWEICLOUD_SDK_SK=(\S+)/.exec(output)?.[1];
    assert.ok(secret && secret !== old.secretKey, output);
    const second = await startServer(config, { logger: false });
    try {
      const path = `/v1.0/${old.projectId}/clusters`;
      const withNew = await signedCall(second.url, 'GET', path, undefined, { ak: old.accessKey, sk: secret });
      assert.equal(withNew.status, 200, withNew.text);
      const withOld = await signedCall(second.url, 'GET', path, undefined, {
        ak: old.accessKey,
        sk: old.secretKey,
      });
      assert.equal(withOld.status, 401);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
