/** Rows to wire bodies of the DWS surface (contract field names and formats). */
import type { Static } from '@sinclair/typebox';
import { DEFAULT_ENTERPRISE_PROJECT_ID } from '../../domain/clusters.js';
import { formatIsoTime, formatJobTime, formatRotateTime } from '../../domain/time.js';
import type { ClusterEncryption } from '../../store/clusters.js';
import type { ClusterRow, JobRow } from '../../store/schema.js';
import type { ClusterInfo, EncryptInfo, JobDetail } from './schemas.js';

const NULL_ENCRYPT_INFO: Static<typeof EncryptInfo> = {
  id: null,
  cluster_id: null,
  master_key_id: null,
  master_key_name: null,
  last_rotate_key_time: null,
  crypt_algorithm: null,
};

export function encryptInfoView(row: ClusterEncryption): Static<typeof EncryptInfo> {
  if (row.encryption_state !== 'encrypted') return NULL_ENCRYPT_INFO;
  return {
    id: row.encrypt_id,
    cluster_id: row.id,
    master_key_id: row.master_key_id,
    master_key_name: row.master_key_name,
    last_rotate_key_time: row.last_rotate_key_at === null ? null : formatRotateTime(row.last_rotate_key_at),
    crypt_algorithm: row.crypt_algorithm,
  };
}

interface ClusterSpec {
  flavor?: string;
  num_node?: number;
  db_name?: string;
  db_port?: number;
  availability_zones?: string[];
  vpc_id?: string;
  subnet_id?: string;
  security_group_id?: string;
  enterprise_project_id?: string;
  tags?: { key: string; value: string }[];
}

export function clusterView(row: ClusterRow): Static<typeof ClusterInfo> {
  const spec = JSON.parse(row.spec_json) as ClusterSpec;
  const port = spec.db_port ?? 8000;
  const nodes = spec.num_node ?? 3;
  const host = `${row.name}.dws.local`;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    version: row.datastore_version,
    created: formatIsoTime(row.created_at),
    updated: formatIsoTime(row.updated_at),
    port,
    endpoints: [
      {
        connect_info: `${host}:${port}`,
        jdbc_url: `jdbc:postgresql://${host}:${port}/${spec.db_name ?? 'gaussdb'}`,
      },
    ],
    nodes: Array.from({ length: nodes }, (_, i) => ({
      id: `${row.id.slice(0, 8)}-dn-${i + 1}`,
      status: row.status === 'AVAILABLE' ? '200' : '100',
    })),
    tags: spec.tags ?? [],
    user_name: 'dbadmin',
    number_of_node: nodes,
    availability_zone: (spec.availability_zones ?? []).join(','),
    enterprise_project_id: spec.enterprise_project_id ?? DEFAULT_ENTERPRISE_PROJECT_ID,
    node_type: spec.flavor ?? '',
    vpc_id: spec.vpc_id ?? '',
    subnet_id: spec.subnet_id ?? '',
    security_group_id: spec.security_group_id ?? '',
    sub_status: row.status === 'AVAILABLE' ? 'NORMAL' : row.status,
    task_status: row.encryption_state === 'converting' ? 'ENCRYPTING' : '',
    action_progress: row.encryption_state === 'converting' ? { ENCRYPTING: 'running' } : {},
    failed_reasons: {},
    datastore_version: row.datastore_version,
    guest_agent_version: row.guest_agent_version,
    encrypted: row.encryption_state === 'encrypted',
  };
}

export function jobView(row: JobRow): Static<typeof JobDetail> {
  return {
    job_id: row.id,
    job_name: row.name,
    begin_time: formatJobTime(row.begin_at),
    end_time: row.end_at === null ? null : formatJobTime(row.end_at),
    status: row.status,
    failed_code: row.failed_code,
    failed_detail: row.failed_detail,
    progress: `${row.progress}%`,
  };
}
