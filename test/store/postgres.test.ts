/**
 * The PostgreSQL store on a real server: migrations run once when instances start together, the root key
 * must come from the environment, job claims are exclusive under READ COMMITTED, and a finisher that
 * lost its lease changes nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ensureBootstrapCredential } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { checkStoreReadiness } from '../../src/store/health.js';
import { claimJob, claimJobs, updateOwnedJob } from '../../src/store/jobs.js';
import { buildMigrations } from '../../src/store/migrations.js';
import type { JobTable } from '../../src/store/schema.js';
import { startTestServer, TEST_AK, TEST_PROJECT_ID, TEST_SK } from '../helpers/server.js';
import { jobRow } from '../helpers/services.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/stores.js';

const newJob = (now: number, extra: Partial<JobTable> = {}) =>
  jobRow(now, { project_id: TEST_PROJECT_ID, ...extra });

describe('PostgreSQL store', { skip: postgresSkip() }, () => {
  test('several instances starting together on a fresh database run each migration once', async () => {
    const database = await createTestDatabase();
    const servers = await Promise.all(
      Array.from({ length: 4 }, () => startTestServer({ database, env: { DATABASE_POOL_SIZE: '3' } })),
    );
    try {
      const rows = await servers[0]!.server.database.db
        .selectFrom('kysely_migration' as never)
        .select(sql<string>`name`.as('name'))
        .execute();
      const names = rows.map((r) => (r as { name: string }).name).sort();
      assert.deepEqual(names, Object.keys(buildMigrations('postgres')).sort());
      for (const ts of servers) {
        const res = await ts.call('GET', `/v1.0/${ts.projectId}/clusters`);
        assert.equal(res.status, 200, res.text);
      }
      // The bootstrap credential was inserted once, whoever came first.
      const credentials = await servers[0]!.server.database.db
        .selectFrom('credentials')
        .selectAll()
        .execute();
      assert.equal(credentials.length, 1);
    } finally {
      await Promise.all(servers.map((ts) => ts.close({ removeData: true })));
      await database.drop();
    }
  });

  test('instances bootstrapping together agree on one credential (generated, or from the environment)', async () => {
    const database = await createTestDatabase();
    const opened = await Promise.all(
      Array.from({ length: 6 }, () => openDatabase({ url: database.url, poolSize: 2 })),
    );
    try {
      const rootKey = Buffer.from(database.rootKey, 'base64');
      const generated = await Promise.all(
        opened.map((d) => ensureBootstrapCredential(d, rootKey, loadConfig({ DATABASE_URL: database.url }))),
      );
      assert.equal(new Set(generated.map((c) => c.accessKey)).size, 1);
      assert.equal(generated.filter((c) => c.generated).length, 1, 'generated (and printed) by one instance');
      const fromEnv = await Promise.all(
        opened.map((d) =>
          ensureBootstrapCredential(
            d,
            rootKey,
            loadConfig({ DATABASE_URL: database.url, DWS_BOOTSTRAP_AK: TEST_AK, DWS_BOOTSTRAP_SK: TEST_SK }),
          ),
        ),
      );
      assert.equal(new Set(fromEnv.map((c) => `${c.domainId}/${c.projectId}`)).size, 1);
      const rows = await opened[0]!.db.selectFrom('credentials').select('access_key').execute();
      assert.equal(rows.length, 2);
    } finally {
      await Promise.all(opened.map((d) => d.close()));
      await database.drop();
    }
  });

  describe('root key', () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase();
    });
    after(() => database.drop());

    test('start-up without DWS_ROOT_KEY fails with a message that names it', async () => {
      const config = loadConfig({
        PORT: '0',
        DATABASE_URL: database.url,
        DWS_BOOTSTRAP_AK: TEST_AK,
        DWS_BOOTSTRAP_SK: TEST_SK,
      });
      await assert.rejects(
        startServer(config, { logger: false }),
        /DWS_ROOT_KEY is required with PostgreSQL/,
      );
    });

    test('the service process exits with that message', () => {
      const env: Record<string, string | undefined> = {
        ...process.env,
        DATABASE_URL: database.url,
        PORT: '0',
      };
      delete env.DWS_ROOT_KEY;
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /DWS_ROOT_KEY is required with PostgreSQL/);
    });
  });

  describe('jobs', () => {
    let database: TestDatabase;
    const instances: Database[] = [];
    before(async () => {
      database = await createTestDatabase();
      for (let i = 0; i < 3; i++) instances.push(await openDatabase({ url: database.url, poolSize: 4 }));
    });
    after(async () => {
      await Promise.all(instances.map((d) => d.close()));
      await database.drop();
    });

    test('the default isolation is READ COMMITTED (what the locking design assumes)', async () => {
      const row = await sql<{
        level: string;
      }>`SELECT current_setting('transaction_isolation') AS level`.execute(instances[0]!.db);
      assert.equal(row.rows[0]?.level, 'read committed');
    });

    test('instances claiming together take every job exactly once (SKIP LOCKED batches)', async () => {
      const now = Date.now();
      const jobs = Array.from({ length: 60 }, (_, i) => newJob(now + i));
      await instances[0]!.db.insertInto('jobs').values(jobs).execute();
      const claims = new Map<string, string[]>();
      await Promise.all(
        instances.flatMap((instance, i) =>
          [0, 1].map(async (j) => {
            const owner = `instance-${i}-${j}`;
            for (;;) {
              const got = await claimJobs(instance.db, 'postgres', owner, Date.now(), 60_000, 7);
              if (got.length === 0) return;
              for (const job of got) claims.set(job.id, [...(claims.get(job.id) ?? []), owner]);
            }
          }),
        ),
      );
      assert.equal(claims.size, 60);
      for (const [id, owners] of claims) assert.equal(owners.length, 1, `job ${id} claimed by ${owners}`);
      const stored = await instances[0]!.db
        .selectFrom('jobs')
        .select(['id', 'lease_owner', 'attempts'])
        .execute();
      for (const row of stored) {
        assert.equal(row.lease_owner, claims.get(row.id)?.[0]);
        assert.equal(row.attempts, 1);
      }
    });

    test('a conditional claim of one job raced by many instances has exactly one winner', async () => {
      const job = newJob(Date.now());
      await instances[0]!.db.insertInto('jobs').values(job).execute();
      const results = await Promise.all(
        Array.from({ length: 9 }, (_, i) =>
          claimJob(instances[i % 3]!.db, job.id, `racer-${i}`, Date.now(), 60_000),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('a job whose lease is held is not claimable; once expired another instance takes it over', async () => {
      const now = Date.now();
      const job = newJob(now);
      await instances[0]!.db.insertInto('jobs').values(job).execute();
      assert.ok(
        await claimJob(instances[0]!.db, job.id, 'a', now, 1_000),
        "await claimJob(instances[0]!.db, job.id, 'a', now, 1_000)",
      );
      assert.equal(await claimJob(instances[1]!.db, job.id, 'b', now + 500, 1_000), undefined);
      assert.deepEqual(
        (await claimJobs(instances[1]!.db, 'postgres', 'b', now + 500, 1_000, 100)).filter(
          (j) => j.id === job.id,
        ),
        [],
      );
      const taken = await claimJob(instances[1]!.db, job.id, 'b', now + 1_001, 1_000);
      assert.equal(taken?.lease_owner, 'b');
      assert.equal(taken?.attempts, 2);
      // The old owner can neither renew nor finish any more.
      assert.equal(await updateOwnedJob(instances[0]!.db, job.id, 'a', { progress: 50 }), false);
    });

    test('finish vs. take-over under READ COMMITTED: the take-over waits for the finish and then finds nothing', async () => {
      const now = Date.now();
      const job = newJob(now);
      await instances[0]!.db.insertInto('jobs').values(job).execute();
      assert.ok(
        await claimJob(instances[0]!.db, job.id, 'a', now, 1_000),
        "await claimJob(instances[0]!.db, job.id, 'a', now, 1_000)",
      );
      let committed = false;
      let releaseFinish!: () => void;
      const finishHeld = new Promise<void>((resolve) => {
        releaseFinish = resolve;
      });
      let lockTaken!: () => void;
      const locked = new Promise<void>((resolve) => {
        lockTaken = resolve;
      });
      // A's finish transaction, exactly as the runner's: the ownership UPDATE first (it locks the row).
      const finish = instances[0]!.transaction(async (trx) => {
        assert.ok(
          await updateOwnedJob(trx, job.id, 'a', { status: 'RUNNING', updated_at: now }),
          "await updateOwnedJob(trx, job.id, 'a', { status: 'RUNNING', updated_at: now })",
        );
        lockTaken();
        await finishHeld;
        assert.ok(
          await updateOwnedJob(trx, job.id, 'a', {
            status: 'SUCCESS',
            progress: 100,
            end_at: now,
            lease_owner: null,
            lease_expires_at: null,
          }),
          "await updateOwnedJob(trx, job.id, 'a', { status: 'SUCCESS', progress: 100, end_at: now, lease_owner: null, lease_expires_at: null, })",
        );
      });
      await locked;
      // B sees the lease as expired (its clock is past it) and tries to take the job over meanwhile.
      const takeover = claimJob(instances[1]!.db, job.id, 'b', now + 60_000, 1_000).then((row) => {
        assert.ok(committed, 'the take-over returned before the finish committed');
        return row;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      committed = true;
      releaseFinish();
      await finish;
      assert.equal(await takeover, undefined);
      const stored = await instances[0]!.db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', job.id)
        .executeTakeFirst();
      assert.equal(stored?.status, 'SUCCESS');
    });

    test('two finishers at once: only the current lease owner gets past the ownership check', async () => {
      const now = Date.now();
      const job = newJob(now);
      await instances[0]!.db.insertInto('jobs').values(job).execute();
      assert.ok(
        await claimJob(instances[0]!.db, job.id, 'a', now, 1_000),
        "await claimJob(instances[0]!.db, job.id, 'a', now, 1_000)",
      );
      assert.ok(
        await claimJob(instances[1]!.db, job.id, 'b', now + 2_000, 1_000),
        "await claimJob(instances[1]!.db, job.id, 'b', now + 2_000, 1_000)",
      ); // a's lease ran out
      const outcomes = await Promise.all(
        (['a', 'b'] as const).map((owner, i) =>
          instances[i]!.transaction(async (trx) => {
            if (!(await updateOwnedJob(trx, job.id, owner, { status: 'RUNNING' }))) return null;
            await trx
              .insertInto('audit_events')
              .values({
                at: now,
                request_id: null,
                domain_id: null,
                project_id: TEST_PROJECT_ID,
                user_name: owner,
                access_key: null,
                action: 'finish-race',
                resource_type: 'job',
                resource_id: job.id,
                result: 'success',
                detail: null,
              })
              .execute();
            await updateOwnedJob(trx, job.id, owner, { status: 'SUCCESS', lease_owner: null });
            return owner;
          }),
        ),
      );
      assert.deepEqual(outcomes, [null, 'b']);
      const effects = await instances[2]!.db
        .selectFrom('audit_events')
        .select('user_name')
        .where('resource_id', '=', job.id)
        .execute();
      assert.deepEqual(effects, [{ user_name: 'b' }]);
    });

    test('readiness: a round trip and every migration applied', async () => {
      const readiness = await checkStoreReadiness(instances[0]!);
      assert.equal(readiness.ready, true, readiness.reason);
      assert.equal(readiness.store, 'postgres');
    });
  });
});
