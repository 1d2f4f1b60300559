/**
 * The emulator's control operations (the /_dws/ API, the CLI and `dws-encryption/testing`): reset,
 * state snapshots, seeding, fault rules and finishing jobs now. Everything works through the store and
 * the other services, so a seeded cluster is exactly what the public API would have made.
 */
import { randomBytes } from 'node:crypto';
import { rootKeyFingerprint } from '../crypto/index.js';
import { Errors, ServiceError } from '../domain/errors.js';
import { refuseSeedConflicts, type SeedDocument, type SeedResult } from '../domain/seed.js';
import { parseRotateTime } from '../domain/time.js';
import { findClusterByName, updateCluster } from '../store/clusters.js';
import type { Database } from '../store/database.js';
import { clearState, readState, stateTables, type TableRows, writeState } from '../store/emulator-state.js';
import { finishActiveJobsNow, jobStatuses } from '../store/jobs.js';
import { findKeyByAlias } from '../store/keys.js';
import type { Actor } from './actor.js';
import type { ClusterService } from './clusters.js';
import type { FaultRules } from './faults.js';
import type { KeyService } from './kms.js';

export const SNAPSHOT_FORMAT = 'dws-encryption-state';
export const SNAPSHOT_VERSION = 1;

export interface StateSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  /** Identifies the root key the sealed values need (a keyed hash: it reveals nothing of the key). */
  root_key_id: string;
  exported_at: string;
  tables: TableRows;
}

export interface EmulatorOptions {
  database: Database;
  rootKey: Buffer;
  keys: KeyService;
  clusters: ClusterService;
  faults: FaultRules;
  /** Caches that hold store data in memory (validated tokens), emptied when the state is replaced. */
  onStateReplaced?: () => void;
  /** Makes the job runner look for work now (after jobs were made due). */
  pollJobs?: () => Promise<void>;
  /** The account (domain id) a project of a seed belongs to. */
  domainOf: (projectId: string) => string;
  now?: () => number;
}

/** How long `completeJobs` waits for the jobs it made due to finish. */
const COMPLETE_TIMEOUT_MS = 30_000;

export class EmulatorService {
  readonly faults: FaultRules;
  private readonly now: () => number;

  constructor(private readonly options: EmulatorOptions) {
    this.faults = options.faults;
    this.now = options.now ?? Date.now;
  }

  /** Empties the state (all projects, or one); a full reset clears the fault rules too. */
  async reset(projectId?: string): Promise<void> {
    const { database } = this.options;
    const tables = await stateTables(database);
    await database.transaction((trx) => clearState(trx, tables, projectId));
    if (projectId === undefined) this.faults.clear();
    this.options.onStateReplaced?.();
  }

  async exportState(): Promise<StateSnapshot> {
    const { database } = this.options;
    const tables = await stateTables(database);
    const rows = await database.transaction((trx) => readState(trx, tables));
    return {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      root_key_id: rootKeyFingerprint(this.options.rootKey),
      exported_at: new Date(this.now()).toISOString(),
      tables: rows,
    };
  }

  /** Replaces the whole state with a snapshot of `exportState` (same root key, same or older schema). */
  async importState(snapshot: unknown): Promise<{ tables: Record<string, number> }> {
    const { database } = this.options;
    const tables = await stateTables(database);
    const rows = checkSnapshot(snapshot, tables, rootKeyFingerprint(this.options.rootKey));
    // Leases of the exporting instance mean nothing here: the runner claims unfinished jobs afresh.
    for (const job of rows.jobs ?? []) {
      if ('lease_owner' in job) job.lease_owner = null;
      if ('lease_expires_at' in job) job.lease_expires_at = null;
    }
    await database.transaction(async (trx) => {
      await clearState(trx, tables);
      await writeState(trx, database.dialect, tables, rows);
    });
    this.options.onStateReplaced?.();
    return { tables: Object.fromEntries(tables.map((t) => [t.name, rows[t.name]?.length ?? 0])) };
  }

  /**
   * Creates what a checked seed document declares, through the services (so audit records and sealed
   * material are the real ones), and answers the ids by name. Keys first, then clusters, then the key
   * states the document asks for (a disabled key can still protect a cluster seeded with it).
   */
  async seed(doc: SeedDocument, defaultProjectId: string): Promise<SeedResult> {
    const projectId = doc.project_id ?? defaultProjectId;
    const actor: Actor = { domainId: this.options.domainOf(projectId), projectId, userName: 'emulator:seed' };
    const result: SeedResult = { project_id: projectId, keys: {}, clusters: {} };
    const db = this.options.database.db;
    const aliases = new Set<string>();
    const clusterNames = new Set<string>();
    for (const key of doc.keys) {
      if (await findKeyByAlias(db, projectId, key.alias)) aliases.add(key.alias);
    }
    for (const cluster of doc.clusters) {
      if (await findClusterByName(db, projectId, cluster.name)) clusterNames.add(cluster.name);
    }
    refuseSeedConflicts(doc, { aliases, clusterNames });
    for (const key of doc.keys) {
      const row = await this.options.keys.createKey(actor, { alias: key.alias, spec: key.spec });
      result.keys[key.alias] = row.id;
    }
    for (const cluster of doc.clusters) {
      const encryption = cluster.encryption;
      const row = await this.options.clusters.createCluster(actor, {
        name: cluster.name,
        datastoreVersion: cluster.datastore_version ?? '9.1.0',
        ...(cluster.guest_agent_version !== undefined
          ? { guestAgentVersion: cluster.guest_agent_version }
          : {}),
        dbPassword: `${randomBytes(12).toString('base64url')}!1aA`,
        spec: { name: cluster.name, flavor: 'dwsk2.xlarge', num_node: 3, db_name: 'dbadmin' },
        ...(encryption
          ? {
              encryption: {
                masterKeyId: result.keys[encryption.key]!,
                cryptAlgorithm: encryption.crypt_algorithm,
              },
            }
          : {}),
      });
      result.clusters[cluster.name] = row.id;
      if (encryption?.last_rotate_key_time !== undefined) {
        const at = parseRotateTime(encryption.last_rotate_key_time)!;
        await updateCluster(this.options.database.db, projectId, row.id, { last_rotate_key_at: at });
      }
    }
    for (const key of doc.keys) {
      if (key.state === 'enabled') continue;
      const action = key.state === 'disabled' ? 'disable' : 'scheduleDeletion';
      await this.options.keys.changeKeyState(actor, result.keys[key.alias]!, action);
    }
    return result;
  }

  /**
   * Makes every unfinished job due now and waits (up to 30 s) until they have finished; answers each
   * job with its final status. A job fault still fails its job, at its chosen progress.
   */
  async completeJobs(): Promise<{ jobs: { job_id: string; status: string }[] }> {
    const db = this.options.database.db;
    const ids = await finishActiveJobsNow(db, this.now());
    const deadline = Date.now() + COMPLETE_TIMEOUT_MS;
    let statuses = await jobStatuses(db, ids);
    while (statuses.some((job) => !FINAL.has(job.status)) && Date.now() < deadline) {
      await this.options.pollJobs?.();
      await new Promise((resolve) => setTimeout(resolve, 20));
      statuses = await jobStatuses(db, ids);
    }
    return { jobs: statuses.map((job) => ({ job_id: job.id, status: job.status })) };
  }
}

const FINAL = new Set(['SUCCESS', 'FAIL', 'STOP']);

function checkSnapshot(
  snapshot: unknown,
  tables: readonly { name: string; columns: string[] }[],
  rootKeyId: string,
): TableRows {
  const bad = (why: string) => new ServiceError(Errors.INVALID_PARAMETER, `state: ${why}.`);
  if (typeof snapshot !== 'object' || snapshot === null) throw bad('the body must be a snapshot object');
  const s = snapshot as Partial<StateSnapshot>;
  if (s.format !== SNAPSHOT_FORMAT) throw bad(`format must be "${SNAPSHOT_FORMAT}" (from GET /_dws/state)`);
  if (s.version !== SNAPSHOT_VERSION) throw bad(`version ${String(s.version)} is not supported`);
  if (s.root_key_id !== rootKeyId) {
    throw bad(
      'root_key_id: the snapshot was sealed under another root key; import it where DWS_ROOT_KEY is the same',
    );
  }
  if (typeof s.tables !== 'object' || s.tables === null || Array.isArray(s.tables)) {
    throw bad('tables must be an object of table name to rows');
  }
  const known = new Map(tables.map((t) => [t.name, new Set(t.columns)]));
  for (const [name, rows] of Object.entries(s.tables)) {
    const columns = known.get(name);
    if (!columns) throw bad(`tables.${name} is not a table of this store`);
    if (!Array.isArray(rows)) throw bad(`tables.${name} must be an array of rows`);
    rows.forEach((row, i) => {
      if (typeof row !== 'object' || row === null || Array.isArray(row))
        throw bad(`tables.${name}[${i}] must be an object`);
      for (const [column, value] of Object.entries(row)) {
        if (!columns.has(column)) throw bad(`tables.${name}[${i}].${column} is not a column of this store`);
        if (value !== null && typeof value !== 'string' && typeof value !== 'number') {
          throw bad(`tables.${name}[${i}].${column} must be a string, a number or null`);
        }
      }
    });
  }
  return s.tables;
}
