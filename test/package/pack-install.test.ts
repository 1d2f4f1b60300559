/**
 * The installable package: `npm pack` (the built dist/, no build at install time), installed into a fresh
 * temporary project beside the official SDK core, where a user's test runs against `dws-encryption/testing`:
 * two instances, a seed, an official SDK read, a 503 fault seen once, a conversion failing at 40 %, a
 * state round trip. Also the bin and the type declarations of the exports map.
 *
 * The install takes its packages from the npm registry (npm's cache first); better-sqlite3 builds its
 * native addon there, which takes a minute or two on a busy machine: hence the long timeout. Nothing in
 * the user's test depends on timing (jobs are finished with completeJobs()).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureBuilt, PACKAGE_ROOT } from '../helpers/build.js';

const run = promisify(execFile);
/** The environment of a test run of its own (without this runner's NODE_TEST_CONTEXT, which would swallow its report). */
const { NODE_TEST_CONTEXT: _inherited, ...ownEnv } = process.env;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const work = mkdtempSync(join(tmpdir(), 'dws-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The version of the SDK core this repository tests with (from its lock file). */
function sdkCoreVersion(): string {
  const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package-lock.json'), 'utf8'));
  return lock.packages['node_modules/@huaweicloud/huaweicloud-sdk-core'].version;
}

const USER_TEST = `
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import { startDws } from 'dws-encryption/testing';
import { loadConfig, signRequest, startServer } from 'dws-encryption';

test('the root entry of the exports map', () => {
  for (const f of [loadConfig, signRequest, startServer]) assert.equal(typeof f, 'function');
});

function sdk(dws) {
  const credentials = new BasicCredentials().withAk(dws.ak).withSk(dws.sk).withProjectId(dws.projectId);
  const client = new HcClient(new DefaultHttpClient({}, [dws.endpoint])).withEndpoints([dws.endpoint]).withCredential(credentials);
  return (method, url, data) =>
    client.sendRequest({ method, url, contentType: 'application/json', pathParams: { project_id: dws.projectId }, queryParams: {}, headers: {}, ...(data ? { data } : {}) });
}

test('a user of the package', async () => {
  const one = await startDws();
  const two = await startDws();
  try {
    const ids = await one.seed({
      keys: [{ alias: 'k1', spec: 'AES_256' }],
      clusters: [
        { name: 'c1', encryption: { key: 'k1', crypt_algorithm: 'generalCipher', last_rotate_key_time: '2026-01-02 03:04:05' } },
        { name: 'c2' },
      ],
    });
    const call = sdk(one);
    const infoUrl = '/v1/{project_id}/clusters/' + ids.clusters.c1 + '/encrypt-info';
    const info = await call('GET', infoUrl);
    assert.equal(info.crypt_algorithm, 'generalCipher');
    assert.equal(info.master_key_name, 'k1');
    // The other instance shares nothing.
    assert.equal((await sdk(two)('GET', '/v1.0/{project_id}/clusters')).count, 0);

    one.faults.add({ operation: 'ShowClusterEncryptInfo', count: 1, error: { status: 503 } });
    await assert.rejects(call('GET', infoUrl), (error) => error.httpStatusCode === 503);
    assert.equal((await call('GET', infoUrl)).crypt_algorithm, 'generalCipher');

    one.faults.add({
      operation: 'EncryptCluster',
      job: { fail_at_percent: 40, failed_code: 'EncryptCluster-fail:DWS.0599', failed_detail: 'DWS.0599:chosen' },
    });
    const { job_id } = await call('POST', '/v2/{project_id}/clusters/' + ids.clusters.c2 + '/encrypt', {
      encrypt: { master_key_id: ids.keys.k1, crypt_algorithm: 'generalCipher' },
    });
    await one.completeJobs();
    const job = await call('GET', '/v1.0/{project_id}/job/' + job_id);
    assert.equal(job.status, 'FAIL');
    assert.equal(job.progress, '40%');
    assert.equal(job.failed_code, 'EncryptCluster-fail:DWS.0599');

    const answers = async () => [
      await call('GET', '/v1.0/{project_id}/clusters'),
      await call('GET', infoUrl),
      await call('GET', '/v1.0/{project_id}/job/' + job_id),
      await call('POST', '/v1.0/{project_id}/kms/list-keys', {}),
    ];
    const before = await answers();
    const snapshot = await one.exportState();
    await one.reset();
    assert.equal((await call('GET', '/v1.0/{project_id}/clusters')).count, 0);
    await one.importState(snapshot);
    assert.deepEqual(await answers(), before);
    console.log('USER TEST DONE');
  } finally {
    await one.close();
    await two.close();
  }
});
`;

test('npm pack, install into a fresh project, and a user test there', {
  timeout: INSTALL_TIMEOUT_MS,
}, async () => {
  ensureBuilt();
  // --ignore-scripts: dist/ was just checked to be current (prepack would build it again).
  const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: PACKAGE_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(info, 'info');
  const files = info.files.map((f) => f.path);
  assert.ok(files.includes('dist/src/testing/index.js'), "files.includes('dist/src/testing/index.js')");
  assert.ok(files.includes('dist/src/testing/index.d.ts'), "files.includes('dist/src/testing/index.d.ts')");
  assert.ok(files.includes('dist/console/index.html'), "files.includes('dist/console/index.html')");
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'sources and tests stay out');

  const project = join(work, 'user-project');
  rmSync(project, { recursive: true, force: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }),
  );
  await run(
    NPM,
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      join(work, info.filename),
      `@huaweicloud/huaweicloud-sdk-core@${sdkCoreVersion()}`,
    ],
    { cwd: project, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  );
  const installed = join(project, 'node_modules', 'dws-encryption');
  assert.ok(
    existsSync(join(installed, 'dist', 'src', 'testing', 'index.d.ts')),
    'types of dws-encryption/testing',
  );

  // The bin works from the install.
  const version = await run(join(project, 'node_modules', '.bin', 'dws-encryption'), ['--version'], {
    cwd: project,
  });
  assert.equal(
    version.stdout.trim(),
    JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version,
  );

  writeFileSync(join(project, 'user.test.mjs'), USER_TEST);
  const result = await run(process.execPath, ['--test', '--test-reporter=spec', 'user.test.mjs'], {
    cwd: project,
    timeout: 5 * 60_000,
    env: ownEnv,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`the user's test failed:\n${error.stdout}\n${error.stderr}`);
  });
  assert.match(result.stdout, /USER TEST DONE/);
  assert.match(result.stdout, /pass 2/);
  assert.match(result.stdout, /fail 0/);

  await globalInstallServes(join(work, info.filename), project);
});

/**
 * \`npm install -g ./dws-encryption-*.tgz && dws-encryption serve\`, in a prefix of its own. The install
 * runs no script (--ignore-scripts): the package needs no build step. better-sqlite3's own script (its
 * native addon) is skipped with it, so the addon the project install just built (same version, same
 * Node.js) is put in place instead of compiling it a second time.
 */
async function globalInstallServes(tarball: string, project: string): Promise<void> {
  const prefix = join(work, 'global');
  await run(
    NPM,
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      tarball,
    ],
    { cwd: work, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  );
  const installed = join(prefix, 'lib', 'node_modules', 'dws-encryption');
  assert.ok(existsSync(join(installed, 'dist', 'console', 'index.html')), 'the built console, as packed');
  const addon = join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const globalAddon = join(installed, 'node_modules', addon);
  mkdirSync(dirname(globalAddon), { recursive: true });
  copyFileSync(join(project, 'node_modules', addon), globalAddon);

  const dataDir = join(work, 'global-data');
  mkdirSync(dataDir, { recursive: true });
  const { NODE_OPTIONS: _options, ...env } = ownEnv;
  const child = spawn(join(prefix, 'bin', 'dws-encryption'), ['serve'], {
    cwd: work,
    env: { ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  try {
    let url: string | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'dws-encryption listening') {
        url = entry.url;
        break;
      }
    }
    child.stdout.resume(); // the request lines that follow are not read
    assert.ok(url, `dws-encryption serve did not start: ${stderr}`);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    const page = await fetch(`${url}/console/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">/);
    assert.ok(existsSync(join(dataDir, 'dws-encryption.db')), 'the default store, in DATA_DIR');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}
