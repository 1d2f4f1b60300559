/**
 * Graceful shutdown of the service process (src/main.ts, RunningServer.close): on SIGTERM it stops
 * accepting connections, lets in-flight requests finish, checkpoints running jobs (their leases handed
 * back), closes the store and exits 0 — within DWS_SHUTDOWN_TIMEOUT_SECONDS even when a client never
 * finishes its request. The next start resumes the interrupted conversion.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { type ChildService, openStoreReadOnly, startChild, waitForChildJob } from '../helpers/child.js';
import { checkInvariantsIn } from '../helpers/invariants.js';
import { clusterBody } from '../helpers/server.js';

const children: ChildService[] = [];
const dirs: string[] = [];
after(async () => {
  for (const child of children) await child.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>, dataDir?: string): Promise<ChildService> {
  const child = await startChild({ env, ...(dataDir ? { dataDir } : {}) });
  children.push(child);
  if (!dataDir) dirs.push(child.dataDir);
  return child;
}

/** A request whose head is sent now and whose body is sent when `finish` is called; resolves with the answer. */
function inFlight(url: string, path: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk.toString();
  });
  socket.on('error', () => {});
  const answered = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  const headSent = new Promise<void>((resolve) =>
    socket.once('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{`,
        () => resolve(),
      );
    }),
  );
  return { headSent, answered, finish: () => socket.write('}'), socket };
}

test('SIGTERM during a conversion: in-flight request answered, no new connections, exit 0, the job resumes', async () => {
  const env = { DWS_ENCRYPT_JOB_SECONDS: '2' };
  const child = await start(env);
  const p = child.projectId;
  const key = (await child.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'stop-key' })).body.key_info
    .key_id;
  const cluster = (await child.call('POST', `/v2/${p}/clusters`, clusterBody('stop-cluster'))).body.cluster
    .id;
  const job = await child.call('POST', `/v2/${p}/clusters/${cluster}/encrypt`, {
    encrypt: { master_key_id: key, crypt_algorithm: 'generalCipher' },
  });
  assert.equal(job.status, 200, job.text);
  await new Promise((r) => setTimeout(r, 400)); // the runner has claimed the job and reports progress

  const request = inFlight(child.url, `/v1.0/${p}/kms/list-keys`);
  await request.headSent;
  await new Promise((r) => setTimeout(r, 100));
  const signalledAt = Date.now();
  child.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(fetch(`${child.url}/healthz`), 'no new connections while shutting down');
  request.finish();
  const answer = await request.answered;
  // Unsigned, so the answer is a 401 — what matters is that the request was processed and answered.
  assert.match(answer, /^HTTP\/1\.1 401 /, `the in-flight request is answered: ${answer}`);
  assert.match(answer, /"error_code":"KMS\.0101"/);
  assert.match(answer, /\r\nconnection: close\r\n/i, 'an answer sent while closing closes its connection');

  const { code, signal } = await child.exited;
  const tookMs = Date.now() - signalledAt;
  assert.equal(code, 0, `exit code (signal ${signal}):\n${child.output()}`);
  assert.ok(tookMs < 5_000, `shutdown took ${tookMs} ms`);

  // The job was checkpointed: not final, no lease held.
  const store = openStoreReadOnly(child.dataDir);
  try {
    const row = await store.db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', job.body.job_id)
      .executeTakeFirstOrThrow();
    assert.ok(!['SUCCESS', 'FAIL'].includes(row.status), `job ${row.status} before its due time`);
    assert.equal(row.lease_owner, null, 'the lease was handed back');
  } finally {
    await store.close();
  }

  const again = await start(env, child.dataDir);
  const done = await waitForChildJob(again, job.body.job_id);
  assert.equal(done.status, 'SUCCESS', JSON.stringify(done));
  const info = await again.call('GET', `/v1/${p}/clusters/${cluster}/encrypt-info`);
  assert.equal(info.body.cluster_id, cluster);
  again.proc.kill('SIGTERM');
  assert.equal((await again.exited).code, 0);
  const after = openStoreReadOnly(child.dataDir);
  try {
    assert.deepEqual(
      await after.db.transaction().execute((trx) => checkInvariantsIn(trx, after.rootKey)),
      [],
    );
  } finally {
    await after.close();
  }
});

test('SIGTERM with a client that never finishes its request: exit 0 within DWS_SHUTDOWN_TIMEOUT_SECONDS', async () => {
  const child = await start({ DWS_SHUTDOWN_TIMEOUT_SECONDS: '2' });
  const stuck = inFlight(child.url, `/v1.0/${child.projectId}/kms/list-keys`);
  await stuck.headSent;
  await new Promise((r) => setTimeout(r, 100));
  const signalledAt = Date.now();
  child.proc.kill('SIGTERM');
  const { code } = await child.exited;
  const tookMs = Date.now() - signalledAt;
  assert.equal(code, 0, child.output());
  assert.ok(tookMs < 3_000, `shutdown took ${tookMs} ms`);
  stuck.socket.destroy();
});
