/**
 * `npx tsx bench/paused-instance.ts [--root <checkout>] [--seconds 30]`: three instances on one
 * PostgreSQL database; one is paused (SIGSTOP) while a session holds a cluster's row lock and never
 * continues (what a paused instance that had just run its SELECT ... FOR UPDATE leaves behind: played by
 * this script's own connection, so the moment of the pause is exact). Clients then keep using the two
 * healthy instances: retried rotations of the locked cluster, and unrelated work (encrypt-info reads,
 * cluster lists, rotations of other clusters). Prints the share of healthy-instance requests answered
 * 2xx, overall and for the unrelated work only. A request gets at most 10 s (then it counts as not 2xx).
 * `--root` runs another checkout of the service (for a before/after comparison); the database is a fresh
 * one on TEST_POSTGRES_URL (default the local server), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type ChildService, startChild } from '../test/helpers/child.js';
import { clusterBody, TEST_PROJECT_ID } from '../test/helpers/server.js';
import { createTestDatabase } from '../test/helpers/stores.js';

function argument(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const root = argument('--root');
const seconds = Number(argument('--seconds') ?? 30);
const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, DWS_ROOT_KEY: database.rootKey, LOG_LEVEL: 'error' };
const instances: ChildService[] = [];
try {
  for (let i = 0; i < 3; i++) instances.push(await startChild({ env, ...(root ? { root } : {}) }));
  const [paused, ...healthy] = instances as [ChildService, ChildService, ChildService];
  const p = TEST_PROJECT_ID;
  const key = await healthy[0].call('POST', `/v1.0/${p}/kms/create-key`, {
    key_alias: `paused-${randomBytes(3).toString('hex')}`,
  });
  const encryption = { master_key_id: key.body.key_info.key_id, crypt_algorithm: 'generalCipher' };
  const clusters: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await healthy[0].call('POST', `/v2/${p}/clusters`, clusterBody(`paused-${i}`, encryption));
    if (res.status !== 200) throw new Error(`create cluster: ${res.status} ${res.text}`);
    clusters.push(res.body.cluster.id);
  }
  const [locked, ...others] = clusters as [string, ...string[]];

  const stuck = new pg.Client({ connectionString: database.url });
  await stuck.connect();
  await stuck.query('BEGIN');
  await stuck.query('SELECT id FROM clusters WHERE id = $1 FOR UPDATE', [locked]);
  paused.proc.kill('SIGSTOP');

  const counts = { hot: { ok: 0, all: 0 }, unrelated: { ok: 0, all: 0 } };
  const deadline = Date.now() + seconds * 1000;
  const timed = async (service: ChildService, method: string, path: string) => {
    const result = await Promise.race([
      service.call(method, path).then((res) => res.status),
      new Promise<number>((resolve) => setTimeout(() => resolve(0), 10_000)),
    ]).catch(() => 0);
    return result >= 200 && result < 300;
  };
  const hotClient = async (service: ChildService) => {
    while (Date.now() < deadline) {
      const ok = await timed(service, 'POST', `/v1/${p}/clusters/${locked}/rotate-key`);
      counts.hot.all++;
      if (ok) counts.hot.ok++;
    }
  };
  const unrelatedClient = async (service: ChildService, n: number) => {
    let i = n;
    while (Date.now() < deadline) {
      const cluster = others[i % others.length]!;
      const [method, path] =
        i % 3 === 0
          ? ['GET', `/v1/${p}/clusters/${cluster}/encrypt-info`]
          : i % 3 === 1
            ? ['GET', `/v1.0/${p}/clusters`]
            : ['POST', `/v1/${p}/clusters/${cluster}/rotate-key`];
      i++;
      const ok = await timed(service, method, path);
      counts.unrelated.all++;
      if (ok) counts.unrelated.ok++;
    }
  };
  const clients: Promise<void>[] = [];
  for (const service of healthy) {
    for (let i = 0; i < 12; i++) clients.push(hotClient(service));
    for (let i = 0; i < 6; i++) clients.push(unrelatedClient(service, i));
  }
  await Promise.all(clients);
  const share = (ok: number, all: number) => (all === 0 ? 'n/a' : `${((100 * ok) / all).toFixed(1)} %`);
  const total = { ok: counts.hot.ok + counts.unrelated.ok, all: counts.hot.all + counts.unrelated.all };
  console.log(
    `checkout: ${root ?? 'this one'}; ${seconds} s; 2 healthy instances, 12 retrying rotations of the locked cluster and 6 unrelated clients each`,
  );
  console.log(
    `healthy-instance requests answered 2xx: ${share(total.ok, total.all)} (${total.ok}/${total.all})`,
  );
  console.log(
    `  unrelated work: ${share(counts.unrelated.ok, counts.unrelated.all)} (${counts.unrelated.ok}/${counts.unrelated.all})`,
  );
  console.log(
    `  rotations of the locked cluster: ${share(counts.hot.ok, counts.hot.all)} (${counts.hot.ok}/${counts.hot.all})`,
  );
  await stuck.query('ROLLBACK').catch(() => {});
  await stuck.end();
} finally {
  for (const instance of instances) {
    instance.proc.kill('SIGCONT');
    await instance.kill();
  }
  await database.drop();
}
