#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node's own test runner (TypeScript through tsx).
// Node 20's runner has no glob support, so the file list is collected here.
// Usage: npm test [-- <path-substring> ...]  (filters files by substring)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Files that build and install the package (npm pack and install, a native addon to compile; the
// documented examples run against the built package) take minutes on a
// busy machine: they run after the others, with a longer timeout for the file as a whole.
const SLOW = ['test/package/'];
const isSlow = (f) => SLOW.some((prefix) => f.replaceAll('\\', '/').startsWith(prefix));

function runFiles(list, timeoutMs) {
  if (list.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
      `--test-timeout=${timeoutMs}`,
      ...list,
    ],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
}

const status = runFiles(
  files.filter((f) => !isSlow(f)),
  120_000,
);
const slowStatus = runFiles(files.filter(isSlow), 1_200_000);
process.exit(status || slowStatus);
