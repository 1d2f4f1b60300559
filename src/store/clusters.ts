/** Cluster queries: plain functions of (db, scope, ...). Every query is scoped to a project. */
import type { Db } from './database.js';
import { postgresReads, sqliteReads, UNAVAILABLE } from './fast-reads.js';
import type { ClusterDataKeyRow, ClusterRow, ClusterUpdate, NewCluster } from './schema.js';

export async function insertCluster(db: Db, row: NewCluster): Promise<void> {
  await db.insertInto('clusters').values(row).execute();
}

// Every column by name (not `*`): a prepared statement keeps its result shape if a later migration
// adds a column while it is cached (PostgreSQL refuses a cached `*` plan whose columns changed).
const CLUSTER_COLUMNS: Record<keyof ClusterRow, true> = {
  id: true,
  project_id: true,
  name: true,
  status: true,
  datastore_version: true,
  guest_agent_version: true,
  spec_json: true,
  db_password_sealed: true,
  encryption_state: true,
  encrypt_id: true,
  master_key_id: true,
  master_key_name: true,
  crypt_algorithm: true,
  dek_wrapped: true,
  dek_version: true,
  last_rotate_key_at: true,
  created_at: true,
  updated_at: true,
};
const SELECT_CLUSTER = `SELECT ${Object.keys(CLUSTER_COLUMNS).join(', ')} FROM clusters`;
const FIND_CLUSTER_SQLITE = `${SELECT_CLUSTER} WHERE id = ? AND project_id = ?`;
const FIND_CLUSTER_POSTGRES = `${SELECT_CLUSTER} WHERE id = $1 AND project_id = $2`;

/** A cluster by id, outside transactions through a prepared statement, else the Kysely query. */
export async function findCluster(
  db: Db,
  projectId: string,
  clusterId: string,
): Promise<ClusterRow | undefined> {
  const statement = sqliteReads(db)?.statement(FIND_CLUSTER_SQLITE);
  if (statement !== undefined) return statement.get(clusterId, projectId) as ClusterRow | undefined;
  const pg = postgresReads(db);
  if (pg !== undefined)
    return pg.first<ClusterRow>('dws_find_cluster', FIND_CLUSTER_POSTGRES, [clusterId, projectId]);
  return db
    .selectFrom('clusters')
    .selectAll()
    .where('id', '=', clusterId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

/** What GET encrypt-info shows of a cluster: its encryption facts only. */
export type ClusterEncryption = Pick<
  ClusterRow,
  | 'id'
  | 'encryption_state'
  | 'encrypt_id'
  | 'master_key_id'
  | 'master_key_name'
  | 'crypt_algorithm'
  | 'last_rotate_key_at'
>;

const ENCRYPTION_COLUMNS: Record<keyof ClusterEncryption, true> = {
  id: true,
  encryption_state: true,
  encrypt_id: true,
  master_key_id: true,
  master_key_name: true,
  crypt_algorithm: true,
  last_rotate_key_at: true,
};
const ENCRYPTION_COLUMN_LIST = Object.keys(ENCRYPTION_COLUMNS) as (keyof ClusterEncryption)[];
const SELECT_ENCRYPTION = `SELECT ${ENCRYPTION_COLUMN_LIST.join(', ')} FROM clusters`;
const FIND_ENCRYPTION_SQLITE = `${SELECT_ENCRYPTION} WHERE id = ? AND project_id = ?`;
const FIND_ENCRYPTION_POSTGRES = `${SELECT_ENCRYPTION} WHERE id = $1 AND project_id = $2`;

/**
 * The hot read (GET encrypt-info, called constantly by automation): only the columns it shows.
 * Outside transactions a prepared statement — on SQLite behind a row cache that any write of this
 * process empties (the rows it returns are then frozen), on PostgreSQL a named statement, read
 * through on every call so that every instance sees the others' writes at once — else the Kysely query.
 */
export async function findClusterEncryption(
  db: Db,
  projectId: string,
  clusterId: string,
): Promise<ClusterEncryption | undefined> {
  const sqlite = sqliteReads(db);
  if (sqlite !== undefined) {
    const row = sqlite.cachedFirst<ClusterEncryption>(FIND_ENCRYPTION_SQLITE, `${projectId}/${clusterId}`, [
      clusterId,
      projectId,
    ]);
    if (row !== UNAVAILABLE) return row;
  }
  const pg = postgresReads(db);
  if (pg !== undefined) {
    return pg.first<ClusterEncryption>('dws_find_cluster_encryption', FIND_ENCRYPTION_POSTGRES, [
      clusterId,
      projectId,
    ]);
  }
  return db
    .selectFrom('clusters')
    .select(ENCRYPTION_COLUMN_LIST)
    .where('id', '=', clusterId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

/**
 * Reads a cluster for a change. On PostgreSQL the row stays locked (FOR UPDATE) until the transaction
 * ends, which serializes operations on one cluster across instances; SQLite transactions are already
 * exclusive.
 */
export async function findClusterForUpdate(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  projectId: string,
  clusterId: string,
): Promise<ClusterRow | undefined> {
  const query = db
    .selectFrom('clusters')
    .selectAll()
    .where('id', '=', clusterId)
    .where('project_id', '=', projectId);
  return (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

export async function findClusterByName(
  db: Db,
  projectId: string,
  name: string,
): Promise<ClusterRow | undefined> {
  return db
    .selectFrom('clusters')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function listClusters(db: Db, projectId: string): Promise<ClusterRow[]> {
  return db
    .selectFrom('clusters')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function updateCluster(
  db: Db,
  projectId: string,
  clusterId: string,
  changes: ClusterUpdate,
): Promise<number> {
  const result = await db
    .updateTable('clusters')
    .set(changes)
    .where('id', '=', clusterId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function deleteCluster(db: Db, projectId: string, clusterId: string): Promise<number> {
  const result = await db
    .deleteFrom('clusters')
    .where('id', '=', clusterId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Counts clusters that use a master key (a key in use is not deleted silently). */
export async function countClustersUsingKey(db: Db, projectId: string, keyId: string): Promise<number> {
  const row = await db
    .selectFrom('clusters')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .where('master_key_id', '=', keyId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function insertDataKeyVersion(db: Db, row: ClusterDataKeyRow): Promise<void> {
  await db.insertInto('cluster_data_keys').values(row).execute();
}

export async function listDataKeyVersions(
  db: Db,
  projectId: string,
  clusterId: string,
): Promise<ClusterDataKeyRow[]> {
  return db
    .selectFrom('cluster_data_keys')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('cluster_id', '=', clusterId)
    .orderBy('version')
    .execute();
}

export async function rewrapDataKeyVersion(
  db: Db,
  clusterId: string,
  version: number,
  changes: Pick<ClusterDataKeyRow, 'master_key_id' | 'wrapped'>,
): Promise<void> {
  await db
    .updateTable('cluster_data_keys')
    .set(changes)
    .where('cluster_id', '=', clusterId)
    .where('version', '=', version)
    .execute();
}

export async function deleteDataKeyVersions(db: Db, projectId: string, clusterId: string): Promise<void> {
  await db
    .deleteFrom('cluster_data_keys')
    .where('project_id', '=', projectId)
    .where('cluster_id', '=', clusterId)
    .execute();
}

/** The create-request specs of the project's clusters (what its node quota counts). */
export async function listClusterSpecs(db: Db, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('clusters')
    .select('spec_json')
    .where('project_id', '=', projectId)
    .execute();
  return rows.map((row) => row.spec_json);
}
