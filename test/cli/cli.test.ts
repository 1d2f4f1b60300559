/**
 * The CLI as a user runs it, against a real test server: in this process (`run(argv)`, fast), with the
 * credentials in the official SDKs' environment variables; one smoke test runs the real entry point as a
 * child process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { type CliEnv, runCli, spawnCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('dws-encryption CLI against a running service', () => {
  let ts: TestServer;
  let env: CliEnv;
  const run = (...args: string[]) => runCli(args, { env });
  const json = async (...args: string[]) => {
    const result = await run(...args, '--json');
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  before(async () => {
    ts = await startTestServer();
    env = {
      HUAWEICLOUD_SDK_AK: ts.ak,
      HUAWEICLOUD_SDK_SK: ts.sk,
      HUAWEICLOUD_SDK_PROJECT_ID: ts.projectId,
      DWS_ENDPOINT: ts.baseUrl,
    };
  });
  after(async () => {
    await ts.close({ removeData: true });
  });

  test('keys, clusters, encrypt (waiting), info, rotate and jobs show', async () => {
    const created = await json(
      'keys',
      'create',
      'cli-master',
      '--spec',
      'AES_256',
      '--description',
      'from the CLI',
    );
    const keyId = created.key_info.key_id as string;
    assert.match(keyId, /^[0-9a-f-]{36}$/);

    const keys = await run('keys', 'list');
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, /^KEY ID\s+ALIAS\s+SPEC\s+STATE/m);
    assert.match(keys.stdout, new RegExp(`${keyId}\\s+cli-master\\s+AES_256\\s+enabled`));
    const listed = await json('keys', 'list', '--state', 'enabled');
    assert.deepEqual(listed.keys, [keyId]);
    assert.equal(listed.key_details[0].key_description, 'from the CLI');

    const cluster = await json('clusters', 'create', 'cli-analytics', '--datastore-version', '9.1.0');
    const clusterId = cluster.cluster.id as string;
    const list = await run('clusters', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      new RegExp(`${clusterId}\\s+cli-analytics\\s+AVAILABLE\\s+9\\.1\\.0\\s+8\\.3\\.0\\.200\\s+no`),
    );
    const show = await run('clusters', 'show', clusterId);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^Status:\s+AVAILABLE$/m);
    assert.equal((await json('clusters', 'show', clusterId)).cluster.name, 'cli-analytics');

    const before = await json('info', clusterId);
    assert.deepEqual(Object.values(before), [null, null, null, null, null, null]);

    // Waits for the job (no terminal here: no progress bar), then shows the encryption info.
    const encrypt = await run('encrypt', clusterId, '--master-key-id', keyId);
    assert.equal(encrypt.code, 0, encrypt.stderr);
    assert.match(encrypt.stdout, new RegExp(`Cluster ${clusterId} is encrypted`));
    assert.match(encrypt.stdout, /^Algorithm:\s+generalCipher$/m);
    assert.doesNotMatch(encrypt.stderr, /\r/, 'no progress bar without a terminal');

    const info = await json('info', clusterId);
    assert.equal(info.cluster_id, clusterId);
    assert.equal(info.master_key_id, keyId);
    assert.equal(info.master_key_name, 'cli-master');
    assert.equal(info.crypt_algorithm, 'generalCipher');
    assert.equal(info.last_rotate_key_time, null);
    const infoText = await run('info', clusterId);
    assert.match(infoText.stdout, /^Last rotation:\s+never$/m);

    const rotate = await run('rotate', clusterId);
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /Data key of cluster .* rotated/);
    const rotated = await json('info', clusterId);
    assert.match(rotated.last_rotate_key_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // An SM4 key: the algorithm follows the key's spec; --no-wait returns the job id at once.
    const sm4 = (await json('keys', 'create', 'cli-sm4', '--spec', 'SM4')).key_info.key_id as string;
    const second = (await json('clusters', 'create', 'cli-second')).cluster.id as string;
    const started = await json('encrypt', second, '--master-key-id', sm4, '--no-wait');
    assert.match(started.job_id, /^[0-9a-f-]{36}$/);
    const job = await json('jobs', 'show', started.job_id, '--wait');
    assert.equal(job.status, 'SUCCESS');
    assert.equal(job.progress, '100%');
    const jobText = await run('jobs', 'show', started.job_id);
    assert.equal(jobText.code, 0, jobText.stderr);
    assert.match(jobText.stdout, /^Status:\s+SUCCESS$/m);
    assert.equal((await json('info', second)).crypt_algorithm, 'SMcompatible');

    // Rotating the master key to another key of the same spec.
    const rotatedTo = await json(
      'rotate',
      clusterId,
      '--master-key-id',
      (await json('keys', 'create', 'cli-next')).key_info.key_id,
    );
    assert.equal(rotatedTo.master_key_name, 'cli-next');

    const disabled = await run('keys', 'disable', sm4);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /disabled/);
    assert.equal((await json('keys', 'describe', sm4)).key_info.key_state, '3');

    const deleted = await run(
      'clusters',
      'delete',
      (await json('clusters', 'create', 'cli-gone')).cluster.id,
    );
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  test('a refusal exits 1 with the error code on stderr', async () => {
    const keyId = (await json('keys', 'create', 'cli-refusal')).key_info.key_id as string;
    const old = (await json('clusters', 'create', 'cli-old', '--datastore-version', '7.2.1')).cluster
      .id as string;
    const result = await run('encrypt', old, '--master-key-id', keyId);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^DWS\.0404: .*7\.2\.1/m);
    assert.equal(result.stdout, '');

    const agent = (
      await json(
        'clusters',
        'create',
        'cli-agent',
        '--datastore-version',
        '8.3.0',
        '--guest-agent-version',
        '8.3.0.100',
      )
    ).cluster.id as string;
    const refused = await run('encrypt', agent, '--master-key-id', keyId, '--json');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /DWS\.0405/);

    const missing = await run('keys', 'describe', '00000000-0000-4000-8000-000000000000');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^KMS\.0301: /m);
  });

  test('usage errors exit 2, an unreachable service exits 3', async () => {
    const noCredentials = await runCli(['clusters', 'list'], { env: { DWS_ENDPOINT: ts.baseUrl } });
    assert.equal(noCredentials.code, 2);
    assert.match(noCredentials.stderr, /HUAWEICLOUD_SDK_AK/);

    const badFlag = await run('keys', 'create', 'x', '--spec', 'RSA_2048');
    assert.equal(badFlag.code, 2);
    const unknown = await run('clustrs', 'list');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /clusters/);

    // A port nothing listens on: the test server's, once it is closed.
    const closed = await startTestServer();
    const url = closed.baseUrl;
    await closed.close({ removeData: true });
    const unreachable = await run('clusters', 'list', '--endpoint', url);
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /cannot reach/);
  });

  test('demo creates keys of both specs, clusters of several versions, one encrypted, one rotated', async () => {
    const result = await run('demo', '--json');
    assert.equal(result.code, 0, result.stderr);
    const demo = JSON.parse(result.stdout);
    assert.equal(demo.keys.aes.spec, 'AES_256');
    assert.equal(demo.keys.sm4.spec, 'SM4');

    const { clusters } = demo;
    const encrypted = await ts.call(
      'GET',
      `/v1/${ts.projectId}/clusters/${clusters.encrypted.id}/encrypt-info`,
    );
    assert.equal(encrypted.body.master_key_id, demo.keys.aes.id);
    assert.equal(encrypted.body.crypt_algorithm, 'generalCipher');
    const rotated = await ts.call('GET', `/v1/${ts.projectId}/clusters/${clusters.rotated.id}/encrypt-info`);
    assert.equal(rotated.body.crypt_algorithm, 'SMcompatible');
    assert.notEqual(rotated.body.last_rotate_key_time, null);
    const ready = await ts.call('GET', `/v1/${ts.projectId}/clusters/${clusters.ready.id}/encrypt-info`);
    assert.equal(ready.body.id, null);
    assert.match(clusters.oldVersion.refusal, /^DWS\.0404: /);
    assert.match(clusters.oldGuestAgent.refusal, /^DWS\.0405: /);
    const detail = await ts.call('GET', `/v1.0/${ts.projectId}/clusters/${clusters.oldGuestAgent.id}`);
    assert.equal(detail.body.cluster.guest_agent_version, '8.3.0.100');

    // A second run in the same project does not collide with the first.
    const again = await run('demo');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Try next:/);
    assert.match(again.stdout, /npx dws-encryption encrypt \S+ --master-key-id \S+ +# DWS\.0404/);
  });
});

describe('dws-encryption --help', () => {
  function all(command: Command): Command[] {
    return [command, ...command.commands.flatMap(all)];
  }

  test('every command has a description and help', () => {
    const program = buildProgram();
    const commands = all(program);
    const names = commands.map((c) => c.name());
    for (const name of [
      'serve',
      'demo',
      'keys',
      'clusters',
      'encrypt',
      'rotate',
      'info',
      'jobs',
      'audit',
      'hash-password',
    ]) {
      assert.ok(names.includes(name), `no ${name} command`);
    }
    for (const command of commands) {
      assert.ok(command.description(), `${command.name()} has no description`);
      const help = command.helpInformation();
      assert.match(help, /^Usage: /, `${command.name()} --help`);
      assert.match(help, /-h, --help/);
    }
    const keys = program.commands.find((c) => c.name() === 'keys')!;
    assert.deepEqual(
      keys.commands.map((c) => c.name()),
      ['create', 'list', 'describe', 'enable', 'disable', 'schedule-deletion', 'cancel-deletion'],
    );
  });

  test('--help of a subcommand exits 0 and shows the global options', async () => {
    const result = await runCli(['encrypt', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Usage: dws-encryption encrypt \[options\] <cluster-id>/);
    assert.match(result.stdout, /--no-wait/);
    assert.match(result.stdout, /Global Options:[\s\S]*--endpoint/);
  });
});

describe('the dws-encryption entry point (a child process)', () => {
  test('runs a command against a service and exits with its code', async () => {
    const ts = await startTestServer();
    try {
      const env = {
        HUAWEICLOUD_SDK_AK: ts.ak,
        HUAWEICLOUD_SDK_SK: ts.sk,
        HUAWEICLOUD_SDK_PROJECT_ID: ts.projectId,
        DWS_ENDPOINT: ts.baseUrl,
      };
      const listed = await spawnCli(['clusters', 'list', '--json'], { env });
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout), { clusters: [], count: 0 });
      const refused = await spawnCli(['clusters', 'show', '00000000-0000-4000-8000-000000000000'], { env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^DWS\.0301: /m);
    } finally {
      await ts.close({ removeData: true });
    }
  });
});
