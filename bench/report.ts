/**
 * Rewrites the figures in docs/benchmarks.md from a saved run: tsx bench/report.ts bench/results/<time>.json
 * (what `npm run bench` does at its end).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeReport } from './lib/report.js';
import type { Results } from './run.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: tsx bench/report.ts bench/results/<time>.json');
  process.exit(2);
}
writeReport(
  join(import.meta.dirname, '..', 'docs', 'benchmarks.md'),
  JSON.parse(readFileSync(file, 'utf8')) as Results,
);
