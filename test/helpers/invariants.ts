/**
 * Invariants of the store that must hold after any sequence of operations, valid or not, and after a
 * crash. The checker reads every table in one transaction and returns a list of violations (empty when
 * all hold), so a failing test prints every broken rule at once.
 *
 * - clusters: `plain` has no data key and no master key; `encrypted` has a master key of the project, an
 *   algorithm whose spec matches the key, and a wrapped data key that decrypts under the master key with
 *   the cluster context `dws-cluster:<clusterId>` as aad; its data-key versions are exactly 1..dek_version,
 *   every one wrapped under the cluster's master key and decrypting, the latest equal to `dek_wrapped`.
 * - jobs and clusters agree: a `converting` cluster has exactly one non-final encryptCluster job, any
 *   other cluster none; a `CREATING` cluster has exactly one non-final createCluster job; a final job has
 *   an end time, a non-final one none; a failed job has a failure code; progress is 0..100.
 * - keys: a known state, material that opens under the root key, a pending-deletion date iff state 4.
 */

import type { KeySpec } from '../../src/crypto/index.js';
import { openWithRootKey, unwrapDataKey } from '../../src/crypto/index.js';
import type { Database, Db } from '../../src/store/database.js';

const FINAL = new Set(['SUCCESS', 'FAIL', 'STOP']);
const JOB_STATUSES = new Set(['INIT', 'WAITING', 'RUNNING', 'DELAY_SCHEDULED', 'SUCCESS', 'FAIL', 'STOP']);
const SPEC_FOR_ALGORITHM: Record<string, string> = { generalCipher: 'AES_256', SMcompatible: 'SM4' };

/** Reads the whole store in one transaction and checks every invariant; returns the violations. */
export async function checkInvariants(database: Database, rootKey: Buffer): Promise<string[]> {
  // One snapshot: SQLite's single connection excludes writers; PostgreSQL needs REPEATABLE READ for it.
  if (database.dialect === 'postgres') {
    return database.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute((trx) => checkInvariantsIn(trx, rootKey));
  }
  return database.transaction((trx) => checkInvariantsIn(trx, rootKey));
}

export async function checkInvariantsIn(db: Db, rootKey: Buffer): Promise<string[]> {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);

  const keys = await db.selectFrom('kms_keys').selectAll().execute();
  const clusters = await db.selectFrom('clusters').selectAll().execute();
  const jobs = await db.selectFrom('jobs').selectAll().execute();
  const versions = await db.selectFrom('cluster_data_keys').selectAll().orderBy('version').execute();

  const material = new Map<string, Buffer>();
  for (const key of keys) {
    if (!['1', '2', '3', '4', '5'].includes(key.state)) fail(`key ${key.id}: unknown state ${key.state}`);
    if ((key.state === '4') !== (key.scheduled_deletion_at !== null)) {
      fail(`key ${key.id}: state ${key.state} but scheduled_deletion_at ${key.scheduled_deletion_at}`);
    }
    try {
      material.set(key.id, openWithRootKey(rootKey, Buffer.from(key.material_sealed, 'base64'), key.id));
    } catch (error) {
      fail(`key ${key.id}: material does not open under the root key (${(error as Error).message})`);
    }
  }
  const keyById = new Map(keys.map((k) => [k.id, k]));

  const openDek = (clusterId: string, keyId: string, wrapped: string, what: string): Buffer | null => {
    const key = keyById.get(keyId);
    const master = material.get(keyId);
    if (!key || !master) {
      fail(`${what}: master key ${keyId} is missing`);
      return null;
    }
    try {
      const dek = unwrapDataKey({
        keyId,
        spec: key.spec as KeySpec,
        masterKey: master,
        blob: Buffer.from(wrapped, 'base64'),
        aad: `dws-cluster:${clusterId}`,
      });
      if (dek.length !== 32) fail(`${what}: data key has ${dek.length} bytes, not 32`);
      return dek;
    } catch (error) {
      fail(`${what}: data key does not decrypt under ${keyId} (${(error as Error).message})`);
      return null;
    }
  };

  for (const job of jobs) {
    if (!JOB_STATUSES.has(job.status)) fail(`job ${job.id}: unknown status ${job.status}`);
    const final = FINAL.has(job.status);
    if (final !== (job.end_at !== null)) fail(`job ${job.id}: status ${job.status} but end_at ${job.end_at}`);
    if (job.status === 'FAIL' && !job.failed_code) fail(`job ${job.id}: FAIL without failed_code`);
    if (job.status === 'SUCCESS' && job.progress !== 100) fail(`job ${job.id}: SUCCESS at ${job.progress}%`);
    if (job.progress < 0 || job.progress > 100) fail(`job ${job.id}: progress ${job.progress}`);
    if (final && job.lease_owner !== null)
      fail(`job ${job.id}: final but still leased by ${job.lease_owner}`);
  }

  for (const c of clusters) {
    const what = `cluster ${c.id} (${c.encryption_state})`;
    const open = jobs.filter((j) => j.cluster_id === c.id && !FINAL.has(j.status));
    const converting = open.filter((j) => j.name === 'encryptCluster').length;
    const creating = open.filter((j) => j.name === 'createCluster').length;
    const own = versions.filter((v) => v.cluster_id === c.id);

    if (c.encryption_state === 'converting') {
      if (converting !== 1) fail(`${what}: ${converting} non-final encryptCluster jobs, expected 1`);
    } else if (converting !== 0) {
      fail(`${what}: ${converting} non-final encryptCluster jobs, expected 0`);
    }
    if ((c.status === 'CREATING') !== (creating === 1) || creating > 1) {
      fail(`cluster ${c.id}: status ${c.status} with ${creating} non-final createCluster jobs`);
    }

    if (c.encryption_state === 'plain' || c.encryption_state === 'converting') {
      if (c.dek_wrapped !== null || c.master_key_id !== null || c.crypt_algorithm !== null) {
        fail(`${what}: has encryption fields (${c.master_key_id}, ${c.crypt_algorithm})`);
      }
      if (own.length !== 0 || c.dek_version !== 0) {
        fail(`${what}: ${own.length} data-key versions, dek_version ${c.dek_version}`);
      }
      continue;
    }
    if (c.encryption_state !== 'encrypted') {
      fail(`${what}: unknown encryption state`);
      continue;
    }
    if (!c.dek_wrapped || !c.master_key_id || !c.crypt_algorithm || !c.encrypt_id) {
      fail(`${what}: encrypted without a wrapped data key, master key, algorithm or encryption id`);
      continue;
    }
    const key = keyById.get(c.master_key_id);
    if (key && key.project_id !== c.project_id) fail(`${what}: master key of another project`);
    if (key && SPEC_FOR_ALGORITHM[c.crypt_algorithm] !== key.spec) {
      fail(`${what}: ${c.crypt_algorithm} under a ${key.spec} key`);
    }
    if (key && c.master_key_name !== key.alias) fail(`${what}: master_key_name is not the key's alias`);
    openDek(c.id, c.master_key_id, c.dek_wrapped, what)?.fill(0);
    const numbers = own.map((v) => v.version);
    const expected = Array.from({ length: c.dek_version }, (_, i) => i + 1);
    if (JSON.stringify(numbers) !== JSON.stringify(expected)) {
      fail(`${what}: data-key versions [${numbers}] are not 1..${c.dek_version}`);
    }
    for (const v of own) {
      if (v.master_key_id !== c.master_key_id) {
        fail(`${what}: version ${v.version} is wrapped under ${v.master_key_id}, not the cluster's key`);
      }
      if (v.project_id !== c.project_id) fail(`${what}: version ${v.version} in another project`);
      openDek(c.id, v.master_key_id, v.wrapped, `${what} version ${v.version}`)?.fill(0);
      if (v.version === c.dek_version && v.wrapped !== c.dek_wrapped) {
        fail(`${what}: the latest data-key version differs from dek_wrapped`);
      }
    }
  }

  const clusterIds = new Set(clusters.map((c) => c.id));
  for (const v of versions) {
    if (!clusterIds.has(v.cluster_id)) fail(`data-key version ${v.cluster_id}/${v.version}: no such cluster`);
  }
  for (const job of jobs) {
    if (job.name === 'encryptCluster' && !FINAL.has(job.status) && !clusterIds.has(job.cluster_id)) {
      fail(`job ${job.id}: converts cluster ${job.cluster_id}, which does not exist`);
    }
  }
  for (const m of material.values()) m.fill(0);
  return violations;
}

const TABLES = ['clusters', 'kms_keys', 'jobs', 'audit_events', 'credentials', 'cluster_data_keys'] as const;

/** Every row of every table, in a stable order: two equal snapshots mean nothing changed. */
export async function snapshotStore(db: Db): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const rows = await db.selectFrom(table).selectAll().execute();
    const lines = rows.map((row) => JSON.stringify(row)).sort();
    parts.push(`${table}:${rows.length}\n${lines.join('\n')}`);
  }
  return parts.join('\n');
}
