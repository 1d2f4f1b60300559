/**
 * Horizontal scale-out, for real: service processes (`node --import tsx src/main.ts`) on one PostgreSQL
 * database with the same root key and bootstrap credential. The instance running a conversion is killed
 * with SIGKILL mid-job; another takes the job over once the lease expires and finishes it, exactly once.
 * Then 20 rotations spread over two instances leave a consistent cluster.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { KeyService } from '../../src/services/kms.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { eventually } from '../helpers/eventually.js';
import {
  type ApiResponse,
  clusterBody,
  signedCall,
  TEST_AK,
  TEST_PROJECT_ID,
  TEST_SK,
} from '../helpers/server.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/stores.js';

interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  output: string[];
  exited: Promise<number | null>;
  call(method: string, path: string, body?: unknown): Promise<ApiResponse>;
}

const p = TEST_PROJECT_ID;

describe('several service processes on one PostgreSQL database', { skip: postgresSkip() }, () => {
  let database: TestDatabase;
  let direct: Database;
  const instances: Instance[] = [];
  /** Every process started, listening or not: all are stopped at the end. */
  const children: { child: ChildProcess; exited: Promise<number | null> }[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-multi-'));

  function startInstance(name: string): Promise<Instance> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: join(dataDir, name),
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: '4',
        DWS_ROOT_KEY: database.rootKey,
        DWS_BOOTSTRAP_AK: TEST_AK,
        DWS_BOOTSTRAP_SK: TEST_SK,
        DWS_BOOTSTRAP_PROJECT_ID: TEST_PROJECT_ID,
        DWS_ENCRYPT_JOB_SECONDS: '3',
        DWS_JOB_LEASE_SECONDS: '2',
        DWS_JOB_POLL_MS: '50',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    children.push({ child, exited });
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within 120 s:\n${output.join('\n')}`)),
        120_000,
      );
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before listening:\n${output.join('\n')}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        let record: { msg?: string; url?: string };
        try {
          record = JSON.parse(line);
        } catch {
          return;
        }
        if (record.msg === 'dws-encryption listening' && record.url) {
          clearTimeout(timer);
          const url = record.url;
          const instance: Instance = {
            name,
            child,
            url,
            output,
            exited,
            call: (method, path, body) => signedCall(url, method, path, body, { ak: TEST_AK, sk: TEST_SK }),
          };
          instances.push(instance);
          resolve(instance);
        }
      });
    });
  }

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    const running = () =>
      children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    for (const { child } of running()) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const { child } of running()) child.kill('SIGKILL');
    }, 10_000);
    await Promise.all(children.map((c) => c.exited));
    clearTimeout(timer);
    await direct?.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a conversion survives SIGKILL of the instance running it; rotations spread over two instances stay consistent', async (t) => {
    // Two instances start together on the fresh database (migrations run once).
    const [first, second] = await Promise.all([startInstance('a'), startInstance('b')]);
    direct = await openDatabase({ url: database.url, poolSize: 2 });

    const key = await first!.call('POST', `/v1.0/${p}/kms/create-key`, {
      key_alias: 'scale',
      key_spec: 'AES_256',
    });
    assert.equal(key.status, 200, key.text);
    const keyId: string = key.body.key_info.key_id;
    const created = await second!.call('POST', `/v2/${p}/clusters`, clusterBody('scaled'));
    assert.equal(created.status, 200, created.text);
    const clusterId: string = created.body.cluster.id;
    const started = await first!.call('POST', `/v2/${p}/clusters/${clusterId}/encrypt`, {
      encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' },
    });
    assert.equal(started.status, 200, started.text);
    const jobId: string = started.body.job_id;

    // Whichever instance claimed the job (lease_owner is `<host>:<pid>:<random>`) is killed mid-job,
    // about a third of the way through.
    let owner = '';
    for (let i = 0; i < 100 && !owner; i++) {
      const job = await direct.db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
      if (job.lease_owner && job.status === 'RUNNING' && job.progress >= 25) owner = job.lease_owner;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(owner, 'an instance claimed the job');
    const victim = instances.find((i) => owner.split(':').at(-2) === String(i.child.pid));
    assert.ok(victim, `lease owner ${owner} is one of the instances`);
    const survivor = victim === first ? second! : first!;
    const before = await victim.call('GET', `/v1.0/${p}/job/${jobId}`);
    assert.equal(before.body.status, 'RUNNING', 'the job is still running when its instance dies');
    victim.child.kill('SIGKILL');
    await victim.exited;
    t.diagnostic(`killed ${victim.name} at ${before.body.progress}; ${survivor.name} takes over`);

    // A replacement starts while the survivor waits out the lease and finishes the job.
    const replacement = startInstance('c');
    let job: ApiResponse | undefined;
    await eventually('the survivor finishes the job', async () => {
      job = await survivor.call('GET', `/v1.0/${p}/job/${jobId}`);
      return ['SUCCESS', 'FAIL'].includes(job.body.status);
    });
    assert.equal(job?.body.status, 'SUCCESS', job?.text);
    const stored = await direct.db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    assert.ok(stored.attempts >= 2, `taken over (attempts ${stored.attempts})`);
    assert.equal(stored.lease_owner, null);

    const info = await survivor.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`);
    assert.equal(info.status, 200);
    assert.equal(info.body.master_key_id, keyId);
    assert.equal(info.body.crypt_algorithm, 'generalCipher');
    const encryptSuccesses = await direct.db
      .selectFrom('audit_events')
      .select('detail')
      .where('resource_id', '=', clusterId)
      .where('action', '=', 'dws:cluster:encrypt')
      .where('result', '=', 'success')
      .execute();
    assert.equal(encryptSuccesses.length, 1, 'one success record for the conversion');
    assert.match(encryptSuccesses[0]!.detail ?? '', new RegExp(jobId));
    const keys = new KeyService(direct, Buffer.from(database.rootKey, 'base64'));
    const master = await direct.db
      .selectFrom('kms_keys')
      .selectAll()
      .where('id', '=', keyId)
      .executeTakeFirstOrThrow();
    const versions = await direct.db
      .selectFrom('cluster_data_keys')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .execute();
    assert.deepEqual(
      versions.map((v) => v.version),
      [1],
    );
    const dek = keys.unwrap(master, Buffer.from(versions[0]!.wrapped, 'base64'), `dws-cluster:${clusterId}`);
    assert.equal(dek.length, 32, 'the data key decrypts under the master key');

    // 20 rotations at once, spread over the two live instances.
    const live = [survivor, await replacement];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        live[i % 2]!.call('POST', `/v1/${p}/clusters/${clusterId}/rotate-key`),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    for (const r of results) {
      assert.ok(
        r.status === 200 || (r.status >= 400 && r.status < 500 && typeof r.body?.error_code === 'string'),
        `${r.status} ${r.text}`,
      );
    }
    assert.ok(ok.length > 0, 'ok.length > 0');
    const latest = ok
      .map((r) => r.body.rotate_key_time as string)
      .sort()
      .at(-1);
    const after = await live[1]!.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`);
    assert.equal(after.body.last_rotate_key_time, latest);
    const allVersions = await direct.db
      .selectFrom('cluster_data_keys')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .orderBy('version')
      .execute();
    assert.deepEqual(
      allVersions.map((v) => v.version),
      Array.from({ length: 1 + ok.length }, (_, i) => i + 1),
    );
    for (const v of allVersions) {
      assert.equal(
        keys.unwrap(master, Buffer.from(v.wrapped, 'base64'), `dws-cluster:${clusterId}`).length,
        32,
      );
    }
    const rotateSuccesses = await direct.db
      .selectFrom('audit_events')
      .select('id')
      .where('resource_id', '=', clusterId)
      .where('action', '=', 'dws:cluster:rotateKey')
      .where('result', '=', 'success')
      .execute();
    assert.equal(rotateSuccesses.length, ok.length);
  });
});
