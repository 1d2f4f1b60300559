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
