/**
 * Crash tests: the service runs as a child process on an embedded SQLite store and is killed with
 * SIGKILL (no shutdown code runs) at random points of conversions and rotations, then restarted on the
 * same data directory. After every restart: every job ends SUCCESS or FAIL (none is stuck), each
 * cluster's state matches its job, every data key still decrypts under its master key (the store
 * invariants, test/helpers/invariants.ts), no acknowledged rotation is lost, and a failed conversion
 * can be retried. The kill delays are random and printed, so a failure names the point it hit; what is
 * asserted depends on none of them (a slow machine only moves the point where the kill lands).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { type ChildService, openStoreReadOnly, startChild, waitForChildJob } from '../helpers/child.js';
import { checkInvariantsIn } from '../helpers/invariants.js';
import { clusterBody } from '../helpers/server.js';

const JOB_SECONDS = 1;
const env = { DWS_ENCRYPT_JOB_SECONDS: String(JOB_SECONDS) };
/** Conversions that finish only when the test makes them due (`POST /_dws/jobs/complete`). */
const heldEnv = { DWS_ENCRYPT_JOB_SECONDS: '3600' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children: ChildService[] = [];
const dirs: string[] = [];

after(async () => {
  for (const child of children) await child.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir?: string, childEnv: Record<string, string> = env): Promise<ChildService> {
  const child = await startChild({ ...(dataDir ? { dataDir } : {}), env: childEnv });
  children.push(child);
  if (!dataDir) dirs.push(child.dataDir);
  return child;
}

async function invariants(dataDir: string): Promise<string[]> {
  const store = openStoreReadOnly(dataDir);
  try {
    return await store.db.transaction().execute((trx) => checkInvariantsIn(trx, store.rootKey));
  } finally {
    await store.close();
  }
}

async function ok(res: Promise<{ status: number; text: string; body: any }>, what: string): Promise<any> {
  const r = await res;
  assert.equal(r.status, 200, `${what}: ${r.text}`);
  return r.body;
}

test('kill -9 at random points of conversions: jobs end SUCCESS or FAIL, states match, a failed one is retried', async () => {
  let child = await start();
  const dataDir = child.dataDir;
  const p = child.projectId;
  const key = (await ok(child.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'crash-aes' }), 'key'))
    .key_info.key_id;
  const encrypt = { encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' } };
  const startConversions = async (cycle: string, where: string) => {
    const clusters: string[] = [];
    for (let c = 0; c < 3; c++) {
      clusters.push(
        (await ok(child.call('POST', `/v2/${p}/clusters`, clusterBody(`crash-${cycle}-${c}`)), where)).cluster
          .id,
      );
    }
    const jobs: string[] = [];
    for (const id of clusters) {
      jobs.push((await ok(child.call('POST', `/v2/${p}/clusters/${id}/encrypt`, encrypt), where)).job_id);
    }
    return { clusters, jobs };
  };
  /** Waits for each job to end `expected`, with its cluster encrypted (SUCCESS) or left plain (FAIL). */
  const expectJobs = async (clusters: string[], jobs: string[], expected: string, where: string) => {
    for (const [j, jobId] of jobs.entries()) {
      const job = await waitForChildJob(child, jobId);
      assert.equal(job.status, expected, `${where}: job ${jobId} ${JSON.stringify(job)}`);
      const info = await ok(child.call('GET', `/v1/${p}/clusters/${clusters[j]}/encrypt-info`), where);
      assert.equal(info.cluster_id, expected === 'SUCCESS' ? clusters[j] : null, `${where}: cluster state`);
    }
    assert.deepEqual(await invariants(dataDir), [], where);
  };

  // Kill points spread over the whole conversion: before the runner claims it, while it reports
  // progress, and around the finishing transaction (due at JOB_SECONDS).
  const delays = [0, 150 + Math.random() * 550, 750 + Math.random() * 400];
  for (const [i, delay] of delays.entries()) {
    const where = `cycle ${i}, kill after ${Math.round(delay)} ms`;
    const { clusters, jobs } = await startConversions(String(i), where);
    await sleep(delay);
    await child.kill();
    child = await start(dataDir);
    await expectJobs(clusters, jobs, 'SUCCESS', where);
  }

  // Conversions that fail: their key is disabled while they run. They are held (due in an hour) until
  // the key is disabled, so none can finish first however slow the machine; then they are made due
  // (POST /_dws/jobs/complete) and the process is killed around their finishing transactions.
  await child.kill();
  child = await start(dataDir, heldEnv);
  const killDelay = Math.random() * 300;
  const failing = `failing cycle, kill ${Math.round(killDelay)} ms after the jobs were made due`;
  const { clusters, jobs } = await startConversions('fail', failing);
  await ok(child.call('POST', `/v1.0/${p}/kms/disable-key`, { key_id: key }), failing);
  const completing = child.call('POST', '/_dws/jobs/complete').catch(() => undefined); // dies with the process
  await sleep(killDelay);
  await child.kill();
  await completing;
  child = await start(dataDir);
  // The jobs the kill left unfinished are made due again (those not yet due would wait their hour).
  await ok(child.call('POST', '/_dws/jobs/complete'), failing);
  await expectJobs(clusters, jobs, 'FAIL', failing);

  // A failed conversion can be retried once the cause is fixed.
  await ok(child.call('POST', `/v1.0/${p}/kms/enable-key`, { key_id: key }), 'enable');
  const retries: string[] = [];
  for (const id of clusters) {
    retries.push((await ok(child.call('POST', `/v2/${p}/clusters/${id}/encrypt`, encrypt), 'retry')).job_id);
  }
  await expectJobs(clusters, retries, 'SUCCESS', 'the retries');
  await child.kill();
});

test('kill -9 during streams of rotations: no acknowledged rotation lost, versions contiguous, keys decrypt', async (t) => {
  let child = await start();
  const dataDir = child.dataDir;
  const p = child.projectId;
  const keys: string[] = [];
  for (const alias of ['rot-a', 'rot-b']) {
    keys.push(
      (await ok(child.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: alias }), 'key')).key_info
        .key_id,
    );
  }
  const cluster = (
    await ok(
      child.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('crash-rotate', { master_key_id: keys[0], crypt_algorithm: 'generalCipher' }),
      ),
      'cluster',
    )
  ).cluster.id;

  let acknowledged = 0;
  for (let cycle = 0; cycle < 2; cycle++) {
    const delay = 100 + Math.random() * 500;
    const where = `cycle ${cycle}, kill after ${Math.round(delay)} ms`;
    // Four concurrent streams: data-key rotations and master-key rotations (which re-wrap every version
    // in one transaction), until the process dies under them.
    let dead = false;
    const stream = async (s: number) => {
      for (let n = 0; !dead; n++) {
        const body = (s + n) % 3 === 0 ? { master_key_id: keys[(s + n) % 2] } : undefined;
        try {
          const res = await child.call('POST', `/v1/${p}/clusters/${cluster}/rotate-key`, body);
          if (res.status === 200) acknowledged++;
          else assert.fail(`${where}: rotation answered ${res.status} ${res.text}`);
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          return; // the connection died with the process
        }
      }
    };
    const streams = [0, 1, 2, 3].map(stream);
    await sleep(delay);
    await child.kill();
    dead = true;
    await Promise.all(streams);

    child = await start(dataDir);
    assert.deepEqual(await invariants(dataDir), [], where);
    const store = openStoreReadOnly(dataDir);
    try {
      const row = await store.db
        .selectFrom('clusters')
        .selectAll()
        .where('id', '=', cluster)
        .executeTakeFirstOrThrow();
      const audited = await store.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'dws:cluster:rotateKey')
        .where('result', '=', 'success')
        .where('resource_id', '=', cluster)
        .executeTakeFirstOrThrow();
      const dataKeyRotations = row.dek_version - 1; // version 1 came with the cluster
      assert.ok(
        Number(audited.n) >= acknowledged,
        `${where}: ${acknowledged} rotations acknowledged, ${audited.n} recorded`,
      );
      assert.ok(dataKeyRotations <= Number(audited.n), `${where}: more data-key versions than rotations`);
      acknowledged = Number(audited.n); // some committed just before the kill without an answer
    } finally {
      await store.close();
    }
    const info = await ok(child.call('GET', `/v1/${p}/clusters/${cluster}/encrypt-info`), where);
    assert.ok(keys.includes(info.master_key_id), `${where}: the master key is one of ours`);
    // And it still rotates after the restart.
    await ok(child.call('POST', `/v1/${p}/clusters/${cluster}/rotate-key`), `${where}: rotate after restart`);
    acknowledged++;
    t.diagnostic(`${where}: ${acknowledged} rotations recorded so far`);
  }
  await child.kill();
});
