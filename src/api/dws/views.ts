/** Rows to wire bodies of the DWS surface (contract field names and formats). */
import { createHash } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { DEFAULT_ENTERPRISE_PROJECT_ID } from '../../domain/clusters.js';
import { formatClusterTime, formatJobTime, formatRotateTime } from '../../domain/time.js';
import { jobKind } from '../../jobs/kinds.js';
import type { ClusterEncryption } from '../../store/clusters.js';
import type { ClusterRow, JobName, JobRow } from '../../store/schema.js';
import type { ClusterDetail, ClusterInfo, EncryptInfo, JobDetail } from './schemas.js';

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
  user_name?: string;
  public_ip?: { public_bind_type: string; eip_id?: string };
}

const ENCRYPTING = 'ENCRYPTING';

/** What a cluster is doing: its unfinished job (kind name and progress), if any. */
export interface ClusterActivity {
  name: JobName;
  progress: number;
}

/** A stable UUID-shaped id derived from `seed` (ids the service does not store, such as the parameter group). */
function derivedId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function clusterView(row: ClusterRow, activity?: ClusterActivity): Static<typeof ClusterInfo> {
  const spec = JSON.parse(row.spec_json) as ClusterSpec;
  const port = spec.db_port ?? 8000;
  const nodes = spec.num_node ?? 3;
  const host = `${row.name}.dws.local`;
  const task =
    (activity && jobKind(activity.name)?.clusterTask) ??
    (row.encryption_state === 'converting' ? ENCRYPTING : undefined);
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    version: row.datastore_version,
    created: formatClusterTime(row.created_at),
    updated: formatClusterTime(row.updated_at),
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
      name: `${row.name}-dws-dn-${i + 1}-1`,
    })),
    tags: spec.tags ?? [],
    user_name: spec.user_name ?? 'dbadmin',
    number_of_node: nodes,
    availability_zone: (spec.availability_zones ?? []).join(','),
    enterprise_project_id: spec.enterprise_project_id ?? DEFAULT_ENTERPRISE_PROJECT_ID,
    node_type: spec.flavor ?? '',
    vpc_id: spec.vpc_id ?? '',
    subnet_id: spec.subnet_id ?? '',
    security_group_id: spec.security_group_id ?? '',
    sub_status: row.status === 'AVAILABLE' ? 'NORMAL' : row.status,
    task_status: task ?? '',
    // The reference's form: the running task and its progress as a percentage.
    action_progress: task === undefined ? {} : { [task]: `${activity?.progress ?? 0}%` },
    failed_reasons: null,
    recent_event: 0,
    public_ip: spec.public_ip
      ? { public_bind_type: spec.public_ip.public_bind_type, eip_id: spec.public_ip.eip_id ?? null }
      : null,
    public_endpoints: [],
    datastore_version: row.datastore_version,
    guest_agent_version: row.guest_agent_version,
    encrypted: row.encryption_state === 'encrypted',
  };
}

/** ShowClusterDetail: the list fields and those only the detail reports (defaults of a new cluster). */
export function clusterDetailView(row: ClusterRow, activity?: ClusterActivity): Static<typeof ClusterDetail> {
  const info = clusterView(row, activity);
  return {
    ...info,
    parameter_group: {
      id: derivedId(`parameter-group:${row.id}`),
      name: 'Default-Parameter-Group-dws',
      status: 'In-Sync',
    },
    node_type_id: derivedId(`flavor:${info.node_type}`),
    order_id: null, // pay-per-use: no order
    private_ip: info.nodes.map((_, i) => `192.168.0.${10 + i}`),
    maintain_window: { day: 'Wed', start_time: '22:00', end_time: '02:00' },
    resize_info: null,
    elb: null,
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
