/**
 * Direct access to the benchmark's store, beside the service: counting, picking clusters to read, and
 * bulk-inserting rows for the large-store run (the service is stopped meanwhile). Rows are shaped by
 * the store schema (`NewCluster`) from a real encrypted row the service created: each bulk row has its
 * own id, name, encrypt_id and times; the sealed password and wrapped data key are the template's,
 * reused (the read path never unwraps them, and no bulk row is converted or rotated).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { NewCluster } from '../../src/store/schema.js';

export interface BenchStore {
  /** PostgreSQL: the URL of the database made for this run. */
  readonly serviceUrl: string;
  countClusters(): Promise<number>;
  countConverting(): Promise<number>;
  /** `n` encrypted clusters chosen at random across the whole store. */
  pickClusters(n: number): Promise<string[]>;
  bulkInsert(projectId: string, count: number): Promise<void>;
  /** A copy of the store (the service must be stopped): SQLite into `sqlitePath`, PostgreSQL a new database. */
  clone(sqlitePath: string): Promise<BenchStore>;
  close(): Promise<void>;
}

export type BenchStoreOptions = { kind: 'sqlite'; path: string } | { kind: 'postgresql'; adminUrl: string };

const COLUMNS = [
  'id',
  'project_id',
  'name',
  'status',
  'datastore_version',
  'guest_agent_version',
  'spec_json',
  'db_password_sealed',
  'encryption_state',
  'encrypt_id',
  'master_key_id',
  'master_key_name',
  'crypt_algorithm',
  'dek_wrapped',
  'dek_version',
  'last_rotate_key_at',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof NewCluster)[];

function bulkRow(template: NewCluster, i: number, now: number): NewCluster {
  return {
    ...template,
    id: randomUUID(),
    name: `bulk-${i}`,
    encrypt_id: randomUUID(),
    last_rotate_key_at: i % 3 === 0 ? now - i * 1000 : null,
    created_at: now - i * 1000,
    updated_at: now - i * 500,
  };
}

export async function openBenchStore(options: BenchStoreOptions): Promise<BenchStore> {
  return options.kind === 'sqlite' ? sqliteStore(options.path) : postgresStore(options.adminUrl);
}

function sqliteStore(path: string): BenchStore {
  let db: SqliteDatabase.Database | undefined;
  const open = () => {
    if (!db) {
      db = new SqliteDatabase(path);
      db.pragma('busy_timeout = 5000');
    }
    return db;
  };
  return {
    serviceUrl: `sqlite:${path}`,
    async countClusters() {
      return (open().prepare('SELECT count(*) AS n FROM clusters').get() as { n: number }).n;
    },
    async countConverting() {
      return (
        open().prepare("SELECT count(*) AS n FROM clusters WHERE encryption_state = 'converting'").get() as {
          n: number;
        }
      ).n;
    },
    async pickClusters(n) {
      const d = open();
      const max = (d.prepare('SELECT max(rowid) AS m FROM clusters').get() as { m: number }).m;
      const byRowid = d.prepare("SELECT id FROM clusters WHERE rowid = ? AND encryption_state = 'encrypted'");
      const picked = new Set<string>();
      for (let tries = 0; picked.size < n && tries < n * 100; tries++) {
        const row = byRowid.get(1 + Math.floor(Math.random() * max)) as { id: string } | undefined;
        if (row) picked.add(row.id);
      }
      return [...picked];
    },
    async bulkInsert(projectId, count) {
      const d = open();
      const template = d
        .prepare("SELECT * FROM clusters WHERE project_id = ? AND encryption_state = 'encrypted' LIMIT 1")
        .get(projectId) as NewCluster;
      d.pragma('synchronous = OFF');
      const insert = d.prepare(
        `INSERT INTO clusters (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
      );
      const now = Date.now();
      const batch = d.transaction((from: number, to: number) => {
        for (let i = from; i < to; i++) {
          const row = bulkRow(template, i, now);
          insert.run(COLUMNS.map((c) => row[c] ?? null));
        }
      });
      for (let from = 0; from < count; from += 50_000) batch(from, Math.min(count, from + 50_000));
      d.pragma('wal_checkpoint(TRUNCATE)');
      d.pragma('synchronous = NORMAL');
    },
    async clone(target) {
      await open().backup(target);
      return sqliteStore(target);
    },
    async close() {
      // Reopened by the next call (the store's files are copied with the connection closed: see run.ts).
      db?.close();
      db = undefined;
      db = undefined;
    },
  };
}

async function postgresStore(adminUrl: string, template?: string): Promise<BenchStore> {
  const name = `dws_bench_${randomBytes(4).toString('hex')}`;
  // A connection that breaks (a database dropped WITH (FORCE), a server restart) must not crash the run.
  const connect = async (connectionString: string) => {
    const c = new pg.Client({ connectionString });
    c.on('error', () => {});
    await c.connect();
    return c;
  };
  const admin = await connect(adminUrl);
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let client = await connect(url.toString());
  const count = async (where: string) =>
    Number((await client.query(`SELECT count(*) AS n FROM clusters ${where}`)).rows[0].n);
  return {
    serviceUrl: url.toString(),
    countClusters: () => count(''),
    countConverting: () => count("WHERE encryption_state = 'converting'"),
    async pickClusters(n) {
      const rows = await client.query(
        "SELECT id FROM clusters WHERE encryption_state = 'encrypted' ORDER BY random() LIMIT $1",
        [n],
      );
      return rows.rows.map((r: { id: string }) => r.id);
    },
    async bulkInsert(projectId, total) {
      // One set-based INSERT … SELECT: ids, names and times vary per row, as bulkRow() does for SQLite.
      const shared = COLUMNS.filter(
        (c) => !['id', 'name', 'encrypt_id', 'last_rotate_key_at', 'created_at', 'updated_at'].includes(c),
      );
      const now = Date.now();
      await client.query(
        `INSERT INTO clusters (${COLUMNS.join(', ')})
         SELECT ${COLUMNS.map((c) => {
           switch (c) {
             case 'id':
             case 'encrypt_id':
               return 'gen_random_uuid()::text';
             case 'name':
               return "'bulk-' || g";
             case 'last_rotate_key_at':
               return `CASE WHEN g % 3 = 0 THEN ${now} - g * 1000 END`;
             case 'created_at':
               return `${now} - g * 1000`;
             case 'updated_at':
               return `${now} - g * 500`;
             default:
               return `t.${c}`;
           }
         }).join(', ')}
         FROM generate_series(1, $2::int) AS g,
              (SELECT ${shared.join(', ')} FROM clusters
                WHERE project_id = $1 AND encryption_state = 'encrypted' LIMIT 1) AS t`,
        [projectId, total],
      );
      await client.query('ANALYZE clusters');
    },
    async clone() {
      // CREATE DATABASE … TEMPLATE needs the template without sessions: ours is closed meanwhile.
      await client.end();
      try {
        return await postgresStore(adminUrl, name);
      } finally {
        client = await connect(url.toString());
      }
    },
    async close() {
      await client.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}
