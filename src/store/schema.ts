/**
 * Row types of every table, combined into the Kysely schema. Times are epoch milliseconds (UTC);
 * binary values (sealed key material, wrapped keys) are base64 text so that both dialects store them
 * the same way. State columns carry the domain's union types: a row read back is one of the states the
 * rules know (the store writes no other).
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ClusterStatus, CryptAlgorithm, EncryptionState } from '../domain/clusters.js';
import type { JobStatus } from '../domain/jobs.js';
import type { KeySpec, KeyState } from '../domain/keys.js';

/**
 * The payload type of each job kind, by job name. Empty here: each kind's file under src/jobs/ adds its
 * own entry (`declare module '../store/schema.js' { interface JobPayloads { ... } }`), so a new kind
 * declares its name where it is defined.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in src/jobs/*.ts
export interface JobPayloads {}
export type JobName = keyof JobPayloads & string;

export interface ClusterTable {
  id: string;
  project_id: string;
  name: string;
  status: ClusterStatus;
  datastore_version: string;
  guest_agent_version: string;
  /** The create request's descriptive fields (flavor, nodes, network, tags...) as JSON, without secrets. */
  spec_json: string;
  /** The database password, sealed under the root key (never returned). */
  db_password_sealed: string | null;
  encryption_state: EncryptionState;
  encrypt_id: string | null;
  master_key_id: string | null;
  master_key_name: string | null;
  crypt_algorithm: CryptAlgorithm | null;
  /** The data encryption key, wrapped by the KMS under the master key (the plaintext is never stored). */
  dek_wrapped: string | null;
  dek_version: number;
  last_rotate_key_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface KmsKeyTable {
  id: string;
  project_id: string;
  domain_id: string;
  alias: string;
  spec: KeySpec;
  usage: string;
  description: string;
  origin: string;
  state: KeyState;
  /** Key material sealed under the root key with AES-256-GCM, bound to the key id. */
  material_sealed: string;
  scheduled_deletion_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface JobTable {
  id: string;
  project_id: string;
  cluster_id: string;
  name: JobName;
  status: JobStatus;
  progress: number;
  /** The kind's payload as JSON; read back through the kind's schema (src/jobs/kinds.ts), never cast. */
  payload_json: string;
  /** The master key the job will use, if any: key deletion is refused while an active job names it. */
  master_key_id: string | null;
  failed_code: string | null;
  failed_detail: string | null;
  begin_at: number;
  end_at: number | null;
  /** The earliest time the job may finish (begin + configured duration); resumed jobs keep it. */
  due_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempts: number;
  updated_at: number;
}

export interface AuditEventTable {
  id: Generated<number>;
  at: number;
  /** The server's id of the request. */
  request_id: string | null;
  /** The X-Request-Id the caller sent (unsigned: correlation only). */
  caller_request_id: string | null;
  domain_id: string | null;
  project_id: string | null;
  user_name: string | null;
  access_key: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  result: string;
  detail: string | null;
}

/** Every data key a cluster has had, so that data written under an older key stays readable. */
export interface ClusterDataKeyTable {
  cluster_id: string;
  version: number;
  project_id: string;
  /** The master key the data key is wrapped under now (master-key rotation re-wraps every version). */
  master_key_id: string;
  wrapped: string;
  created_at: number;
}

export interface CredentialTable {
  access_key: string;
  /** The secret key sealed under the root key. */
  secret_sealed: string;
  domain_id: string;
  project_id: string;
  user_name: string;
  created_at: number;
}

/** An issued IAM token: its SHA-256 (never the token), whose it is, and for which project, until when. */
export interface TokenTable {
  id: string;
  token_hash: string;
  domain_id: string;
  user_id: string;
  user_name: string;
  project_id: string;
  issued_at: number;
  expires_at: number;
  /** The user's credential version when the token was issued (null: issued before versions existed). */
  credential_version: number | null;
}

/** A declared user's credential state: see src/store/iam-users.ts. */
export interface IamUserTable {
  user_id: string;
  domain_id: string;
  /** HMAC (under a key derived from the root key) of the user's password verifier and access keys. */
  credential_fingerprint: string;
  version: number;
  /** 1 while the identities file does not declare the user. */
  removed: number;
  updated_at: number;
}

/** The first answer to an X-Client-Token request (see src/store/client-tokens.ts). */
export interface ClientTokenTable {
  project_id: string;
  token: string;
  /** SHA-256 of the route, its parameters and the body: what makes a retry "the same request". */
  request_hash: string;
  /** The answer's status; null while the first request runs. */
  status: number | null;
  /** The answer's body, as sent. */
  response: string | null;
  created_at: number;
}

export interface Schema {
  clusters: ClusterTable;
  kms_keys: KmsKeyTable;
  jobs: JobTable;
  audit_events: AuditEventTable;
  credentials: CredentialTable;
  cluster_data_keys: ClusterDataKeyTable;
  tokens: TokenTable;
  client_tokens: ClientTokenTable;
  iam_users: IamUserTable;
}

export type ClusterRow = Selectable<ClusterTable>;
export type NewCluster = Insertable<ClusterTable>;
export type ClusterUpdate = Updateable<ClusterTable>;
export type KmsKeyRow = Selectable<KmsKeyTable>;
export type JobRow = Selectable<JobTable>;
export type AuditEventRow = Selectable<AuditEventTable>;
export type NewAuditEvent = Insertable<AuditEventTable>;
export type CredentialRow = Selectable<CredentialTable>;
export type ClusterDataKeyRow = Selectable<ClusterDataKeyTable>;
export type TokenRow = Selectable<TokenTable>;
