/**
 * The emulator commands (the /_dws/ control API, docs/testing.md): reset, seed, state export/import,
 * fault rules and finishing jobs now. Same endpoint and credentials as every client command.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DwsClient } from './client.js';
import { clientFrom, emit, globalsOf, makeOutput, type Output, UsageError } from './context.js';
import { table } from './format.js';

interface FaultRuleView {
  id: string;
  operation: string;
  project_id?: string;
  cluster_id?: string;
  probability: number;
  remaining?: number;
  hits: number;
  latency_ms?: number;
  error?: { status: number; error_code?: string; error_msg?: string };
  job?: { fail_at_percent: number; failed_code: string; failed_detail: string };
}

function ctx(command: Command): { client: DwsClient; output: Output } {
  const globals = globalsOf(command);
  return { client: clientFrom(globals), output: makeOutput(globals.json === true) };
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`the ${what} ${path} is not valid JSON`);
  }
}

function number(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new UsageError(`${name} must be a number, got '${value}'`);
    return n;
  };
}

function ruleSummary(rule: FaultRuleView): string {
  if (rule.job) return `job fails at ${rule.job.fail_at_percent}%: ${rule.job.failed_code}`;
  const parts: string[] = [];
  if (rule.latency_ms !== undefined) parts.push(`+${rule.latency_ms} ms`);
  if (rule.error || rule.latency_ms === undefined) {
    const error = rule.error;
    parts.push(`${error?.status ?? 500}${error?.error_code ? ` ${error.error_code}` : ''}`);
  }
  return parts.join(', ');
}

interface FaultAddOptions {
  operation: string;
  project?: string;
  cluster?: string;
  probability?: number;
  count?: number;
  latencyMs?: number;
  status?: number;
  errorCode?: string;
  errorMsg?: string;
  failAtPercent?: number;
  failedCode?: string;
  failedDetail?: string;
}

/** The rule body of `faults add`: only the fields given (the service fills in the defaults). */
export function faultRuleOf(options: FaultAddOptions): Record<string, unknown> {
  const rule: Record<string, unknown> = { operation: options.operation };
  if (options.project !== undefined) rule.project_id = options.project;
  if (options.cluster !== undefined) rule.cluster_id = options.cluster;
  if (options.probability !== undefined) rule.probability = options.probability;
  if (options.count !== undefined) rule.count = options.count;
  if (options.latencyMs !== undefined) rule.latency_ms = options.latencyMs;
  if (options.status !== undefined || options.errorCode !== undefined || options.errorMsg !== undefined) {
    rule.error = {
      status: options.status ?? 500,
      ...(options.errorCode !== undefined ? { error_code: options.errorCode } : {}),
      ...(options.errorMsg !== undefined ? { error_msg: options.errorMsg } : {}),
    };
  }
  if (
    options.failAtPercent !== undefined ||
    options.failedCode !== undefined ||
    options.failedDetail !== undefined
  ) {
    rule.job = {
      ...(options.failAtPercent !== undefined ? { fail_at_percent: options.failAtPercent } : {}),
      ...(options.failedCode !== undefined ? { failed_code: options.failedCode } : {}),
      ...(options.failedDetail !== undefined ? { failed_detail: options.failedDetail } : {}),
    };
  }
  return rule;
}

export function registerEmulator(program: Command): void {
  program
    .command('reset')
    .description(
      "empty every stored resource (or one project's) and clear the fault rules (POST /_dws/reset)",
    )
    .option('--project <project_id>', 'only this project')
    .action(async (opts: { project?: string }, command: Command) => {
      const { client, output } = ctx(command);
      const answer = await client.request<{ reset: string }>(
        'POST',
        '/_dws/reset',
        opts.project ? { project_id: opts.project } : {},
      );
      emit(output, answer, () => `reset: ${answer.reset}`);
    });

  program
    .command('seed')
    .description(
      'create the keys and clusters of a seed document (docs/testing.md); prints their ids by name',
    )
    .argument('<file>', 'the seed document (JSON)')
    .action(async (file: string, _opts: unknown, command: Command) => {
      const { client, output } = ctx(command);
      const answer = await client.request<{
        project_id: string;
        keys: Record<string, string>;
        clusters: Record<string, string>;
      }>('POST', '/_dws/seed', readJson(file, 'seed document'));
      emit(output, answer, () =>
        table(
          ['KIND', 'NAME', 'ID'],
          [
            ...Object.entries(answer.keys).map(([name, id]) => ['key', name, id]),
            ...Object.entries(answer.clusters).map(([name, id]) => ['cluster', name, id]),
          ],
        ),
      );
    });

  const state = program.command('state').description('state snapshots (key material stays sealed)');
  state
    .command('export')
    .description('print a snapshot of every stored resource as JSON (GET /_dws/state)')
    .action(async (_opts: unknown, command: Command) => {
      const { client, output } = ctx(command);
      output.out(JSON.stringify(await client.request('GET', '/_dws/state'), null, 2));
    });
  state
    .command('import')
    .description('replace every stored resource with a snapshot (POST /_dws/state; same root key)')
    .argument('<file>', 'a snapshot of `state export`')
    .action(async (file: string, _opts: unknown, command: Command) => {
      const { client, output } = ctx(command);
      const answer = await client.request<{ tables: Record<string, number> }>(
        'POST',
        '/_dws/state',
        readJson(file, 'snapshot'),
      );
      emit(output, answer, () =>
        table(
          ['TABLE', 'ROWS'],
          Object.entries(answer.tables).map(([name, rows]) => [name, String(rows)]),
        ),
      );
    });

  const faults = program
    .command('faults')
    .description('fault rules of the instance called (docs/testing.md)');
  faults
    .command('add')
    .description('add a fault rule; prints its id')
    .requiredOption('--operation <operationId>', 'an operationId of /openapi.json, or * for all')
    .option('--project <project_id>', 'only calls on this project')
    .option('--cluster <cluster_id>', 'only calls on this cluster')
    .option(
      '--probability <p>',
      'chance a matching call is faulted, 0 to 1 (default 1)',
      number('--probability'),
    )
    .option('--count <n>', 'answer this many calls, then stop', number('--count'))
    .option('--latency-ms <ms>', 'delay the answer', number('--latency-ms'))
    .option('--status <status>', 'answer this HTTP status (400-599)', number('--status'))
    .option('--error-code <code>', 'error_code of the answer (default: the real code of the status)')
    .option('--error-msg <message>', 'error_msg of the answer')
    .option(
      '--fail-at-percent <n>',
      'EncryptCluster: the conversion fails at this progress',
      number('--fail-at-percent'),
    )
    .option('--failed-code <code>', "EncryptCluster: the failed job's failed_code")
    .option('--failed-detail <detail>', "EncryptCluster: the failed job's failed_detail")
    .action(async (opts: FaultAddOptions, command: Command) => {
      const { client, output } = ctx(command);
      const rule = await client.request<FaultRuleView>('POST', '/_dws/faults', faultRuleOf(opts));
      emit(output, rule, () => `fault ${rule.id}: ${rule.operation} ${ruleSummary(rule)}`);
    });
  faults
    .command('list')
    .description('the fault rules with their hit counts')
    .action(async (_opts: unknown, command: Command) => {
      const { client, output } = ctx(command);
      const answer = await client.request<{ faults: FaultRuleView[] }>('GET', '/_dws/faults');
      emit(output, answer, () =>
        answer.faults.length === 0
          ? 'no fault rules'
          : table(
              ['ID', 'OPERATION', 'ANSWER', 'PROBABILITY', 'HITS', 'REMAINING'],
              answer.faults.map((rule) => [
                rule.id,
                [rule.operation, rule.project_id, rule.cluster_id].filter(Boolean).join(' '),
                ruleSummary(rule),
                String(rule.probability),
                String(rule.hits),
                rule.remaining === undefined ? '-' : String(rule.remaining),
              ]),
            ),
      );
    });
  faults
    .command('clear')
    .description('remove every fault rule, or the one given')
    .argument('[id]', 'a rule id')
    .action(async (id: string | undefined, _opts: unknown, command: Command) => {
      const { client, output } = ctx(command);
      const answer = await client.request<{ removed: number }>(
        'DELETE',
        id ? `/_dws/faults/${encodeURIComponent(id)}` : '/_dws/faults',
      );
      emit(output, answer, () => `removed ${answer.removed} fault rule(s)`);
    });

  const jobs = program.commands.find((c) => c.name() === 'jobs') ?? program.command('jobs');
  jobs
    .command('complete')
    .description('finish every unfinished job now (POST /_dws/jobs/complete)')
    .action(async (_opts: unknown, command: Command) => {
      const { client, output } = ctx(command);
      const answer = await client.request<{ jobs: { job_id: string; status: string }[] }>(
        'POST',
        '/_dws/jobs/complete',
      );
      emit(output, answer, () =>
        answer.jobs.length === 0
          ? 'no unfinished jobs'
          : table(
              ['JOB', 'STATUS'],
              answer.jobs.map((job) => [job.job_id, job.status]),
            ),
      );
    });
}
