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
// Node 20's --test-timeout bounds each test file as a whole (the runner's test for the file), and each
// test inside it: it is a hang guard, set far above what a loaded machine needs. The tests themselves
// wait by condition with their own deadlines, which say what did not happen.
const FILE_TIMEOUT_MS = 600_000;
// Files that build and install the package (npm pack and install, a native addon to compile; the
// documented examples run against the built package) take minutes on a busy machine: they run after
// the others, with a longer guard.
const SLOW = ['test/package/'];
const SLOW_FILE_TIMEOUT_MS = 1_200_000;
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
  FILE_TIMEOUT_MS,
);
const slowStatus = runFiles(files.filter(isSlow), SLOW_FILE_TIMEOUT_MS);
process.exit(status || slowStatus);
