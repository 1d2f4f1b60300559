/**
 * ClusterService and KeyService over an in-memory SQLite store with a fixed clock: what the service
 * layer does, without HTTP, timing or a job runner (a job is finished by calling its kind directly).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type ErrorDef, ServiceError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/services/actor.js';
import { ClusterService, type CreateClusterInput } from '../../src/services/clusters.js';
import { KeyService } from '../../src/services/kms.js';
import { type Database, openSqlite } from '../../src/store/database.js';
import type { JobTable } from '../../src/store/schema.js';

export const START = Date.UTC(2026, 0, 1);
export const ACTOR: Actor = {
  domainId: 'd1',
  projectId: '0123456789abcdef0123456789abcdef',
  userName: 'tester',
};

export interface ServiceFixture {
  database: Database;
  keys: KeyService;
  clusters: ClusterService;
  /** The fixed clock: tests move it by hand. */
  clock: { now: number };
  close(): Promise<void>;
}

export async function serviceFixture(): Promise<ServiceFixture> {
  const database = await openSqlite(':memory:');
  const rootKey = randomBytes(32);
  const clock = { now: START };
  const now = () => clock.now;
  const keys = new KeyService(database, rootKey, now);
  const clusters = new ClusterService(
    database,
    keys,
    rootKey,
    { encryptJobMs: 60_000, clusterCreateMs: 0, maxActiveJobs: 100 },
    now,
  );
  return { database, keys, clusters, clock, close: () => database.close() };
}

export function clusterInput(name: string, extra: Partial<CreateClusterInput> = {}): CreateClusterInput {
  return { name, datastoreVersion: '9.1.0', dbPassword: 'Secret-123', spec: { num_node: 3 }, ...extra };
}

/** A job row as a service would insert it (a createCluster job of the test project), with `extra` over it. */
export function jobRow(now: number, extra: Partial<JobTable> = {}): JobTable {
  return {
    id: randomUUID(),
    project_id: ACTOR.projectId,
    cluster_id: randomUUID(),
    name: 'createCluster',
    status: 'INIT',
    progress: 0,
    payload_json: '{}',
    master_key_id: null,
    failed_code: null,
    failed_detail: null,
    begin_at: now,
    end_at: null,
    due_at: now,
    lease_owner: null,
    lease_expires_at: null,
    attempts: 0,
    updated_at: now,
    ...extra,
  };
}

/** For assert.rejects: the refusal is a ServiceError with this catalogue entry. */
export function refusedWith(def: ErrorDef) {
  return (error: unknown) => error instanceof ServiceError && error.def === def;
}
