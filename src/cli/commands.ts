/**
 * The client commands: keys, clusters, encrypt, rotate, info, jobs, audit. Each one is a signed API call (or a
 * few), printed as a table or, with --json, as the API's own JSON.
 */
import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import type {
  AuditEvent,
  AuditPage,
  Cluster,
  CryptAlgorithm,
  DwsClient,
  EncryptInfo,
  Job,
  KeyDetails,
} from './client.js';
import { ApiError } from './client.js';
import {
  clientFrom,
  emit,
  globalsOf,
  JobFailedError,
  makeOutput,
  type Output,
  parseInteger,
  parseSeconds,
  UsageError,
} from './context.js';
import { fields, keyStateCode, keyStateName, kmsDate, percentOf, progressBar, table } from './format.js';

interface Ctx {
  client: DwsClient;
  output: Output;
}

function ctx(command: Command): Ctx {
  const globals = globalsOf(command);
  return { client: clientFrom(globals), output: makeOutput(globals.json === true) };
}

/** The last argument commander passes to an action is the command itself. */
function action<A extends unknown[]>(fn: (c: Ctx, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    await fn(ctx(command), ...(args.slice(0, -1) as A));
  };
}

// ---------------------------------------------------------------------------------------------- keys

export function keyTable(keys: KeyDetails[]): string {
  return table(
    ['key id', 'alias', 'spec', 'state', 'created'],
    keys.map((k) => [k.key_id, k.key_alias, k.key_spec, keyStateName(k.key_state), kmsDate(k.creation_date)]),
  );
}

function keyFields(k: KeyDetails): string {
  return fields([
    ['Key ID', k.key_id],
    ['Alias', k.key_alias],
    ['Spec', k.key_spec],
    ['Usage', k.key_usage],
    ['State', `${keyStateName(k.key_state)} (${k.key_state})`],
    ['Description', k.key_description],
    ['Created', kmsDate(k.creation_date)],
    ['Deletion date', kmsDate(k.scheduled_deletion_date)],
    ['Domain ID', k.domain_id],
  ]);
}

function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('KMS master keys: create, list, describe, enable, disable, schedule or cancel deletion');

  keys
    .command('create')
    .description('create a master key')
    .argument('<alias>', 'key alias: letters, digits, : / _ - (1-255)')
    .addOption(
      new Option('--spec <spec>', 'AES_256 for generalCipher, SM4 for SMcompatible')
        .choices(['AES_256', 'SM4'])
        .default('AES_256'),
    )
    .option('--description <text>', 'key description')
    .action(
      action(async ({ client, output }, alias: string, opts: { spec: string; description?: string }) => {
        const created = await client.createKey({
          alias,
          spec: opts.spec,
          ...(opts.description !== undefined ? { description: opts.description } : {}),
        });
        emit(
          output,
          created,
          () => `Created key ${created.key_info.key_id} (${alias}, ${opts.spec}, enabled).`,
        );
      }),
    );

  keys
    .command('list')
    .description('list master keys (every page)')
    .option('--state <state>', 'only keys in this state: enabled, disabled, pending-deletion (or 1-5)')
    .addOption(new Option('--spec <spec>', 'only keys of this spec').choices(['AES_256', 'SM4']))
    .action(
      action(async ({ client, output }, opts: { state?: string; spec?: string }) => {
        let state: string | undefined;
        if (opts.state !== undefined) {
          state = keyStateCode(opts.state);
          if (!state) throw new UsageError(`--state: unknown key state '${opts.state}'`);
        }
        const all: KeyDetails[] = [];
        let marker: string | undefined;
        for (;;) {
          const page = await client.listKeys({
            ...(state ? { state } : {}),
            ...(opts.spec ? { spec: opts.spec } : {}),
            ...(marker ? { marker } : {}),
          });
          all.push(...page.key_details);
          if (page.truncated !== 'true' || !page.next_marker) break;
          marker = page.next_marker;
        }
        emit(output, { keys: all.map((k) => k.key_id), key_details: all, total: all.length }, () =>
          all.length === 0 ? 'No keys.' : keyTable(all),
        );
      }),
    );

  keys
    .command('describe')
    .description('show one master key')
    .argument('<key-id>')
    .action(
      action(async ({ client, output }, keyId: string) => {
        const result = await client.describeKey(keyId);
        emit(output, result, () => keyFields(result.key_info));
      }),
    );

  for (const [name, verb, call] of [
    ['enable', 'Enabled', (c: DwsClient, id: string) => c.enableKey(id)],
    ['disable', 'Disabled', (c: DwsClient, id: string) => c.disableKey(id)],
  ] as const) {
    keys
      .command(name)
      .description(`${name} a master key`)
      .argument('<key-id>')
      .action(
        action(async ({ client, output }, keyId: string) => {
          const result = await call(client, keyId);
          emit(output, result, () => `${verb} key ${keyId}: ${keyStateName(result.key_info.key_state)}.`);
        }),
      );
  }

  keys
    .command('schedule-deletion')
    .description('schedule a master key for deletion (refused while a cluster uses it)')
    .argument('<key-id>')
    .option(
      '--pending-days <days>',
      'days before deletion (7-1096)',
      parseInteger('--pending-days', 7, 1096),
      7,
    )
    .action(
      action(async ({ client, output }, keyId: string, opts: { pendingDays: number }) => {
        const result = await client.scheduleKeyDeletion(keyId, opts.pendingDays);
        emit(
          output,
          result,
          () =>
            `Key ${keyId} is ${keyStateName(result.key_state)}: deleted in ${opts.pendingDays} days unless cancelled.`,
        );
      }),
    );

  keys
    .command('cancel-deletion')
    .description('cancel a scheduled deletion (the key comes back disabled)')
    .argument('<key-id>')
    .action(
      action(async ({ client, output }, keyId: string) => {
        const result = await client.cancelKeyDeletion(keyId);
        emit(output, result, () => `Deletion of key ${keyId} cancelled: ${keyStateName(result.key_state)}.`);
      }),
    );
}

// ------------------------------------------------------------------------------------------ clusters

function encryptionOf(c: Cluster): string {
  if (c.task_status === 'ENCRYPTING') return 'converting';
  return c.encrypted ? 'encrypted' : 'no';
}

export function clusterTable(clusters: Cluster[]): string {
  return table(
    ['id', 'name', 'status', 'version', 'guest agent', 'encrypted'],
    clusters.map((c) => [c.id, c.name, c.status, c.version, c.guest_agent_version, encryptionOf(c)]),
  );
}

function clusterFields(c: Cluster): string {
  const endpoints = (c.endpoints as Array<{ connect_info: string }> | undefined) ?? [];
  return fields([
    ['ID', c.id],
    ['Name', c.name],
    ['Status', c.status],
    ['Version', c.version],
    ['Guest agent', c.guest_agent_version],
    ['Encrypted', encryptionOf(c)],
    ['Nodes', c.number_of_node],
    ['Node type', c.node_type as string],
    ['Endpoint', endpoints.map((e) => e.connect_info).join(', ')],
    ['Created', c.created],
    ['Updated', c.updated],
  ]);
}

export function encryptInfoFields(clusterId: string, info: EncryptInfo): string {
  if (info.id === null) return `Cluster ${clusterId} is not encrypted.`;
  return fields([
    ['Cluster ID', info.cluster_id],
    ['Encryption ID', info.id],
    ['Master key ID', info.master_key_id],
    ['Master key name', info.master_key_name],
    ['Algorithm', info.crypt_algorithm],
    ['Last rotation', info.last_rotate_key_time ? `${info.last_rotate_key_time} UTC` : 'never'],
  ]);
}

function randomPassword(): string {
  // Letters, digits and a symbol: meets the usual complexity rules; the simulated cluster never uses it.
  return `Dws!${randomBytes(9).toString('base64url')}9a`;
}

interface CreateClusterOptions {
  datastoreVersion: string;
  guestAgentVersion?: string;
  flavor: string;
  nodes: number;
  dbName: string;
  dbPassword?: string;
  vpcId: string;
  subnetId: string;
  masterKeyId?: string;
  cryptAlgorithm?: CryptAlgorithm;
}

function registerClusters(program: Command): void {
  const clusters = program.command('clusters').description('DWS clusters: create, list, show, delete');

  clusters
    .command('create')
    .description('create a cluster (AVAILABLE at once unless the service delays creation)')
    .argument('<name>', '4-64 characters: a letter, then letters, digits, - or _')
    .option('--datastore-version <version>', 'cluster version (encryption needs 8.0.0 or later)', '9.1.0')
    .option(
      '--guest-agent-version <version>',
      'guestAgent version, an extension of this service (encryption needs 8.3.0.200 or later; default 8.3.0.200)',
    )
    .option('--flavor <flavor>', 'node flavor', 'dwsk2.xlarge')
    .option('--nodes <n>', 'number of nodes', parseInteger('--nodes', 1, 256), 3)
    .option('--db-name <name>', 'administrator name', 'dbadmin')
    .option('--db-password <password>', 'administrator password (default: a random one, not shown)')
    .option('--vpc-id <id>', 'VPC id', 'vpc-dws-encryption')
    .option('--subnet-id <id>', 'subnet id', 'subnet-dws-encryption')
    .option('--master-key-id <key-id>', 'create it encrypted with this master key (with --crypt-algorithm)')
    .addOption(
      new Option('--crypt-algorithm <algorithm>', 'with --master-key-id').choices([
        'generalCipher',
        'SMcompatible',
      ]),
    )
    .action(
      action(async ({ client, output }, name: string, opts: CreateClusterOptions) => {
        if ((opts.masterKeyId === undefined) !== (opts.cryptAlgorithm === undefined)) {
          throw new UsageError('--master-key-id and --crypt-algorithm go together');
        }
        const created = await client.createCluster({
          name,
          flavor: opts.flavor,
          num_node: opts.nodes,
          db_name: opts.dbName,
          db_password: opts.dbPassword ?? randomPassword(),
          vpc_id: opts.vpcId,
          subnet_id: opts.subnetId,
          datastore_version: opts.datastoreVersion,
          ...(opts.guestAgentVersion ? { guest_agent_version: opts.guestAgentVersion } : {}),
          ...(opts.masterKeyId ? { master_key_id: opts.masterKeyId } : {}),
          ...(opts.cryptAlgorithm ? { crypt_algorithm: opts.cryptAlgorithm } : {}),
        });
        emit(
          output,
          created,
          () => `Created cluster ${created.cluster.id} (${name}, version ${opts.datastoreVersion}).`,
        );
      }),
    );

  clusters
    .command('list')
    .description('list the clusters of the project')
    .action(
      action(async ({ client, output }) => {
        const result = await client.listClusters();
        emit(output, result, () => (result.count === 0 ? 'No clusters.' : clusterTable(result.clusters)));
      }),
    );

  clusters
    .command('show')
    .description('show one cluster')
    .argument('<cluster-id>')
    .action(
      action(async ({ client, output }, clusterId: string) => {
        const result = await client.showCluster(clusterId);
        emit(output, result, () => clusterFields(result.cluster));
      }),
    );

  clusters
    .command('delete')
    .description('delete a cluster (refused while it is converting)')
    .argument('<cluster-id>')
    .action(
      action(async ({ client, output }, clusterId: string) => {
        await client.deleteCluster(clusterId);
        emit(output, { cluster_id: clusterId, deleted: true }, () => `Deleted cluster ${clusterId}.`);
      }),
    );
}

// -------------------------------------------------------------------------------- encryption, jobs

function jobFields(job: Job): string {
  return fields([
    ['Job ID', job.job_id],
    ['Name', job.job_name],
    ['Status', job.status],
    ['Progress', job.progress],
    ['Began', job.begin_time ? `${job.begin_time} UTC` : ''],
    ['Ended', job.end_time ? `${job.end_time} UTC` : ''],
    ['Failed code', job.failed_code],
    ['Failed detail', job.failed_detail],
  ]);
}

/** Waits for a job with a progress bar on a terminal; throws JobFailedError unless it succeeds. */
export async function followJob(client: DwsClient, output: Output, jobId: string, timeoutSeconds: number) {
  try {
    const job = await client.waitForJob(jobId, {
      timeoutMs: timeoutSeconds * 1000,
      onProgress: (j) => output.status(`${progressBar(percentOf(j.progress), j.status)}  job ${jobId}`),
    });
    output.endStatus();
    if (job.status !== 'SUCCESS') throw new JobFailedError(job);
    return job;
  } catch (error) {
    output.endStatus();
    throw error;
  }
}

/** generalCipher for AES keys, SMcompatible for SM4 keys: what the service requires. */
async function algorithmFor(client: DwsClient, masterKeyId: string): Promise<CryptAlgorithm> {
  try {
    const { key_info } = await client.describeKey(masterKeyId);
    return key_info.key_spec === 'SM4' ? 'SMcompatible' : 'generalCipher';
  } catch (error) {
    // Without kms:cmk:get (or for an unknown key) let the service decide, with the usual default.
    if (error instanceof ApiError) return 'generalCipher';
    throw error;
  }
}

function registerEncryption(program: Command): void {
  program
    .command('encrypt')
    .description('convert a cluster into an encrypted one, and wait for the job')
    .argument('<cluster-id>')
    .requiredOption('--master-key-id <key-id>', 'KMS master key (AES_256 or SM4) of this project')
    .option('--master-key-name <alias>', "must equal the key's alias when given")
    .addOption(
      new Option(
        '--crypt-algorithm <algorithm>',
        "default: from the key's spec (AES_256 → generalCipher, SM4 → SMcompatible)",
      ).choices(['generalCipher', 'SMcompatible']),
    )
    .option('--no-wait', 'print the job id and return at once')
    .option('--timeout <seconds>', 'how long to wait for the job', parseSeconds('--timeout'), 600)
    .action(
      action(
        async (
          { client, output },
          clusterId: string,
          opts: {
            masterKeyId: string;
            masterKeyName?: string;
            cryptAlgorithm?: CryptAlgorithm;
            wait: boolean;
            timeout: number;
          },
        ) => {
          const cryptAlgorithm = opts.cryptAlgorithm ?? (await algorithmFor(client, opts.masterKeyId));
          const { job_id } = await client.encrypt(clusterId, {
            masterKeyId: opts.masterKeyId,
            cryptAlgorithm,
            ...(opts.masterKeyName !== undefined ? { masterKeyName: opts.masterKeyName } : {}),
          });
          if (!opts.wait) {
            emit(
              output,
              { job_id },
              () =>
                `Conversion started: job ${job_id}.\nFollow it with: dws-encryption jobs show ${job_id} --wait`,
            );
            return;
          }
          if (!output.json)
            output.err(`Converting cluster ${clusterId} (${cryptAlgorithm}), job ${job_id}...`);
          const job = await followJob(client, output, job_id, opts.timeout);
          const info = await client.encryptInfo(clusterId);
          emit(output, { ...job, encrypt_info: info }, () =>
            [`Cluster ${clusterId} is encrypted.`, encryptInfoFields(clusterId, info)].join('\n'),
          );
        },
      ),
    );

  program
    .command('rotate')
    .description("rotate a cluster's data key, or move it to another master key with --master-key-id")
    .argument('<cluster-id>')
    .option('--master-key-id <key-id>', 'rotate the master key to this KMS key')
    .action(
      action(async ({ client, output }, clusterId: string, opts: { masterKeyId?: string }) => {
        const result = await client.rotateKey(clusterId, opts.masterKeyId);
        emit(output, result, () =>
          [
            opts.masterKeyId
              ? `Master key of cluster ${clusterId} rotated to ${result.master_key_name}.`
              : `Data key of cluster ${clusterId} rotated.`,
            fields([
              ['Master key name', result.master_key_name],
              ['Rotated at', `${result.rotate_key_time} UTC`],
            ]),
          ].join('\n'),
        );
      }),
    );

  program
    .command('info')
    .description('show the encryption information of a cluster (ShowClusterEncryptInfo)')
    .argument('<cluster-id>')
    .action(
      action(async ({ client, output }, clusterId: string) => {
        const info = await client.encryptInfo(clusterId);
        emit(output, info, () => encryptInfoFields(clusterId, info));
      }),
    );

  const jobs = program.command('jobs').description('asynchronous jobs (ListJobDetails)');
  jobs
    .command('show')
    .description('show a job')
    .argument('<job-id>')
    .option('--wait', 'wait until the job ends (progress bar on a terminal)')
    .option('--timeout <seconds>', 'how long to wait with --wait', parseSeconds('--timeout'), 600)
    .action(
      action(async ({ client, output }, jobId: string, opts: { wait?: boolean; timeout: number }) => {
        const job = opts.wait
          ? await followJob(client, output, jobId, opts.timeout)
          : await client.job(jobId);
        emit(output, job, () => jobFields(job));
      }),
    );
}

// --------------------------------------------------------------------------------------------- audit

function auditResult(e: AuditEvent): string {
  const code = e.detail?.error_code;
  return typeof code === 'string' ? `${e.result} (${code})` : e.result;
}

export function auditTable(events: AuditEvent[]): string {
  return table(
    ['time', 'user', 'action', 'resource', 'result', 'request id'],
    events.map((e) => [
      e.time,
      e.user,
      e.action,
      e.resource_id ? `${e.resource_type} ${e.resource_id}` : e.resource_type,
      auditResult(e),
      e.request_id,
    ]),
  );
}

/** Most events the service returns in one page. */
const MAX_AUDIT_PAGE = 1000;

function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the project's audit trail (permission dws:audit:list)");

  audit
    .command('list')
    .description('list audit events, newest first: one page, or every page with --all')
    .option(
      '--limit <n>',
      `events per page, 1-${MAX_AUDIT_PAGE} (default: 100, or ${MAX_AUDIT_PAGE} with --all)`,
      parseInteger('--limit', 1, MAX_AUDIT_PAGE),
    )
    .option('--marker <marker>', 'start after this event: the next_marker of the previous page')
    .option('--all', 'follow next_marker until the oldest event')
    .action(
      action(async ({ client, output }, opts: { limit?: number; marker?: string; all?: boolean }) => {
        if (opts.marker !== undefined && !/^[0-9]{1,18}$/.test(opts.marker)) {
          throw new UsageError(`--marker must be the next_marker of a page (digits), got '${opts.marker}'`);
        }
        const limit = opts.limit ?? (opts.all ? MAX_AUDIT_PAGE : undefined);
        let page = await client.listAuditEvents({
          ...(limit !== undefined ? { limit } : {}),
          ...(opts.marker !== undefined ? { marker: opts.marker } : {}),
        });
        let result: AuditPage = page;
        if (opts.all) {
          const events = [...page.events];
          while (page.next_marker) {
            page = await client.listAuditEvents({
              ...(limit !== undefined ? { limit } : {}),
              marker: page.next_marker,
            });
            events.push(...page.events);
          }
          result = { events, next_marker: null };
        }
        emit(output, result, () => (result.events.length === 0 ? 'No events.' : auditTable(result.events)));
        if (!output.json && result.next_marker) {
          output.err(`More events: dws-encryption audit list --marker ${result.next_marker} (or --all)`);
        }
      }),
    );
}

export function registerClientCommands(program: Command): void {
  registerKeys(program);
  registerClusters(program);
  registerEncryption(program);
  registerAudit(program);
}
