/** The bootstrap credential: generated and stored once when not configured, reused after a restart. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
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

test('npm start prints the generated credential once, ready to paste', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-bootstrap-print-'));
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no listening line: ${out}`));
      }, 20_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('dws-encryption listening')) {
          // give the credential lines a moment, then stop gracefully
          setTimeout(() => child.kill('SIGTERM'), 100);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
  try {
    const first = await run();
    assert.match(first, /export HUAWEICLOUD_SDK_AK=[A-Z0-9]{20}/);
    assert.match(first, /export HUAWEICLOUD_SDK_SK=\S+/);
    assert.match(first, /export HUAWEICLOUD_SDK_PROJECT_ID=[0-9a-f]{32}/);
    const second = await run();
    assert.doesNotMatch(
      second,
      /HUAWEICLOUD_SDK_SK=/,
      'the secret is shown only on the start that generated it',
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
