/** Wire shapes the console reads and writes (see /work/shared/contract/README.md). */

export interface ApiErrorBody {
  error_code?: string;
  error_msg?: string;
}

export interface ClusterSummary {
  id: string;
  name: string;
  status: string;
  version?: string | null;
  created?: string | null;
  updated?: string | null;
  sub_status?: string | null;
  task_status?: string | null;
  action_progress?: Record<string, string> | null;
  failed_reasons?: unknown;
  datastore?: { type?: string; version?: string } | null;
}

export interface ClusterDetail extends ClusterSummary {
  /** Our documented extension: the cluster's guestAgent version. */
  guest_agent_version?: string | null;
}

export interface ClusterList {
  clusters: ClusterSummary[];
  count?: number;
}

export type CryptAlgorithm = 'generalCipher' | 'SMcompatible';

export interface EncryptInfo {
  id: string | null;
  cluster_id: string | null;
  master_key_id: string | null;
  master_key_name: string | null;
  last_rotate_key_time: string | null;
  crypt_algorithm: CryptAlgorithm | string | null;
}

export interface RotateKeyResult {
  master_key_name: string;
  cluster_id: string;
  rotate_key_time: string;
}

export type JobStatus = 'INIT' | 'WAITING' | 'RUNNING' | 'DELAY_SCHEDULED' | 'FAIL' | 'SUCCESS' | 'STOP';

export interface Job {
  job_id: string;
  job_name?: string | null;
  begin_time?: string | null;
  end_time?: string | null;
  status: JobStatus | string;
  failed_code?: string | null;
  failed_detail?: string | null;
  progress?: string | null;
}

export interface CreateClusterBody {
  cluster: Record<string, unknown>;
}

export interface KeyDetails {
  key_id: string;
  domain_id?: string;
  key_alias?: string;
  realm?: string;
  key_spec?: string;
  key_usage?: string;
  key_description?: string;
  creation_date?: string;
  scheduled_deletion_date?: string;
  key_state: string;
  default_key_flag?: string;
  key_type?: string;
  origin?: string;
}

export interface KeyList {
  keys?: string[];
  key_details?: KeyDetails[];
  next_marker?: string | null;
  truncated?: string | boolean | null;
  total?: number | null;
}

export interface AuditEvent {
  id?: string;
  /** ISO 8601, UTC. */
  time: string;
  user: string | null;
  domain_id?: string | null;
  access_key?: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  result: string;
  request_id: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditPage {
  events: AuditEvent[];
  next_marker?: string | null;
}

export interface TokenResponse {
  token: {
    expires_at: string;
    user?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
    project?: { id: string; name?: string };
  };
}
