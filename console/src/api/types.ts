/**
 * Wire shapes the console reads and writes: the service's own schema types (src/api/<surface>/schemas.ts),
 * imported as types only, so the bundle carries none of the server.
 */
export type { ErrorBody as ApiErrorBody } from '../../../src/api/common-schemas.js';
export type {
  ClusterDetail,
  ClusterInfo as ClusterSummary,
  ClusterList,
  CreateClusterBody,
  EncryptInfo,
  JobDetail as Job,
  RotateResult as RotateKeyResult,
} from '../../../src/api/dws/schemas.js';
export type { AuditEvent, AuditEventList as AuditPage, TokenResponse } from '../../../src/api/iam/schemas.js';
export type { KeyDetails, ListKeysResult as KeyList } from '../../../src/api/kms/schemas.js';
export type { CryptAlgorithm } from '../../../src/domain/clusters.js';
export type { JobStatus } from '../../../src/domain/jobs.js';
