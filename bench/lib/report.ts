/**
 * Writes a run's figures into docs/benchmarks.md, between `<!-- bench:<store> -->` and
 * `<!-- /bench:<store> -->` markers, so that the hand-written parts of the page stay and a run
 * without PostgreSQL keeps the last PostgreSQL figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ReadScenario, Results } from '../run.js';

/** DATABASE_POOL_SIZE of each PostgreSQL ablation instance (bench/run.ts): 8 of them share the server's connections. */
export const ABLATE_PG_POOL = 6;

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');

function readTable(reads: ReadScenario[]): string[] {
  const lines = [
    '| scenario | LOG_LEVEL | ceiling req/s | service req/s | service / ceiling (per round) | p50 ms | p99 ms, worst round (per round) | non-2xx | peak RSS MiB | CPU µs/request ceiling / service |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of reads) {
    const errors = `${r.non2xx}${r.errors > r.non2xx ? ` (+${r.errors - r.non2xx} socket errors)` : ''}`;
    const ratios = r.ratios.map((x) => x.toFixed(3)).join(', ');
    lines.push(
      `| ${r.name} | ${r.logLevel} | ${f0(r.ceilingRps)} | ${f0(r.serviceRps)} | **${r.ratio.toFixed(3)}** (${ratios}) | ${f2(r.p50Ms)} | ${f2(r.p99Ms)} (${r.service.map((x) => f2(x.p99Ms)).join(', ')}) | ${errors} | ${f0(r.peakRssMiB)} | ${r.ceilingCpuMicros.toFixed(1)} / ${r.serviceCpuMicros.toFixed(1)} |`,
    );
  }
  const large = reads.find((r) => r.comparedWith !== undefined);
  const base = reads.find((r) => r.name === large?.comparedWith);
  if (base && large) {
    lines.push(
      '',
      `p99 with ${large.clusters.toLocaleString('en')} clusters / p99 with ${base.clusters.toLocaleString('en')}: ` +
        `**${(large.p99Ms / base.p99Ms).toFixed(2)}×** (p50: ${(large.p50Ms / base.p50Ms).toFixed(2)}×).`,
    );
  }
  return lines;
}

/**
 * The ablation step: CPU µs per request of the service with each piece of per-request work off, beside
 * everything on; all measured in the same rounds as the ceiling.
 */
function ablationTable(all: ReadScenario[]): string[] {
  const builds = [...new Set(all.map((r) => r.ablation?.build ?? ''))];
  return builds.flatMap((build) => {
    const reads = all.filter((r) => (r.ablation?.build ?? '') === build);
    return [...(build ? [`${build} build (BENCH_BASELINE_DIST):`, ''] : []), ...ablationRows(reads), ''];
  });
}

function ablationRows(reads: ReadScenario[]): string[] {
  const all = reads.find((r) => r.ablation?.off === '');
  if (!all) return [];
  const first = reads[0]!;
  const lines = [
    `Ablation: ${first.service.length} rounds of ${first.service[0]?.seconds.toFixed(0) ?? '?'} s, every variant in the same rounds as the ceiling ` +
      `(ceiling ${first.ceilingCpuMicros.toFixed(1)} CPU µs/request, ${f0(first.ceilingRps)} req/s).`,
    '',
    '| turned off | CPU µs/request | saved vs everything on | service CPU / ceiling CPU | ceiling / service CPU | service / ceiling req/s | p99 ms | non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of reads) {
    const saved = all.serviceCpuMicros - r.serviceCpuMicros;
    lines.push(
      `| ${r.ablation!.off === '' ? '— (everything on)' : `**${r.ablation!.off}**: ${r.ablation!.what}`} | ${r.serviceCpuMicros.toFixed(1)} | ${r === all ? '' : saved.toFixed(1)} | ${(r.serviceCpuMicros / r.ceilingCpuMicros).toFixed(2)}× | ${r.cpuRatio.toFixed(3)} | ${r.ratio.toFixed(3)} | ${f2(r.p99Ms)} | ${r.non2xx} |`,
    );
  }
  return lines;
}

function section(results: Results, store: string): string {
  const m = results.machine;
  const o = results.options;
  const ablation = results.reads.filter((r) => r.store === store && r.ablation !== undefined);
  const reads = results.reads.filter((r) => r.store === store && r.ablation === undefined);
  const startup = results.startup.filter((s) => s.store === store);
  const ops = results.operations.filter((s) => s.store === store);
  const lines = [
    `Measured ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${m.nproc} × ${m.cpuModel}, node ${m.node} (${m.platform}), load average at start ${m.loadAverage}.`,
    `Load generator ${results.loadGenerator}, ${o.connections} connections, ${o.rounds} rounds of ${o.seconds} s per side (A B A B) after ${o.warmupSeconds} s of warm-up each; ` +
      `${o.distinctSignedRequests} distinct requests signed by the official signer (${o.hotClusters} clusters × ${o.signTimes} signing times), cycled.`,
    '',
  ];
  if (reads.length > 0) lines.push(...readTable(reads), '', ...targets(store, reads, startup), '');
  if (ablation.length > 0) {
    if (store === 'postgresql') {
      lines.push(
        `Each PostgreSQL ablation instance runs with DATABASE_POOL_SIZE=${ABLATE_PG_POOL} (the service's default is 10): eight instances share the server's connections.`,
        '',
      );
    }
    lines.push(...ablationTable(ablation));
  }
  const notes = results.notes.filter((note) => note.startsWith(`${store}:`));
  if (notes.length > 0) lines.push(...notes.map((note) => `Note: ${note}`), '');
  if (startup.length > 0) {
    lines.push(
      '| `npm start` → first answered signed request | runs (ms) | median (ms) |',
      '| --- | --- | ---: |',
    );
    for (const s of startup) {
      lines.push(
        `| ${s.state} | ${s.runsMs.map((t) => t.toFixed(0)).join(', ')} | ${s.medianMs.toFixed(0)} |`,
      );
    }
    lines.push('');
  }
  if (ops.length > 0) {
    lines.push('| operation | count | seconds | operations/s |', '| --- | ---: | ---: | ---: |');
    for (const s of ops)
      lines.push(`| ${s.name} | ${s.count} | ${s.seconds.toFixed(2)} | ${f0(s.perSecond)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The issue's targets (2-core machine, one service process, 32 connections), met or not. */
function targets(store: string, reads: ReadScenario[], startup: Results['startup']): string[] {
  const main = reads[0]!;
  const large = reads.find((r) => r.comparedWith !== undefined);
  const base = reads.find((r) => r.name === large?.comparedWith);
  const sqlite = store === 'sqlite';
  const mark = (ok: boolean) => (ok ? 'met' : '**not met**');
  const out = [
    `Targets: ratio ≥ ${sqlite ? '0.3 (stretch 0.38)' : '0.15'}: ${main.ratio.toFixed(3)}, ${mark(main.ratio >= (sqlite ? 0.3 : 0.15))}` +
      `; p99 ≤ ${sqlite ? 10 : 15} ms: ${main.p99Ms.toFixed(2)} ms, ${mark(main.p99Ms <= (sqlite ? 10 : 15))}` +
      `; non-2xx = 0: ${mark(reads.every((r) => r.non2xx === 0))}` +
      `; peak RSS ≤ 200 MB: ${Math.max(...reads.map((r) => r.peakRssMiB)).toFixed(0)} MiB, ${mark(reads.every((r) => r.peakRssMiB <= 200))}`,
  ];
  if (large && base) {
    const x = large.p99Ms / base.p99Ms;
    out[0] += `; p99 at ${large.clusters.toLocaleString('en')} clusters ≤ 1.25× : ${x.toFixed(2)}×, ${mark(x <= 1.25)}`;
  }
  const first = startup.find((s) => s.state !== 'empty data directory');
  if (first)
    out[0] += `; first answer ≤ 1.5 s: ${first.medianMs.toFixed(0)} ms, ${mark(first.medianMs <= 1500)}`;
  out[0] += '.';
  return out;
}

const TEMPLATE = `# Benchmarks

Figures written by \`npm run bench\`.

## Embedded SQLite

<!-- bench:sqlite -->
<!-- /bench:sqlite -->

## PostgreSQL

<!-- bench:postgresql -->
<!-- /bench:postgresql -->
`;

export function writeReport(file: string, results: Results): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : TEMPLATE;
  for (const store of ['sqlite', 'postgresql']) {
    const has =
      results.reads.some((r) => r.store === store) ||
      results.startup.some((r) => r.store === store) ||
      results.operations.some((r) => r.store === store);
    if (!has) continue;
    const begin = `<!-- bench:${store} -->`;
    const end = `<!-- /bench:${store} -->`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    const body = `${begin}\n${section(results, store)}\n${end}`;
    text =
      from >= 0 && to > from
        ? text.slice(0, from) + body + text.slice(to + end.length)
        : `${text}\n${body}\n`;
  }
  writeFileSync(file, text);
}
