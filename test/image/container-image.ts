/**
 * `npm run test:image` (not part of `npm test`: it needs root, podman and minutes): builds the Dockerfile
 * and runs the image.
 *
 * The base is the Dockerfile's default when podman can pull it, DWS_IMAGE_BASE when set, and otherwise a
 * stand-in made here (a debootstrap Debian root file system with this machine's Node.js; see tools.ts),
 * both cached across runs. Where `podman run` works the image runs in a container; where it does not (a
 * sandbox that forbids setrlimit), the image's file system is exported and its entrypoint started in it
 * as the image's user (chroot in private PID and mount namespaces). DWS_IMAGE_RUNNER=podman|chroot forces
 * one. Everything started is stopped and removed at the end; the built image stays tagged
 * localhost/dws-encryption:image-test (it is the build cache of the next run).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/child.js';
import { clusterBody, signedCall, TEST_AK, TEST_PROJECT_ID, TEST_SK, waitForJob } from '../helpers/server.js';
import {
  type BinaryMirror,
  CACHE_DIR,
  commandExists,
  type ImageConfig,
  imageConfig,
  imageSize,
  killProcessesInRootfs,
  processesInRootfs,
  resolveImageUser,
  run,
  spawnInRootfs,
  standInBaseImage,
  startBinaryMirror,
} from './tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_BASE = 'docker.io/library/node:22-slim';
const IMAGE = 'localhost/dws-encryption:image-test';
/** Generous: the machine may be busy; a slow start is not a failure, only a start that never comes. */
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 90_000;

const log = (line: string) => console.error(`[image] ${line}`);
const timings: string[] = [];
async function timed<T>(what: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await action();
  timings.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

let work = '';
let rootfs = '';
let config: ImageConfig | undefined;
let runner: 'podman' | 'chroot' = 'chroot';
const started: Container[] = [];

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the image test needs root (podman build, chroot and namespaces)');
  assert.ok(commandExists('podman'), 'podman is needed: apt-get install podman');
  removeEarlierRuns();
  // The folder names this process, so that a later run can tell a crashed run's leftovers from a live one.
  work = mkdtempSync(join(tmpdir(), `dws-image-test-${process.pid}-`));
  rootfs = join(work, 'rootfs');
});

after(async () => {
  for (const container of started) await container.remove();
  if (work) {
    // Never delete through a mount (the exported /dev is bind-mounted only inside the test's namespaces).
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    if (mounts.includes(work)) throw new Error(`${work} still has mounts; left in place:\n${mounts}`);
    rmSync(work, { recursive: true, force: true });
  }
  if (timings.length > 0) log(`durations: ${timings.join('; ')}`);
});

/**
 * A run that was killed before its clean-up left its folder and possibly a running service (its uid
 * change cleared the parent-death signal): both go, when the process that made them is gone.
 */
function removeEarlierRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = /^dws-image-test-(\d+)-/.exec(name)?.[1];
    if (!owner || existsSync(`/proc/${owner}`)) continue;
    const dir = join(tmpdir(), name);
    killProcessesInRootfs(join(dir, 'rootfs'));
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir))
      rmSync(dir, { recursive: true, force: true });
  }
}

async function chooseBase(): Promise<{ base: string; standIn: boolean }> {
  if (process.env.DWS_IMAGE_BASE) return { base: process.env.DWS_IMAGE_BASE, standIn: false };
  const exists = await run('podman', ['image', 'exists', DEFAULT_BASE], { allowFailure: true });
  if (exists.code === 0) return { base: DEFAULT_BASE, standIn: false };
  const pulled = await run('podman', ['pull', '-q', DEFAULT_BASE], {
    allowFailure: true,
    timeoutMs: 15 * 60_000,
  });
  if (pulled.code === 0) return { base: DEFAULT_BASE, standIn: false };
  log(`${DEFAULT_BASE} cannot be pulled (${pulled.stderr.trim().split('\n').pop()}): using a stand-in base`);
  return { base: await standInBaseImage(log), standIn: true };
}

function requireConfig(): ImageConfig {
  assert.ok(config, 'the image was not built (see the first test)');
  return config;
}

test('the Dockerfile builds (multi-stage, on the chosen base)', async () => {
  const { base, standIn } = await timed('base image', chooseBase);
  log(`base image: ${base}`);
  const previous = await run('podman', ['image', 'inspect', '--format', '{{.Id}}', IMAGE], {
    allowFailure: true,
  });
  // Kept after the run (the error shows its tail): the whole build output of the last run.
  mkdirSync(CACHE_DIR, { recursive: true });
  const logFile = join(CACHE_DIR, 'image-test-build.log');
  writeFileSync(logFile, '');
  const buildArgs = ['--build-arg', `BASE=${base}`];
  let mirror: BinaryMirror | undefined;
  // On the stand-in, better-sqlite3's prebuilt binary comes from this machine (GitHub is out of reach);
  // BETTER_SQLITE3_BINARY_HOST in the environment names another mirror.
  if (process.env.BETTER_SQLITE3_BINARY_HOST) {
    buildArgs.push('--build-arg', `BETTER_SQLITE3_BINARY_HOST=${process.env.BETTER_SQLITE3_BINARY_HOST}`);
  } else if (standIn) {
    mirror = await startBinaryMirror(ROOT, work);
    buildArgs.push('--build-arg', `BETTER_SQLITE3_BINARY_HOST=${mirror.url}`);
  }
  try {
    // --format docker keeps HEALTHCHECK (the OCI image format has no such field); --isolation chroot is
    // what podman can do in this sandbox (and works everywhere). --layers=false: no intermediate images
    // pile up run after run (the build stage is 700 MB and new whenever a source changes); the build
    // downloads the dependencies each time instead (about 20 s).
    await timed('podman build', () =>
      run(
        'podman',
        [
          'build',
          '--isolation',
          'chroot',
          '--format',
          'docker',
          '--layers=false',
          ...buildArgs,
          '-t',
          IMAGE,
          '-f',
          'Dockerfile',
          '.',
        ],
        { cwd: ROOT, timeoutMs: 45 * 60_000, logFile },
      ),
    );
  } finally {
    await mirror?.close();
  }
  if (mirror)
    log(`better-sqlite3 binary mirror requests: ${mirror.requests.join(', ') || 'none (cached layer)'}`);
  // The previous run's image, replaced by this one, is removed (no layers are kept: see the build).
  const current = await run('podman', ['image', 'inspect', '--format', '{{.Id}}', IMAGE]);
  if (previous.code === 0 && previous.stdout.trim() !== current.stdout.trim()) {
    await run('podman', ['rmi', previous.stdout.trim()], { allowFailure: true });
  }
  config = await imageConfig(IMAGE);
  const size = await imageSize(IMAGE);
  const baseSize = await imageSize(base);
  log(
    `image size: ${(size / 1e6).toFixed(0)} MB (base ${(baseSize / 1e6).toFixed(0)} MB + service ${((size - baseSize) / 1e6).toFixed(0)} MB)`,
  );
  timings.push(`image size ${(size / 1e6).toFixed(0)} MB`);
});

test("the image's configuration: non-root user, port 8080 on all interfaces, /data volume, health check on /readyz", () => {
  const c = requireConfig();
  const user = c.User ?? '';
  assert.ok(user !== '' && !/^(root|0)(:|$)/.test(user), `the image runs as a non-root user, not '${user}'`);
  assert.match(user, /^\d+(:\d+)?$/, 'a numeric user, so that orchestrators can check runAsNonRoot');
  assert.ok(c.ExposedPorts && '8080/tcp' in c.ExposedPorts, 'EXPOSE 8080');
  assert.ok(c.Volumes && '/data' in c.Volumes, 'VOLUME /data');
  const env = Object.fromEntries(
    (c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  assert.equal(env.HOST, '0.0.0.0');
  assert.equal(env.PORT, '8080');
  assert.equal(env.DATA_DIR, '/data');
  assert.equal(env.NODE_ENV, 'production');
  const check = c.Healthcheck?.Test ?? [];
  assert.ok(['CMD', 'CMD-SHELL'].includes(check[0] ?? ''), `a HEALTHCHECK: ${JSON.stringify(c.Healthcheck)}`);
  assert.match(check.join(' '), /\/readyz/);
});

test('the image holds the built service and its production dependencies only: no dev dependency, no test', async () => {
  requireConfig();
  const exportName = `dws-image-test-export-${process.pid}`;
  const tar = join(work, 'image.tar');
  await run('podman', ['create', '--name', exportName, '--no-healthcheck', IMAGE]);
  try {
    await timed('export', () => run('podman', ['export', '-o', tar, exportName]));
  } finally {
    await run('podman', ['rm', '-f', exportName], { allowFailure: true });
  }
  mkdirSync(rootfs);
  await run('tar', ['-C', rootfs, '--numeric-owner', '-xpf', tar]);
  rmSync(tar);

  const app = join(rootfs, 'app');
  assert.deepEqual(readdirSync(app).sort(), ['dist', 'node_modules', 'package.json']);
  assert.deepEqual(
    readdirSync(join(app, 'dist')).sort(),
    ['console', 'src'],
    'dist holds the service and console only',
  );
  const ours = walk(app, (path) => !path.includes('/node_modules/'));
  const testFiles = ours.filter((p) =>
    /(^|\/)(test|tests|bench)(\/|$)|\.test\.[cm]?[jt]s$|(?<!\.d)\.ts$/.test(relative(app, p)),
  );
  assert.deepEqual(
    testFiles,
    [],
    'no test, bench or TypeScript source file (type declarations are part of the package)',
  );
  assert.ok(
    existsSync(join(app, 'dist/src/cli/main.js')) && existsSync(join(app, 'dist/console/index.html')),
    "existsSync(join(app, 'dist/src/cli/main.js')) && existsSync(join(app, 'dist/console/index.html'))",
  );

  // Every installed package must be a production one according to the lockfile.
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<
    string,
    { dev?: boolean }
  >;
  const installed = packageDirs(join(app, 'node_modules')).map((dir) => relative(app, dir));
  const notInLock = installed.filter((p) => !(p in lock));
  const dev = installed.filter((p) => lock[p]?.dev);
  assert.deepEqual(notInLock, [], 'packages the lockfile does not know');
  assert.deepEqual(dev, [], 'dev dependencies in the image');
  for (const name of Object.keys(manifest.dependencies)) {
    assert.ok(existsSync(join(app, 'node_modules', name, 'package.json')), `dependency ${name} missing`);
  }
  const sqlite = join(app, 'node_modules/better-sqlite3');
  assert.ok(existsSync(join(sqlite, 'build/Release/better_sqlite3.node')), 'the compiled SQLite module');
  assert.ok(!existsSync(join(sqlite, 'deps')) && !existsSync(join(sqlite, 'src')), 'no SQLite C sources');

  const { uid } = resolveImageUser(rootfs, requireConfig().User);
  assert.equal(statSync(join(rootfs, 'data')).uid, uid, '/data belongs to the service user');
  assert.equal(
    statSync(join(app, 'dist/src/main.js')).uid,
    0,
    'the service code is not writable by the service user',
  );
});

test('the container serves: /readyz, signed KMS and DWS calls, encrypt-info; not root; health check; clean stop', async () => {
  requireConfig();
  runner = await chooseRunner();
  log(`runner: ${runner}`);
  const container = await timed('start (bootstrap credential set)', () =>
    startContainer({
      DWS_BOOTSTRAP_AK: TEST_AK,
      DWS_BOOTSTRAP_SK: TEST_SK,
      DWS_BOOTSTRAP_PROJECT_ID: TEST_PROJECT_ID,
      DWS_ENCRYPT_JOB_SECONDS: '0.5',
    }),
  );
  const ready = await fetch(`${container.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(((await ready.json()) as { store?: string }).store, 'sqlite');

  const p = TEST_PROJECT_ID;
  const service = {
    projectId: p,
    call: (method: string, path: string, body?: unknown) =>
      signedCall(container.url, method, path, body, { ak: TEST_AK, sk: TEST_SK }),
  };
  const key = await service.call('POST', `/v1.0/${p}/kms/create-key`, {
    key_alias: 'image',
    key_spec: 'AES_256',
  });
  assert.equal(key.status, 200, key.text);
  const keyId = key.body.key_info.key_id;
  const cluster = await service.call('POST', `/v2/${p}/clusters`, clusterBody('image-test'));
  assert.equal(cluster.status, 200, cluster.text);
  const clusterId = cluster.body.cluster.id;
  const job = await service.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, {
    encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
  });
  assert.equal(job.status, 200, job.text);
  assert.equal((await waitForJob(service, job.body.job_id, 120_000)).status, 'SUCCESS');
  const info = await service.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`);
  assert.equal(info.status, 200, info.text);
  assert.equal(info.body.master_key_id, keyId);
  assert.equal(info.body.cluster_id, clusterId);
  const unsigned = await fetch(`${container.url}/v1/${p}/clusters/${clusterId}/encrypt-info`);
  assert.equal(unsigned.status, 401, 'an unsigned request is refused');

  const processes = await container.processes();
  assert.ok(processes.length > 0, 'the container has processes');
  for (const proc of processes) {
    assert.ok(
      proc.uids.every((id) => id !== 0) && proc.gids.every((id) => id !== 0),
      `not root: ${proc.cmdline} has uids ${proc.uids} gids ${proc.gids}`,
    );
  }
  assert.equal(await container.healthcheck(), 0, "the image's HEALTHCHECK passes on a ready instance");

  const exit = await container.stop();
  assert.equal(exit, 0, `SIGTERM stops the service cleanly:\n${await container.output()}`);
  if (container.volume) {
    const db = join(container.volume, 'dws-encryption.db');
    assert.ok(existsSync(db), 'the data went to the /data volume');
    assert.equal(statSync(db).uid, resolveImageUser(rootfs, requireConfig().User).uid);
  }
});

test('without DWS_BOOTSTRAP_* the generated credential is written to /data (no terminal), named in the log, and works', async () => {
  requireConfig();
  const container = await timed('start (generated credential)', () => startContainer({}));
  const output = await container.output();
  // Without a terminal the secret never goes to the output (a log collector may read it), only its file.
  const logged = /"file":"([^"]+)"[^\n]*bootstrap credential generated/.exec(output)?.[1];
  assert.equal(logged, '/data/bootstrap-credential.txt', `the log names the credential file:\n${output}`);
  assert.doesNotMatch(output, /HUAWEICLOUD_SDK_SK=/);
  const text = await container.readFile(logged);
  const value = (name: string) => new RegExp(`^export ${name}=(\\S+)$`, 'm').exec(text)?.[1] ?? '';
  const credential = { ak: value('HUAWEICLOUD_SDK_AK'), sk: value('HUAWEICLOUD_SDK_SK') };
  const projectId = value('HUAWEICLOUD_SDK_PROJECT_ID');
  assert.match(projectId, /^[0-9a-f]{32}$/);
  const key = await signedCall(
    container.url,
    'POST',
    `/v1.0/${projectId}/kms/create-key`,
    { key_alias: 'generated' },
    credential,
  );
  assert.equal(key.status, 200, key.text);
  assert.equal(await container.stop(), 0);
});

// ---------------------------------------------------------------------------------------------------

interface Container {
  url: string;
  /** The host folder behind /data (chroot runner). */
  volume?: string;
  output(): Promise<string>;
  /** A file of the running container, read as the service user would. */
  readFile(path: string): Promise<string>;
  processes(): Promise<{ uids: number[]; gids: number[]; cmdline: string }[]>;
  /** Runs the image's HEALTHCHECK command; its exit code. */
  healthcheck(): Promise<number | null>;
  /** SIGTERM, then the exit code once it stopped. */
  stop(): Promise<number | null>;
  /** Whatever state it is in: gone afterwards. */
  remove(): Promise<void>;
}

async function chooseRunner(): Promise<'podman' | 'chroot'> {
  const forced = process.env.DWS_IMAGE_RUNNER;
  if (forced === 'podman' || forced === 'chroot') return forced;
  const probe = await run('podman', ['run', '--rm', '--entrypoint', 'node', IMAGE, '-e', '0'], {
    allowFailure: true,
    timeoutMs: 5 * 60_000,
  });
  if (probe.code === 0) return 'podman';
  log(
    `podman run does not work here (${probe.stderr.trim().split('\n').pop()}): running the exported file system`,
  );
  return 'chroot';
}

function startContainer(env: Record<string, string>): Promise<Container> {
  return runner === 'podman' ? startWithPodman(env) : startInRootfs(env);
}

function imageEnv(c: ImageConfig): Record<string, string> {
  return Object.fromEntries(
    (c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

async function waitReady(url: string, exited: () => boolean, output: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited()) throw new Error(`the container exited while starting:\n${await output()}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`the container was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${await output()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function startInRootfs(extraEnv: Record<string, string>): Promise<Container> {
  const c = requireConfig();
  assert.ok(
    existsSync(join(rootfs, 'app')),
    'the image file system was not exported (see the previous test)',
  );
  const { uid, gid } = resolveImageUser(rootfs, c.User);
  const volume = mkdtempSync(join(work, 'data-'));
  chownSync(volume, uid, gid);
  // This machine's network is shared (no network namespace), so the service takes a free port here where
  // a container engine would map 8080.
  const port = await freePort();
  const env = { ...imageEnv(c), ...extraEnv, PORT: String(port) };
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  const common = { rootfs, uid, gid, workingDir: c.WorkingDir || '/', env };
  const proc = spawnInRootfs({ ...common, argv, volume: { host: volume, path: '/data' } });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = exitOf(proc);
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  const container: Container = {
    url: `http://127.0.0.1:${port}`,
    volume,
    output: async () => output,
    async readFile(path) {
      // /data is the volume folder; anything else is in the exported file system.
      const host = path.startsWith('/data/') ? join(volume, path.slice('/data/'.length)) : join(rootfs, path);
      const stat = statSync(host);
      assert.equal(stat.uid, uid, `${path} belongs to the service user`);
      return readFileSync(host, 'utf8');
    },
    processes: async () => processesInRootfs(rootfs),
    async healthcheck() {
      const test = c.Healthcheck?.Test ?? [];
      const command = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1] ?? ''] : test.slice(1);
      assert.ok(command.length > 0, `the image has no health check command: ${JSON.stringify(test)}`);
      const check = spawnInRootfs({ ...common, argv: command });
      let checkOutput = '';
      check.stdout?.on('data', (chunk: Buffer) => {
        checkOutput += chunk.toString();
      });
      check.stderr?.on('data', (chunk: Buffer) => {
        checkOutput += chunk.toString();
      });
      const timer = setTimeout(() => check.kill('SIGKILL'), 120_000);
      const result = await exitOf(check);
      clearTimeout(timer);
      if (result !== 0) log(`health check exited with ${result}: ${checkOutput}`);
      return result;
    },
    async stop() {
      // The entrypoint is PID 1 of its namespace, the one child of unshare: SIGTERM it as an engine would.
      const children = readChildren(proc.pid);
      for (const pid of children) process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        killProcessesInRootfs(rootfs);
        proc.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async remove() {
      // The entrypoint changed its uid, which clears the parent-death signal unshare's --kill-child set:
      // every process inside the file system is killed by hand, then unshare.
      killProcessesInRootfs(rootfs);
      if (!exited) proc.kill('SIGKILL');
      await exit;
    },
  };
  started.push(container);
  await waitReady(container.url, () => exited, container.output);
  return container;
}

function exitOf(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode);
    else proc.once('exit', (code) => resolve(code));
  });
}

function readChildren(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function startWithPodman(extraEnv: Record<string, string>): Promise<Container> {
  const port = await freePort();
  const name = `dws-image-test-${process.pid}-${started.length}`;
  const envArgs = Object.entries(extraEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await run('podman', ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, ...envArgs, IMAGE]);
  const inspect = async (format: string) =>
    (await run('podman', ['inspect', '--format', format, name], { allowFailure: true })).stdout.trim();
  const output = async () => {
    const logs = await run('podman', ['logs', name], { allowFailure: true });
    return `${logs.stdout}${logs.stderr}`;
  };
  const container: Container = {
    url: `http://127.0.0.1:${port}`,
    output,
    async readFile(path) {
      return (await run('podman', ['exec', name, 'cat', path])).stdout;
    },
    async processes() {
      const pid = await inspect('{{.State.Pid}}');
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const ids = (field: string) =>
        (new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
      return [{ uids: ids('Uid'), gids: ids('Gid'), cmdline: `container ${name} (pid ${pid})` }];
    },
    async healthcheck() {
      return (await run('podman', ['healthcheck', 'run', name], { allowFailure: true, timeoutMs: 120_000 }))
        .code;
    },
    async stop() {
      await run('podman', ['stop', '-t', String(STOP_TIMEOUT_MS / 1000), name], {
        timeoutMs: STOP_TIMEOUT_MS * 2,
      });
      const code = await inspect('{{.State.ExitCode}}');
      return code === '' ? null : Number(code);
    },
    async remove() {
      await run('podman', ['rm', '-f', '-v', name], { allowFailure: true });
    },
  };
  started.push(container);
  await waitReady(container.url, () => false, output);
  return container;
}

/** Every file below `dir` (symbolic links not followed) whose path passes `keep`. */
function walk(dir: string, keep: (path: string) => boolean): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (!keep(`${path}/`)) continue;
    if (entry.isDirectory()) files.push(...walk(path, keep));
    else files.push(path);
  }
  return files;
}

/** Every package folder in a node_modules tree (scoped and nested ones included). */
function packageDirs(nodeModules: string): string[] {
  const dirs: string[] = [];
  if (!existsSync(nodeModules)) return dirs;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) {
      for (const scoped of readdirSync(path, { withFileTypes: true })) {
        if (!scoped.isDirectory()) continue;
        dirs.push(join(path, scoped.name), ...packageDirs(join(path, scoped.name, 'node_modules')));
      }
    } else {
      dirs.push(path, ...packageDirs(join(path, 'node_modules')));
    }
  }
  return dirs;
}
