/**
 * `dws-encryption demo`: fills a project with something to explore, through the API like any client:
 * - master keys of both specs (AES_256, SM4) and a spare AES_256 key to rotate to;
 * - clusters: one ready to encrypt, one encrypted (AES), one encrypted (SM4) and rotated, one whose
 *   version (7.2.1) and one whose guestAgent (8.3.0.100) fail a constraint — their refusals are shown;
 * - then it prints what to try next, with the real ids.
 * Against the service at DWS_ENDPOINT with the usual credentials, or, with `--start`, against a
 * service it starts in this process on a fresh data directory (kept running until Ctrl-C).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  ApiError,
  type Cluster,
  type CryptAlgorithm,
  DwsClient,
  type Job,
  type KeyDetails,
} from './client.js';
import { clusterTable, followJob, keyTable } from './commands.js';
import { clientFrom, cliIo, emit, globalsOf, makeOutput, type Output, parseInteger } from './context.js';
import { fields } from './format.js';

const CLI = 'npx dws-encryption';

interface DemoKey {
  id: string;
  alias: string;
  spec: 'AES_256' | 'SM4';
}

interface DemoCluster {
  id: string;
  name: string;
  version: string;
  guestAgent: string;
  role: string;
  jobId?: string;
  refusal?: string;
}

export interface DemoResult {
  endpoint: string;
  keys: { aes: DemoKey; sm4: DemoKey; spare: DemoKey };
  clusters: {
    ready: DemoCluster;
    encrypted: DemoCluster;
    rotated: DemoCluster;
    oldVersion: DemoCluster;
    oldGuestAgent: DemoCluster;
  };
}

/** The demo's clusters: name suffix, version, guestAgent version, and what each one shows. */
const DEMO_CLUSTERS = {
  ready: ['ready', '9.1.0', '8.3.0.200', 'ready to encrypt'],
  encrypted: ['aes', '9.1.0', '8.3.0.200', 'encrypted (generalCipher)'],
  rotated: ['sm4', '8.2.1', '8.3.0.250', 'encrypted (SMcompatible), data key rotated'],
  oldVersion: ['v7', '7.2.1', '8.3.0.200', 'refused: version below 8.0.0'],
  oldGuestAgent: ['agent', '8.3.0', '8.3.0.100', 'refused: guestAgent below 8.3.0.200'],
} as const satisfies Record<keyof DemoResult['clusters'], readonly [string, string, string, string]>;

function clusterBody(name: string, version: string, guestAgent: string) {
  return {
    name,
    flavor: 'dwsk2.xlarge',
    num_node: 3,
    db_name: 'dbadmin',
    db_password: `Dws!${randomBytes(9).toString('base64url')}9a`,
    vpc_id: 'vpc-demo',
    subnet_id: 'subnet-demo',
    availability_zones: ['az-demo-1'],
    datastore_version: version,
    guest_agent_version: guestAgent,
  };
}

async function waitAvailable(client: DwsClient, clusterId: string, timeoutMs = 600_000): Promise<Cluster> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { cluster } = await client.showCluster(clusterId);
    if (cluster.status === 'AVAILABLE') return cluster;
    if (Date.now() > deadline) throw new Error(`cluster ${clusterId} is still ${cluster.status}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Creates the demo project through `client`; reports each step on stderr (unless --json). */
export async function runDemo(client: DwsClient, output: Output): Promise<DemoResult> {
  const tag = randomBytes(3).toString('hex');
  const step = (text: string) => {
    if (!output.json) output.err(`  ${text}`);
  };

  const makeKey = async (alias: string, spec: 'AES_256' | 'SM4', description: string): Promise<DemoKey> => {
    const { key_info } = await client.createKey({ alias, spec, description });
    step(`key      ${alias} (${spec}) ${key_info.key_id}`);
    return { id: key_info.key_id, alias, spec };
  };
  const aes = await makeKey(`demo-aes-${tag}`, 'AES_256', 'demo: master key for generalCipher');
  const sm4 = await makeKey(`demo-sm4-${tag}`, 'SM4', 'demo: master key for SMcompatible');
  const spare = await makeKey(`demo-aes-next-${tag}`, 'AES_256', 'demo: rotate a cluster to this key');

  const makeCluster = async (suffix: string, version: string, guestAgent: string, role: string) => {
    const name = `demo-${tag}-${suffix}`;
    const { cluster } = await client.createCluster(clusterBody(name, version, guestAgent));
    step(`cluster  ${name} (version ${version}, guestAgent ${guestAgent}) ${cluster.id}`);
    const made: DemoCluster = { id: cluster.id, name, version, guestAgent, role };
    return made;
  };
  const ready = await makeCluster(...DEMO_CLUSTERS.ready);
  const encrypted = await makeCluster(...DEMO_CLUSTERS.encrypted);
  const rotated = await makeCluster(...DEMO_CLUSTERS.rotated);
  const oldVersion = await makeCluster(...DEMO_CLUSTERS.oldVersion);
  const oldGuestAgent = await makeCluster(...DEMO_CLUSTERS.oldGuestAgent);
  for (const c of [ready, encrypted, rotated, oldVersion, oldGuestAgent]) await waitAvailable(client, c.id);

  // Both conversions run at once; the job runner carries them in parallel.
  const start = async (cluster: DemoCluster, key: DemoKey, cryptAlgorithm: CryptAlgorithm) => {
    const { job_id } = await client.encrypt(cluster.id, { masterKeyId: key.id, cryptAlgorithm });
    cluster.jobId = job_id;
    step(`encrypt  ${cluster.name} with ${key.alias} (${cryptAlgorithm}): job ${job_id}`);
    return job_id;
  };
  const jobs = [await start(encrypted, aes, 'generalCipher'), await start(rotated, sm4, 'SMcompatible')];
  step('waiting for both conversions...');
  const finished: Job[] = [];
  for (const jobId of jobs) finished.push(await followJob(client, output, jobId, 600));
  step(`done     ${finished.map((j) => `${j.job_id} ${j.status}`).join(', ')}`);

  const rotation = await client.rotateKey(rotated.id);
  step(`rotate   ${rotated.name}: new data key at ${rotation.rotate_key_time} UTC`);

  // The constraints, shown by the service's own refusals.
  for (const cluster of [oldVersion, oldGuestAgent]) {
    try {
      await client.encrypt(cluster.id, { masterKeyId: aes.id, cryptAlgorithm: 'generalCipher' });
      cluster.refusal = 'unexpectedly accepted';
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      cluster.refusal = `${error.code}: ${error.message}`;
    }
    step(`refused  ${cluster.name}: ${cluster.refusal}`);
  }

  return {
    endpoint: client.endpoint,
    keys: { aes, sm4, spare },
    clusters: { ready, encrypted, rotated, oldVersion, oldGuestAgent },
  };
}

export function nextSteps(result: DemoResult): string {
  const { keys, clusters } = result;
  const lines = [
    `${CLI} keys list`,
    `${CLI} clusters list`,
    `${CLI} info ${clusters.encrypted.id}`,
    `${CLI} info ${clusters.rotated.id}          # last_rotate_key_time is set`,
    `${CLI} encrypt ${clusters.ready.id} --master-key-id ${keys.aes.id}`,
    `${CLI} rotate ${clusters.encrypted.id} --master-key-id ${keys.spare.id}`,
    `${CLI} encrypt ${clusters.oldVersion.id} --master-key-id ${keys.aes.id}   # DWS.0404`,
    `${CLI} encrypt ${clusters.oldGuestAgent.id} --master-key-id ${keys.aes.id}   # DWS.0405`,
    `${CLI} keys schedule-deletion ${keys.aes.id}   # refused: a cluster uses it`,
    `${CLI} jobs show ${clusters.encrypted.jobId ?? '<job-id>'}`,
    `${CLI} clusters show ${clusters.ready.id} --json`,
  ];
  return lines.map((l) => `  ${l}`).join('\n');
}

function summary(result: DemoResult, keys: KeyDetails[], clusters: Cluster[]): string {
  const roles = new Map(Object.values(result.clusters).map((c) => [c.id, c.role]));
  const ours = clusters.filter((c) => roles.has(c.id));
  return [
    '',
    'Keys:',
    keyTable(keys),
    '',
    'Clusters:',
    clusterTable(ours),
    '',
    fields(ours.map((c) => [c.name, roles.get(c.id)])),
    '',
    'Try next:',
    nextSteps(result),
  ].join('\n');
}

/** The demo's keys and clusters as the service now reports them. */
async function current(client: DwsClient, result: DemoResult) {
  const keys: KeyDetails[] = [];
  for (const key of Object.values(result.keys)) keys.push((await client.describeKey(key.id)).key_info);
  const { clusters } = await client.listClusters();
  return { keys, clusters };
}

interface DemoOptions {
  start?: boolean;
  port: number;
  dataDir?: string;
}

/** Prints the credentials of a started service, ready to paste into another terminal. */
function exportsFor(
  bootstrap: { accessKey: string; secretKey: string; projectId: string },
  url: string,
): string {
  return [
    `  export HUAWEICLOUD_SDK_AK=${bootstrap.accessKey}`,
    `  export HUAWEICLOUD_SDK_SK=${bootstrap.secretKey}`,
    `  export HUAWEICLOUD_SDK_PROJECT_ID=${bootstrap.projectId}`,
    `  export DWS_ENDPOINT=${url}`,
  ].join('\n');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'create a ready-to-explore project: keys of both specs, clusters of several versions (some failing a constraint), one encrypted, one rotated',
    )
    .option('--start', 'start a service in this process first (fresh data directory) and keep it running')
    .option(
      '--port <port>',
      'with --start: the port (0: any free port)',
      parseInteger('--port', 0, 65535),
      8080,
    )
    .option(
      '--data-dir <dir>',
      'with --start: the data directory (default: a new temporary one, removed on exit)',
    )
    .addHelpText(
      'after',
      `
Without --start the demo calls the service at DWS_ENDPOINT (default http://127.0.0.1:8080) with
HUAWEICLOUD_SDK_AK / _SK / _PROJECT_ID, e.g. the ones \`${CLI} serve\` printed on its first start.
With --start it starts a service itself and prints the credentials to use from another terminal.`,
    )
    .action(async (opts: DemoOptions, command: Command) => {
      const globals = globalsOf(command);
      const output = makeOutput(globals.json === true);
      if (!opts.start) {
        const client = clientFrom(globals);
        if (!output.json) output.err(`Creating the demo project at ${client.endpoint}:`);
        const result = await runDemo(client, output);
        const { keys, clusters } = await current(client, result);
        emit(output, result, () => summary(result, keys, clusters));
        return;
      }

      // --start: an in-process service (the only client command that loads the server).
      const { loadConfig } = await import('../config.js');
      const { startServer } = await import('../server.js');
      const temporary = opts.dataDir === undefined;
      const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dws-encryption-demo-'));
      const config = loadConfig({
        ...cliIo().env,
        DATA_DIR: dataDir,
        PORT: String(opts.port),
        LOG_LEVEL: cliIo().env.LOG_LEVEL ?? 'warn',
        ...(opts.dataDir === undefined ? { DATABASE_URL: '' } : {}),
      });
      const server = await startServer(config);
      const stop = async () => {
        await server.close().catch(() => {});
        if (temporary) rmSync(dataDir, { recursive: true, force: true });
      };
      try {
        const { bootstrap } = server;
        const client = new DwsClient({
          endpoint: server.url,
          ak: bootstrap.accessKey,
          sk: bootstrap.secretKey,
          projectId: bootstrap.projectId,
        });
        if (!output.json) output.err(`Started dws-encryption at ${server.url} (data in ${dataDir}).`);
        const result = await runDemo(client, output);
        const { keys, clusters } = await current(client, result);
        emit(
          output,
          { ...result, credentials: { ak: bootstrap.accessKey, project_id: bootstrap.projectId } },
          () =>
            [
              summary(result, keys, clusters),
              '',
              'The service keeps running. In another terminal, first:',
              exportsFor(bootstrap, server.url),
              '',
              `Press Ctrl-C to stop it${temporary ? ' (the demo data directory is removed)' : ''}.`,
            ].join('\n'),
        );
      } catch (error) {
        await stop();
        throw error;
      }
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await stop();
    });
}
