/**
 * Builds what a test needs from dist/ when it is missing or older than its sources (a dev edit without
 * a build); under CI `npm ci` has just built it, so nothing runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The newest modification time of a file or of anything under a directory (node_modules skipped). */
export function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

function run(args: string[]): void {
  const result = spawnSync(process.execPath, args, { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
}

/** dist/console, from console/ (vite). */
export function ensureConsoleBuilt(): void {
  const index = join(PACKAGE_ROOT, 'dist', 'console', 'index.html');
  const sources = Math.max(
    newestMtime(join(PACKAGE_ROOT, 'console')),
    newestMtime(join(PACKAGE_ROOT, 'src', 'crypto', 'signing-canonical.ts')),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  run([
    join(PACKAGE_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
    'build',
    'console',
    '--logLevel',
    'warn',
  ]);
}

/** dist/src, from src/ (tsc), and dist/console: the package as `npm pack` ships it. */
export function ensureBuilt(): void {
  const marker = join(PACKAGE_ROOT, 'dist', 'src', 'testing', 'index.js');
  const sources = Math.max(
    newestMtime(join(PACKAGE_ROOT, 'src')),
    newestMtime(join(PACKAGE_ROOT, 'tsconfig.json')),
  );
  if (!existsSync(marker) || statSync(marker).mtimeMs < sources) {
    run([join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  }
  ensureConsoleBuilt();
}
