/**
 * Helpers of the image test (`npm run test:image`): running commands with generous limits and clear
 * failures, the stand-in base image, a local mirror of better-sqlite3's prebuilt binary, and starting the
 * image's entrypoint inside its exported file system.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command after this long (default 10 minutes: the machine may be busy). */
  timeoutMs?: number;
  /** Also append everything the command writes to this file (long builds). */
  logFile?: string;
  /** Resolve with the result instead of throwing when the command fails. */
  allowFailure?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to its end; throws with the command, its exit and the tail of its output on failure. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const log = (chunk: Buffer) => {
      if (options.logFile) writeFileSync(options.logFile, chunk, { flag: 'a' });
    };
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      log(chunk);
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      log(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    proc.once('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code === 0 || (options.allowFailure && !timedOut)) {
        resolve(result);
        return;
      }
      const why = timedOut ? `did not finish within ${timeoutMs / 1000} s` : `exited with ${code}`;
      const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
      reject(
        new Error(
          `${command} ${args.join(' ')} ${why}${options.logFile ? ` (full log: ${options.logFile})` : ''}:\n${tail}`,
        ),
      );
    });
  });
}

export function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

// ---------------------------------------------------------------------------------------------------
// The stand-in base image: a Debian root file system (debootstrap) with this machine's own Node.js and
// npm, laid out like the official Node.js images (node and npm in /usr/local/bin, uid 1000 `node`).

/** Bump when the recipe below changes, so that cached stand-ins are rebuilt. */
const STAND_IN_RECIPE = 'stand-in-1';
const STAND_IN_REPOSITORY = 'localhost/dws-encryption-stand-in-base';
const SUITE = 'bookworm';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export const CACHE_DIR = process.env.DWS_IMAGE_CACHE_DIR ?? '/var/cache/dws-encryption';

/** The Debian mirror apt uses on this machine (the only one it may reach). */
function debianMirror(): string {
  if (process.env.DWS_DEBIAN_MIRROR) return process.env.DWS_DEBIAN_MIRROR;
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri =
      /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text);
    if (uri?.[1]) return uri[1];
  }
  return 'http://deb.debian.org/debian';
}

/** A cached tarball of a minimal Debian root file system; made with debootstrap (about a minute or two). */
async function debianRootfsTar(log: (line: string) => void): Promise<string> {
  const mirror = debianMirror();
  const tar = join(CACHE_DIR, `debootstrap-${SUITE}-minbase-${sha256(mirror, SUITE).slice(0, 12)}.tar`);
  if (existsSync(tar)) return tar;
  if (!commandExists('debootstrap')) {
    throw new Error('debootstrap is needed to make the stand-in base image: apt-get install debootstrap');
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'debootstrap-'));
  try {
    const rootfs = join(work, 'rootfs');
    log(`debootstrap ${SUITE} from ${mirror} into ${rootfs} (cached afterwards in ${tar})`);
    await run('debootstrap', ['--variant=minbase', SUITE, rootfs, mirror], {
      timeoutMs: 30 * 60_000,
      logFile: join(work, 'debootstrap.log'),
    });
    rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    await run('tar', ['-C', rootfs, '-cf', `${tar}.partial`, '.']);
    renameSync(`${tar}.partial`, tar);
    return tar;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** This machine's npm package folder (copied into the stand-in beside the node binary). */
function npmPackageDir(): string {
  const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const dir = join(globalRoot, 'npm');
  if (!existsSync(join(dir, 'bin', 'npm-cli.js'))) throw new Error(`npm not found in ${globalRoot}`);
  return dir;
}

/**
 * The stand-in base image's reference, made (or found in podman's store) for this machine: keyed by the
 * Debian root file system, the node binary, npm and the trusted certificates, so a change of any of them
 * makes a new one.
 */
export async function standInBaseImage(log: (line: string) => void): Promise<string> {
  const rootfsTar = await debianRootfsTar(log);
  const nodeBinary = realpathSync(process.execPath);
  const npmDir = npmPackageDir();
  const npmVersion = JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')).version as string;
  const caBundle = existsSync(CA_BUNDLE) ? readFileSync(CA_BUNDLE) : Buffer.alloc(0);
  const key = sha256(STAND_IN_RECIPE, rootfsTar, fileSha256(nodeBinary), npmVersion, caBundle).slice(0, 16);
  const reference = `${STAND_IN_REPOSITORY}:${key}`;
  if ((await run('podman', ['image', 'exists', reference], { allowFailure: true })).code === 0)
    return reference;

  log(
    `making the stand-in base image ${reference} (Debian ${SUITE}, node ${process.version}, npm ${npmVersion})`,
  );
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'stand-in-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    await run('tar', ['-C', rootfs, '-xpf', rootfsTar]);
    mkdirSync(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
    copyFileSync(nodeBinary, join(rootfs, 'usr/local/bin/node'));
    await run('cp', ['-a', npmDir, join(rootfs, 'usr/local/lib/node_modules/npm')]);
    await run('ln', ['-s', '../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm')]);
    await run('ln', ['-s', '../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx')]);
    writeFileSync(join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n', { flag: 'a' });
    writeFileSync(join(rootfs, 'etc/group'), 'node:x:1000:\n', { flag: 'a' });
    mkdirSync(join(rootfs, 'home/node'), { recursive: true });
    await run('chown', ['1000:1000', join(rootfs, 'home/node')]);
    const changes = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["node"]'];
    if (caBundle.length > 0) {
      // This machine reaches the npm registry through a proxy whose certificate authority only its own
      // trust store holds; the stand-in trusts what this machine trusts.
      mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
      writeFileSync(join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), caBundle);
      changes.push(`ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`);
    }
    const tar = join(work, 'rootfs.tar');
    await run('tar', ['-C', rootfs, '-cf', tar, '.']);
    await run('podman', ['import', ...changes.flatMap((c) => ['--change', c]), tar, reference], {
      timeoutMs: 20 * 60_000,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Older stand-ins (another node binary, another recipe) are of no further use.
  const listed = await run('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', STAND_IN_REPOSITORY]);
  for (const old of listed.stdout.split('\n').filter((r) => r && r !== reference)) {
    await run('podman', ['rmi', old], { allowFailure: true });
  }
  return reference;
}

// ---------------------------------------------------------------------------------------------------
// better-sqlite3's prebuilt binary, served from this machine: the image build fetches it exactly as it
// would from GitHub's release files (prebuild-install's `binary_host` mirror setting), instead of
// compiling SQLite for minutes. The module is the one `npm ci` built here for this same node binary.

export interface BinaryMirror {
  url: string;
  /** Paths asked for (to tell a wrong file name from a mirror that was never asked). */
  requests: string[];
  close(): Promise<void>;
}

export async function startBinaryMirror(projectRoot: string, workDir: string): Promise<BinaryMirror> {
  const packageDir = join(projectRoot, 'node_modules/better-sqlite3');
  const version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version as string;
  const module = join(packageDir, 'build/Release/better_sqlite3.node');
  if (!existsSync(module)) throw new Error(`${module} is missing: run npm ci first`);
  const staging = join(workDir, 'better-sqlite3-prebuild');
  mkdirSync(join(staging, 'build/Release'), { recursive: true });
  copyFileSync(module, join(staging, 'build/Release/better_sqlite3.node'));
  const file = `better-sqlite3-v${version}-node-v${process.versions.modules}-linux-${process.arch}.tar.gz`;
  const tarball = join(workDir, file);
  await run('tar', ['-C', staging, '-czf', tarball, 'build']);
  const expected = `/v${version}/${file}`;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url !== expected) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': statSync(tarball).size });
    createReadStream(tarball).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------------
// The image's configuration, and its entrypoint started inside the exported file system.

export interface ImageConfig {
  User?: string;
  Env?: string[];
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  ExposedPorts?: Record<string, unknown>;
  Volumes?: Record<string, unknown>;
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    Retries?: number;
  };
}

export async function imageConfig(reference: string): Promise<ImageConfig> {
  const out = await run('podman', ['image', 'inspect', '--format', '{{json .Config}}', reference]);
  // The health check is kept beside the OCI configuration (which has no such field).
  const health = await run('podman', ['image', 'inspect', '--format', '{{json .HealthCheck}}', reference]);
  const healthcheck = JSON.parse(health.stdout || 'null');
  return { ...(JSON.parse(out.stdout) as ImageConfig), ...(healthcheck ? { Healthcheck: healthcheck } : {}) };
}

export async function imageSize(reference: string): Promise<number> {
  return Number(
    (await run('podman', ['image', 'inspect', '--format', '{{.Size}}', reference])).stdout.trim(),
  );
}

/** The image's `User` as numeric uid and gid, names looked up in the image's own /etc/passwd and /etc/group. */
export function resolveImageUser(rootfs: string, user: string | undefined): { uid: number; gid: number } {
  const [name = 'root', group] = (user ?? '').split(':').map((s) => s || undefined);
  const table = (file: string) =>
    existsSync(join(rootfs, file))
      ? readFileSync(join(rootfs, file), 'utf8')
          .split('\n')
          .map((line) => line.split(':'))
      : [];
  const passwd = table('etc/passwd');
  const entry = passwd.find((f) => f[0] === name || f[2] === name);
  const uid = /^\d+$/.test(name) ? Number(name) : Number(entry?.[2] ?? Number.NaN);
  if (Number.isNaN(uid)) throw new Error(`the image's user ${name} is not in its /etc/passwd`);
  let gid: number;
  if (group === undefined) gid = Number(entry?.[3] ?? uid);
  else if (/^\d+$/.test(group)) gid = Number(group);
  else gid = Number(table('etc/group').find((f) => f[0] === group)?.[2] ?? Number.NaN);
  if (Number.isNaN(gid)) throw new Error(`the image's group ${group} is not in its /etc/group`);
  return { uid, gid };
}

/**
 * Starts a command inside an exported image file system the way a container engine would: its own PID
 * namespace (the command is PID 1 and receives SIGTERM like in a container), a private mount namespace
 * (its /proc, /dev and /data mounts vanish with it, whatever happens to this test), chrooted, as the
 * image's user, with the image's environment and working directory, on this machine's network.
 */
export function spawnInRootfs(options: {
  rootfs: string;
  uid: number;
  gid: number;
  workingDir: string;
  env: Record<string, string>;
  argv: string[];
  /** A host folder mounted at this path (the image's volume). */
  volume?: { host: string; path: string };
}): ChildProcess {
  const { rootfs } = options;
  const script = [
    'set -e',
    'root=$1; userspec=$2; volume=$3; target=$4; shift 4',
    'mount --bind /dev "$root/dev"',
    'if [ -n "$volume" ]; then mount --bind "$volume" "$root$target"; fi',
    'exec chroot --userspec="$userspec" "$root" "$@"',
  ].join('\n');
  const envArgs = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
  // setpriv --pdeathsig: should this test process die without cleaning up, unshare dies with it, and
  // --kill-child takes the namespace's processes (and so its mounts) along.
  return spawn(
    'setpriv',
    [
      '--pdeathsig',
      'SIGKILL',
      'unshare',
      '--mount',
      '--pid',
      '--fork',
      '--kill-child=SIGKILL',
      `--mount-proc=${join(rootfs, 'proc')}`,
      '--',
      'sh',
      '-c',
      script,
      'sh',
      rootfs,
      `${options.uid}:${options.gid}`,
      options.volume?.host ?? '',
      options.volume?.path ?? '',
      '/usr/bin/env',
      '-i',
      '-C',
      options.workingDir,
      ...envArgs,
      ...options.argv,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** uid and gid lines (real, effective, saved, file system) of every process whose root is `rootfs`. */
export function processesInRootfs(
  rootfs: string,
): { pid: number; uids: number[]; gids: number[]; cmdline: string }[] {
  const root = realpathSync(rootfs);
  const found: { pid: number; uids: number[]; gids: number[]; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (realpathSync(`/proc/${name}/root`) !== root) continue;
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ids = (field: string) =>
        (new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(name), uids: ids('Uid'), gids: ids('Gid'), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** SIGKILL to every process whose root is `rootfs` (a service left running, a health check). */
export function killProcessesInRootfs(rootfs: string): void {
  if (!existsSync(rootfs)) return;
  for (const { pid } of processesInRootfs(rootfs)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
