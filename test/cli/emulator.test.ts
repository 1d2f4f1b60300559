/** The emulator commands of the CLI (reset, seed, state, faults, jobs complete), run in-process against startDws. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Dws, startDws } from '../../src/testing/index.js';
import { runCli } from '../helpers/cli.js';

let dws: Dws;
const dir = mkdtempSync(join(tmpdir(), 'dws-cli-emulator-'));

before(async () => {
  dws = await startDws();
});
after(async () => {
  await dws.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI in this process against the emulator (see test/helpers/cli.ts). */
function cli(...args: string[]) {
  return runCli(args, {
    env: {
      DWS_ENDPOINT: dws.endpoint,
      HUAWEICLOUD_SDK_AK: dws.ak,
      HUAWEICLOUD_SDK_SK: dws.sk,
      HUAWEICLOUD_SDK_PROJECT_ID: dws.projectId,
    },
  });
}

test('seed, faults add/list/clear, state export/import, jobs complete, reset', async () => {
  const seedFile = join(dir, 'seed.json');
  writeFileSync(
    seedFile,
    JSON.stringify({ keys: [{ alias: 'k1' }], clusters: [{ name: 'c1', encryption: { key: 'k1' } }] }),
  );
  const seeded = await cli('seed', seedFile, '--json');
  assert.equal(seeded.code, 0, seeded.stderr);
  const ids = JSON.parse(seeded.stdout);
  assert.match(ids.clusters.c1, /^[0-9a-f-]{36}$/);

  const added = await cli(
    'faults',
    'add',
    '--operation',
    'ShowClusterEncryptInfo',
    '--count',
    '1',
    '--status',
    '503',
    '--json',
  );
  assert.equal(added.code, 0, added.stderr);
  const rule = JSON.parse(added.stdout);
  assert.deepEqual(rule.error, { status: 503 });
  const info = await cli('info', ids.clusters.c1);
  assert.equal(info.code, 1);
  assert.match(info.stderr, /^DWS\.0503: /);
  const listed = await cli('faults', 'list');
  assert.match(listed.stdout, new RegExp(`${rule.id}.*ShowClusterEncryptInfo.*503.*1\\s+0`));
  const job = await cli(
    'faults',
    'add',
    '--operation',
    'EncryptCluster',
    '--fail-at-percent',
    '40',
    '--failed-code',
    'X:DWS.0599',
    '--json',
  );
  assert.deepEqual(JSON.parse(job.stdout).job, {
    fail_at_percent: 40,
    failed_code: 'X:DWS.0599',
    failed_detail: 'DWS.0500:The conversion failed.',
  });
  assert.match((await cli('faults', 'clear')).stdout, /removed 2 fault rule/);
  const bad = await cli('faults', 'add', '--operation', 'Nope');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /operation must be/);

  const exported = await cli('state', 'export');
  assert.equal(exported.code, 0, exported.stderr);
  const snapshot = join(dir, 'snap.json');
  writeFileSync(snapshot, exported.stdout);
  assert.match((await cli('reset')).stdout, /reset: all/);
  assert.equal((await cli('info', ids.clusters.c1)).code, 1);
  const imported = await cli('state', 'import', snapshot);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /clusters\s+1/);
  assert.equal((await cli('info', ids.clusters.c1)).code, 0);
  assert.match((await cli('jobs', 'complete')).stdout, /no unfinished jobs/);
});

test('faults add: a flag for each rule field; faults clear <id>; reset --project', async () => {
  const cluster = '7d85f602-a948-4a30-afd4-e84f47471c15';
  const added = await cli(
    'faults',
    'add',
    '--operation',
    'ShowClusterEncryptInfo',
    '--project',
    dws.projectId,
    '--cluster',
    cluster,
    '--probability',
    '0.5',
    '--count',
    '3',
    '--latency-ms',
    '250',
    '--status',
    '429',
    '--error-code',
    'DWS.0429',
    '--error-msg',
    'Too many requests.',
    '--json',
  );
  assert.equal(added.code, 0, added.stderr);
  const rule = JSON.parse(added.stdout);
  assert.deepEqual(
    { ...rule, id: undefined },
    {
      id: undefined,
      operation: 'ShowClusterEncryptInfo',
      project_id: dws.projectId,
      cluster_id: cluster,
      probability: 0.5,
      count: 3,
      remaining: 3,
      hits: 0,
      latency_ms: 250,
      error: { status: 429, error_code: 'DWS.0429', error_msg: 'Too many requests.' },
    },
  );
  const job = await cli(
    'faults',
    'add',
    '--operation',
    'EncryptCluster',
    '--failed-detail',
    'DWS.0500:disk full',
    '--json',
  );
  assert.equal(job.code, 0, job.stderr);
  assert.deepEqual(JSON.parse(job.stdout).job, {
    fail_at_percent: 0,
    failed_code: 'EncryptCluster-fail:DWS.0500',
    failed_detail: 'DWS.0500:disk full',
  });
  const listed = await cli('faults', 'list');
  assert.match(
    listed.stdout,
    new RegExp(
      `${rule.id}\\s+ShowClusterEncryptInfo ${dws.projectId} ${cluster}\\s+\\+250 ms, 429 DWS\\.0429\\s+0\\.5\\s+0\\s+3`,
    ),
  );
  const badNumber = await cli('faults', 'add', '--operation', '*', '--latency-ms', 'soon');
  assert.equal(badNumber.code, 2);
  assert.match(badNumber.stderr, /--latency-ms must be a number, got 'soon'/);

  assert.match((await cli('faults', 'clear', rule.id)).stdout, /removed 1 fault rule/);
  assert.deepEqual(
    dws.faults.list().map((r) => r.operation),
    ['EncryptCluster'],
  );
  assert.equal((await cli('faults', 'clear', rule.id)).code, 1, 'already removed: 404');

  // reset --project empties that project only, and keeps the rules.
  const other = 'ee'.repeat(16);
  await dws.reset();
  dws.faults.add({ operation: 'RotateKey', latency_ms: 1 });
  await dws.seed({ keys: [{ alias: 'mine' }] });
  await dws.seed({ project_id: other, keys: [{ alias: 'theirs' }] });
  assert.match((await cli('reset', '--project', other)).stdout, new RegExp(`reset: ${other}`));
  const keys = async (projectId: string) =>
    ((await dws.exportState()).tables.kms_keys as { project_id: string }[]).filter(
      (k) => k.project_id === projectId,
    ).length;
  assert.equal(await keys(other), 0);
  assert.equal(await keys(dws.projectId), 1);
  assert.equal(dws.faults.list().length, 1);
  await dws.reset();
});
