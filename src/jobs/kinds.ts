/**
 * The table of job kinds. A new kind is one file under src/jobs/ (its payload schema and `JobPayloads`
 * entry, its `complete` and what the cluster gets back when the job is given up; see encrypt-cluster.ts)
 * and one line in `JOB_KINDS`.
 */
import { Value } from '@sinclair/typebox/value';
import type { JobName, JobPayloads, JobRow } from '../store/schema.js';
import { createClusterKind } from './create-cluster.js';
import { deleteClusterKind } from './delete-cluster.js';
import { encryptClusterKind } from './encrypt-cluster.js';
import type { JobKind } from './kind.js';

export const JOB_KINDS: { readonly [N in JobName]: JobKind<N> } = {
  encryptCluster: encryptClusterKind,
  createCluster: createClusterKind,
  deleteCluster: deleteClusterKind,
};

/** The kind of a stored job; undefined for a name this build does not know (a row of a newer version). */
export function jobKind<N extends JobName>(name: N): JobKind<N> | undefined {
  return Object.hasOwn(JOB_KINDS, name) ? JOB_KINDS[name] : undefined;
}

/** The job's payload, checked against its kind's schema; undefined when it does not match. */
export function readPayload<N extends JobName>(kind: JobKind<N>, job: JobRow): JobPayloads[N] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(job.payload_json);
  } catch {
    return undefined;
  }
  return Value.Check(kind.payload, parsed) ? parsed : undefined;
}
