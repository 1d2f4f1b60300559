/**
 * Clusters and their encryption: create/list/show/delete, starting a conversion, finishing it (called
 * by the job runner), and key rotation. Every change of one cluster runs in a transaction that holds
 * the cluster row (FOR UPDATE on PostgreSQL, the exclusive connection on SQLite), so operations on one
 * cluster never interleave, and writes its audit record in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { generateDataKey, sealWithRootKey } from '../crypto/index.js';
import {
  assertCanDelete,
  assertCanRotate,
  assertCanStartConversion,
  assertMasterKeyFits,
  assertValidVersion,
  type ClusterFacts,
  type CryptAlgorithm,
  DEFAULT_GUEST_AGENT_VERSION,
  type MasterKeyFacts,
  matchesEnterpriseProject,
} from '../domain/clusters.js';
import { Errors, ServiceError } from '../domain/errors.js';
import type { JobFault } from '../domain/faults.js';
import { clusterNodes, DEFAULT_PROJECT_QUOTAS, type ProjectQuotas } from '../domain/quotas.js';
import {
  type ClusterEncryption,
  deleteCluster,
  deleteDataKeyVersions,
  findCluster,
  findClusterByName,
  findClusterEncryption,
  findClusterForUpdate,
  insertCluster,
  insertDataKeyVersion,
  listClusterSpecs,
  listClusters,
  listDataKeyVersions,
  rewrapDataKeyVersion,
  updateCluster,
} from '../store/clusters.js';
import type { Database, Db } from '../store/database.js';
import { countActiveJobs, findJob, insertJob, listActiveClusterJobs } from '../store/jobs.js';
import type { ClusterRow, JobName, JobPayloads, JobRow, JobTable, KmsKeyRow } from '../store/schema.js';
import type { Actor } from './actor.js';
import { type AuditEntry, recordAudit } from './audit.js';
import type { KeyService } from './kms.js';

/** Bytes of a cluster's data encryption key. */
const DEK_BYTES = 32;

export interface ClusterTimings {
  encryptJobMs: number;
  clusterCreateMs: number;
  /** How long a v2 deletion job takes before the cluster is gone (default 0). */
  clusterDeleteMs?: number;
  /** Unfinished jobs the whole store may hold (DWS_MAX_ACTIVE_JOBS: 503 beyond). */
  maxActiveJobs: number;
  /** Per-project quotas of nodes and unfinished jobs (default DEFAULT_PROJECT_QUOTAS). */
  quotas?: Pick<ProjectQuotas, 'nodes' | 'activeJobs'>;
}

export interface CreateClusterInput {
  name: string;
  datastoreVersion: string;
  guestAgentVersion?: string;
  dbPassword: string;
  /** Descriptive fields kept as given (flavor, nodes, network, volume, tags, ...). */
  spec: Record<string, unknown>;
  encryption?: { masterKeyId: string; masterKeyName?: string; cryptAlgorithm: CryptAlgorithm };
}

export interface EncryptInput {
  masterKeyId: string;
  masterKeyName?: string;
  cryptAlgorithm: CryptAlgorithm;
  /** An emulator job fault: the conversion fails this way (see src/domain/faults.ts). */
  fault?: JobFault;
}

export interface RotateResult {
  clusterId: string;
  masterKeyName: string;
  rotatedAt: number;
}

/** A cluster and its unfinished job (kind and progress), if it has one. */
export type ClusterState = ClusterRow & { activity?: { name: JobName; progress: number } };

/** Who started a job, kept in its payload: its completion is audited in their name. */
function requestedBy(actor: Actor): JobPayloads['encryptCluster']['requestedBy'] {
  return {
    domainId: actor.domainId,
    userName: actor.userName,
    ...(actor.accessKey ? { accessKey: actor.accessKey } : {}),
    ...(actor.requestId ? { requestId: actor.requestId } : {}),
  };
}

/** The audit record of a cluster deletion (v1 at once, v2 when its job is accepted and when it ends). */
export async function auditDeletion(
  trx: Db,
  actor: Actor,
  clusterId: string,
  result: 'accepted' | 'success',
  now: number,
  detail?: Record<string, unknown>,
): Promise<void> {
  await recordAudit(
    trx,
    actor,
    {
      action: 'dws:openAPICluster:delete',
      resourceType: 'cluster',
      resourceId: clusterId,
      result,
      ...(detail ? { detail } : {}),
    },
    now,
  );
}

export function clusterFacts(row: ClusterRow): ClusterFacts {
  return {
    status: row.status,
    encryptionState: row.encryption_state,
    version: row.datastore_version,
    guestAgentVersion: row.guest_agent_version,
  };
}

/** The audit record of a conversion step: accepted (started), then success or failure (its job). */
export async function recordConversion(
  db: Db,
  actor: Actor,
  clusterId: string,
  result: AuditEntry['result'],
  now: number,
  detail: Record<string, unknown>,
): Promise<void> {
  await recordAudit(
    db,
    actor,
    { action: 'dws:cluster:encrypt', resourceType: 'cluster', resourceId: clusterId, result, detail },
    now,
  );
}

export class ClusterService {
  constructor(
    private readonly database: Database,
    private readonly keys: KeyService,
    private readonly rootKey: Buffer,
    private readonly timings: ClusterTimings,
    private readonly now: () => number = Date.now,
  ) {}

  async createCluster(actor: Actor, input: CreateClusterInput): Promise<ClusterRow> {
    assertValidVersion(input.datastoreVersion, 'datastore_version');
    const guestAgentVersion = input.guestAgentVersion ?? DEFAULT_GUEST_AGENT_VERSION;
    assertValidVersion(guestAgentVersion, 'guest_agent_version');
    const now = this.now();
    const id = randomUUID();
    const delayed = this.timings.clusterCreateMs > 0;
    const row: ClusterRow = {
      id,
      project_id: actor.projectId,
      name: input.name,
      status: delayed ? 'CREATING' : 'AVAILABLE',
      datastore_version: input.datastoreVersion,
      guest_agent_version: guestAgentVersion,
      spec_json: JSON.stringify(input.spec),
      db_password_sealed: sealWithRootKey(
        this.rootKey,
        Buffer.from(input.dbPassword),
        `cluster-password:${id}`,
      ).toString('base64'),
      encryption_state: 'plain',
      encrypt_id: null,
      master_key_id: null,
      master_key_name: null,
      crypt_algorithm: null,
      dek_wrapped: null,
      dek_version: 0,
      last_rotate_key_at: null,
      created_at: now,
      updated_at: now,
    };
    return this.database.transaction(async (trx) => {
      if (await findClusterByName(trx, actor.projectId, input.name))
        throw new ServiceError(Errors.CLUSTER_NAME_EXISTS);
      await this.assertNodeQuota(trx, actor.projectId, clusterNodes(input.spec));
      // A delayed creation is a job: it counts against the job caps like a conversion does.
      if (delayed) await this.assertJobCapacity(trx, actor.projectId);
      if (input.encryption) {
        // A cluster created encrypted gets its data key at once, under the same key rules as a conversion.
        const { masterKeyId, masterKeyName, cryptAlgorithm } = input.encryption;
        const key = await this.keys.masterKeyForCluster(trx, actor.projectId, masterKeyId);
        assertMasterKeyFits(masterKeyFacts(key), cryptAlgorithm, masterKeyName);
        Object.assign(row, this.encryptedFields(id, key, cryptAlgorithm, 1));
        await insertCluster(trx, row);
        await insertDataKeyVersion(trx, {
          cluster_id: id,
          version: 1,
          project_id: actor.projectId,
          master_key_id: key.id,
          wrapped: row.dek_wrapped!,
          created_at: now,
        });
      } else {
        await insertCluster(trx, row);
      }
      if (delayed) {
        await insertJob(trx, this.newJob(actor, id, 'createCluster', this.timings.clusterCreateMs, {}));
      }
      await recordAudit(
        trx,
        actor,
        {
          action: 'dws:openAPICluster:create',
          resourceType: 'cluster',
          resourceId: id,
          result: 'success',
          detail: { encrypted: !!input.encryption },
        },
        now,
      );
      return row;
    });
  }

  /** The store-wide job cap (503: the service is full) and the project's own quota (400: this project is). */
  private async assertJobCapacity(trx: Db, projectId: string): Promise<void> {
    if ((await countActiveJobs(trx)) >= this.timings.maxActiveJobs)
      throw new ServiceError(Errors.TOO_MANY_JOBS);
    const quota = this.timings.quotas?.activeJobs ?? DEFAULT_PROJECT_QUOTAS.activeJobs;
    if ((await countActiveJobs(trx, projectId)) >= quota) {
      throw new ServiceError(
        Errors.JOB_QUOTA_EXCEEDED,
        `The project has ${quota} unfinished jobs, its quota (DWS_QUOTA_ACTIVE_JOBS); retry when one finishes.`,
      );
    }
  }

  private async assertNodeQuota(trx: Db, projectId: string, adding: number): Promise<void> {
    const quota = this.timings.quotas?.nodes ?? DEFAULT_PROJECT_QUOTAS.nodes;
    let used = 0;
    for (const spec of await listClusterSpecs(trx, projectId)) used += clusterNodes(JSON.parse(spec));
    if (used + adding > quota) {
      throw new ServiceError(
        Errors.NODE_QUOTA_EXCEEDED,
        `The project's clusters have ${used} nodes; ${adding} more would exceed its node quota of ${quota} (DWS_QUOTA_NODES).`,
      );
    }
  }

  /** The project's clusters, only those of enterprise project `enterpriseProjectId` when given. */
  async listClusters(actor: Actor, enterpriseProjectId?: string): Promise<ClusterState[]> {
    let rows = await listClusters(this.database.db, actor.projectId);
    if (enterpriseProjectId !== undefined) {
      rows = rows.filter((row) =>
        matchesEnterpriseProject(
          (JSON.parse(row.spec_json) as { enterprise_project_id?: string }).enterprise_project_id,
          enterpriseProjectId,
        ),
      );
    }
    return this.withActivities(actor.projectId, rows);
  }

  async showCluster(actor: Actor, clusterId: string): Promise<ClusterState> {
    const row = await requireCluster(this.database.db, actor.projectId, clusterId);
    const [state] = await this.withActivities(actor.projectId, [row]);
    return state!;
  }

  /** Each cluster with its unfinished job, looked up only for clusters that are not at rest. */
  private async withActivities(projectId: string, rows: ClusterRow[]): Promise<ClusterState[]> {
    const busy = rows.filter((r) => r.status !== 'AVAILABLE' || r.encryption_state === 'converting');
    const jobs = await listActiveClusterJobs(
      this.database.db,
      projectId,
      busy.map((r) => r.id),
    );
    const byCluster = new Map(jobs.map((j) => [j.cluster_id, { name: j.name, progress: j.progress }]));
    return rows.map((row) => {
      const activity = byCluster.get(row.id);
      return activity ? { ...row, activity } : row;
    });
  }

  /**
   * DELETE /v2/.../clusters/{id}: refused like the immediate v1 deletion (a converting cluster, one
   * already being deleted); the cluster shows DELETING until the job removes it. Returns the job id.
   */
  async startDeletion(actor: Actor, clusterId: string): Promise<string> {
    const now = this.now();
    return this.database.transaction(async (trx) => {
      const row = await this.lockCluster(trx, actor.projectId, clusterId);
      assertCanDelete(clusterFacts(row));
      const previousStatus = row.status;
      if (previousStatus === 'DELETING') throw new Error('assertCanDelete let a DELETING cluster through');
      // Its creation job would set it AVAILABLE again under the deletion.
      if (previousStatus === 'CREATING')
        throw new ServiceError(
          Errors.CLUSTER_BUSY,
          'The cluster is being created; delete it once it is AVAILABLE.',
        );
      await this.assertJobCapacity(trx, actor.projectId);
      const job = this.newJob(actor, clusterId, 'deleteCluster', this.timings.clusterDeleteMs ?? 0, {
        previousStatus,
        requestedBy: requestedBy(actor),
      });
      await insertJob(trx, job);
      await updateCluster(trx, actor.projectId, clusterId, { status: 'DELETING', updated_at: now });
      await auditDeletion(trx, actor, clusterId, 'accepted', now, { job_id: job.id });
      return job.id;
    });
  }

  /** Removes a cluster and its data keys (an immediate v1 deletion, or a deletion job's completion). */
  async removeCluster(trx: Db, projectId: string, clusterId: string): Promise<void> {
    await deleteDataKeyVersions(trx, projectId, clusterId);
    await deleteCluster(trx, projectId, clusterId);
  }

  async deleteCluster(actor: Actor, clusterId: string): Promise<void> {
    const now = this.now();
    await this.database.transaction(async (trx) => {
      const row = await this.lockCluster(trx, actor.projectId, clusterId);
      assertCanDelete(clusterFacts(row));
      await this.removeCluster(trx, actor.projectId, clusterId);
      await auditDeletion(trx, actor, clusterId, 'success', now);
    });
  }

  /** The seed's read: the cluster's encryption facts (the hot path: one cached or prepared read). */
  async encryptInfo(actor: Actor, clusterId: string): Promise<ClusterEncryption> {
    const row = await findClusterEncryption(this.database.db, actor.projectId, clusterId);
    if (!row) throw new ServiceError(Errors.CLUSTER_NOT_FOUND);
    return row;
  }

  /** Validates and records a conversion; the job runner does the work. Returns the job id. */
  async startEncryption(actor: Actor, clusterId: string, input: EncryptInput): Promise<string> {
    const now = this.now();
    return this.database.transaction(async (trx) => {
      const row = await this.lockCluster(trx, actor.projectId, clusterId);
      assertCanStartConversion(clusterFacts(row));
      const key = await this.keys.masterKeyForCluster(trx, actor.projectId, input.masterKeyId);
      assertMasterKeyFits(masterKeyFacts(key), input.cryptAlgorithm, input.masterKeyName);
      await this.assertJobCapacity(trx, actor.projectId);
      const payload: JobPayloads['encryptCluster'] = {
        masterKeyId: key.id,
        cryptAlgorithm: input.cryptAlgorithm,
        requestedBy: requestedBy(actor),
      };
      const job = this.newJob(actor, clusterId, 'encryptCluster', this.timings.encryptJobMs, payload, key.id);
      // An emulator job fault rides with the job (any kind's payload may carry one; the runner reads it).
      if (input.fault) job.payload_json = JSON.stringify({ ...payload, fault: input.fault });
      await insertJob(trx, job);
      await updateCluster(trx, actor.projectId, clusterId, {
        encryption_state: 'converting',
        updated_at: now,
      });
      await recordConversion(trx, actor, clusterId, 'accepted', now, {
        job_id: job.id,
        master_key_id: key.id,
        crypt_algorithm: input.cryptAlgorithm,
      });
      return job.id;
    });
  }

  /**
   * Encrypts a locked cluster (a conversion's completion): a fresh data key, the version after its
   * current one, wrapped under `key` and recorded as the cluster's.
   */
  async storeNewDataKey(
    trx: Db,
    row: ClusterRow,
    key: KmsKeyRow,
    algorithm: CryptAlgorithm,
    now: number,
  ): Promise<void> {
    const fields = this.encryptedFields(row.id, key, algorithm, row.dek_version + 1);
    await updateCluster(trx, row.project_id, row.id, { ...fields, updated_at: now });
    await insertDataKeyVersion(trx, {
      cluster_id: row.id,
      version: fields.dek_version,
      project_id: row.project_id,
      master_key_id: key.id,
      wrapped: fields.dek_wrapped,
      created_at: now,
    });
  }

  /**
   * Without `masterKeyId`: a new data key, wrapped under the current master key. With it: every data
   * key version of the cluster is re-wrapped under the new master key, which becomes the cluster's.
   */
  async rotateKey(actor: Actor, clusterId: string, masterKeyId?: string): Promise<RotateResult> {
    return this.database.transaction(async (trx) => {
      const row = await this.lockCluster(trx, actor.projectId, clusterId);
      // The time is taken once the cluster is held, never before: rotations of one cluster commit in lock
      // order, so the stored last rotation is the latest one. Never earlier than the previous rotation,
      // even if another instance's clock runs ahead of this one's.
      const now = Math.max(this.now(), row.last_rotate_key_at ?? 0);
      assertCanRotate(clusterFacts(row));
      const algorithm = row.crypt_algorithm!;
      const current = await this.keys.masterKeyForCluster(trx, actor.projectId, row.master_key_id!);
      // The current key must still work: it wraps the new data key, or unwraps the old ones for re-wrapping.
      assertMasterKeyFits(masterKeyFacts(current), algorithm);
      let masterKey = current;
      if (masterKeyId === undefined || masterKeyId === current.id) {
        const fields = this.encryptedFields(clusterId, current, algorithm, row.dek_version + 1);
        await updateCluster(trx, actor.projectId, clusterId, {
          dek_wrapped: fields.dek_wrapped,
          dek_version: fields.dek_version,
          last_rotate_key_at: now,
          updated_at: now,
        });
        await insertDataKeyVersion(trx, {
          cluster_id: clusterId,
          version: fields.dek_version,
          project_id: actor.projectId,
          master_key_id: current.id,
          wrapped: fields.dek_wrapped,
          created_at: now,
        });
      } else {
        masterKey = await this.keys.masterKeyForCluster(trx, actor.projectId, masterKeyId);
        assertMasterKeyFits(masterKeyFacts(masterKey), algorithm);
        let currentWrapped = '';
        for (const version of await listDataKeyVersions(trx, actor.projectId, clusterId)) {
          const plaintext = this.keys.unwrap(
            current,
            Buffer.from(version.wrapped, 'base64'),
            dekContext(clusterId),
          );
          const wrapped = this.keys.wrap(masterKey, plaintext, dekContext(clusterId)).toString('base64');
          plaintext.fill(0);
          await rewrapDataKeyVersion(trx, clusterId, version.version, {
            master_key_id: masterKey.id,
            wrapped,
          });
          if (version.version === row.dek_version) currentWrapped = wrapped;
        }
        await updateCluster(trx, actor.projectId, clusterId, {
          master_key_id: masterKey.id,
          master_key_name: masterKey.alias,
          dek_wrapped: currentWrapped,
          last_rotate_key_at: now,
          updated_at: now,
        });
      }
      await recordAudit(
        trx,
        actor,
        {
          action: 'dws:cluster:rotateKey',
          resourceType: 'cluster',
          resourceId: clusterId,
          result: 'success',
          detail:
            masterKey === current
              ? { rotated: 'data_key' }
              : { rotated: 'master_key', from: current.id, to: masterKey.id },
        },
        now,
      );
      return { clusterId, masterKeyName: masterKey.alias, rotatedAt: now };
    });
  }

  async getJob(actor: Actor, jobId: string): Promise<JobRow> {
    const job = await findJob(this.database.db, actor.projectId, jobId);
    if (!job) throw new ServiceError(Errors.JOB_NOT_FOUND);
    return job;
  }

  /** The cluster, held until the transaction ends (FOR UPDATE on PostgreSQL). */
  async lockCluster(db: Db, projectId: string, clusterId: string): Promise<ClusterRow> {
    const row = await findClusterForUpdate(db, this.database.dialect, projectId, clusterId);
    if (!row) throw new ServiceError(Errors.CLUSTER_NOT_FOUND);
    return row;
  }

  /** A fresh data key wrapped under `key`, with the cluster fields that record it. */
  private encryptedFields(clusterId: string, key: KmsKeyRow, algorithm: CryptAlgorithm, dekVersion: number) {
    const plaintext = generateDataKey(DEK_BYTES);
    try {
      return {
        encryption_state: 'encrypted' as const,
        encrypt_id: randomUUID(),
        master_key_id: key.id,
        master_key_name: key.alias,
        crypt_algorithm: algorithm,
        dek_wrapped: this.keys.wrap(key, plaintext, dekContext(clusterId)).toString('base64'),
        dek_version: dekVersion,
      };
    } finally {
      plaintext.fill(0);
    }
  }

  private newJob<N extends JobName>(
    actor: Actor,
    clusterId: string,
    name: N,
    durationMs: number,
    payload: JobPayloads[N],
    masterKeyId: string | null = null,
  ): JobTable {
    const now = this.now();
    return {
      id: randomUUID(),
      project_id: actor.projectId,
      cluster_id: clusterId,
      name,
      status: 'INIT',
      progress: 0,
      payload_json: JSON.stringify(payload),
      master_key_id: masterKeyId,
      failed_code: null,
      failed_detail: null,
      begin_at: now,
      end_at: null,
      due_at: now + durationMs,
      lease_owner: null,
      lease_expires_at: null,
      attempts: 0,
      updated_at: now,
    };
  }
}

export function masterKeyFacts(key: KmsKeyRow): MasterKeyFacts {
  return { alias: key.alias, spec: key.spec, state: key.state };
}

/** Authenticated context of a cluster's wrapped data keys: binds each to its cluster. */
function dekContext(clusterId: string): string {
  return `dws-cluster:${clusterId}`;
}

async function requireCluster(db: Db, projectId: string, clusterId: string): Promise<ClusterRow> {
  const row = await findCluster(db, projectId, clusterId);
  if (!row) throw new ServiceError(Errors.CLUSTER_NOT_FOUND);
  return row;
}
