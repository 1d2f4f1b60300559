/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl in a temporary directory, on a free port), for
 * fault tests that stop it, reject logins or change its settings: the shared server on 5432 is never
 * touched. Under root the server runs as the `postgres` system user (PostgreSQL refuses to run as root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './child.js';

export interface OwnPostgres {
  readonly port: number;
  /** URL of database `name` (default `postgres`) as the trusted superuser `postgres`. */
  url(name?: string): string;
  /** Appends `line` to pg_hba.conf above the trust rules and reloads (e.g. a `reject` rule). */
  setHba(lines: string[]): void;
  start(): void;
  /** Fast shutdown (connections are terminated). */
  stop(): void;
  /** Stops the server and removes its directory. */
  destroy(): void;
}

function which(program: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Why an own server cannot be started here (no initdb), or false. */
export function ownPostgresSkip(): string | false {
  return which('initdb') && which('pg_ctl') ? false : 'initdb/pg_ctl not on PATH';
}

const asRoot = process.getuid?.() === 0;

function run(program: string, args: string[]): void {
  const command = asRoot ? 'runuser' : program;
  const argv = asRoot ? ['-u', 'postgres', '--', program, ...args] : args;
  execFileSync(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: tmpdir() });
}

export async function startOwnPostgres(settings: Record<string, string> = {}): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'dws-own-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c shared_buffers=16MB',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const hbaFile = join(data, 'pg_hba.conf');
  const trust = ['local all all trust', 'host all all 127.0.0.1/32 trust'];
  const server: OwnPostgres = {
    port,
    url: (name = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${name}`,
    setHba(lines) {
      writeFileSync(hbaFile, [...lines, ...trust, ''].join('\n'));
      run('pg_ctl', ['-D', data, 'reload', '-s']);
    },
    start() {
      run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-s', 'start']);
    },
    stop() {
      if (existsSync(join(data, 'postmaster.pid')))
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-s', 'stop']);
    },
    destroy() {
      try {
        if (existsSync(join(data, 'postmaster.pid')))
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-s', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  writeFileSync(hbaFile, [...trust, ''].join('\n'));
  if (asRoot) execFileSync('chown', ['postgres', hbaFile]);
  server.start();
  return server;
}
