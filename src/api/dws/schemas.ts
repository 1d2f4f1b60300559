/** TypeBox schemas of the DWS routes. Response schemas also keep internals off the wire. */
import { type Static, Type } from '@sinclair/typebox';
import { ALL_ENTERPRISE_PROJECTS, ENTERPRISE_PROJECT_FILTER_PATTERN } from '../../domain/clusters.js';
import { Nullable, ProjectId, Uuid } from '../common-schemas.js';

export const ClusterParams = Type.Object({ project_id: ProjectId, cluster_id: Uuid });
export type ClusterParams = Static<typeof ClusterParams>;
export const JobParams = Type.Object({ project_id: ProjectId, job_id: Uuid });
export type JobParams = Static<typeof JobParams>;

const NullableString = Nullable(Type.String());
const CryptAlgorithm = Type.Union([Type.Literal('generalCipher'), Type.Literal('SMcompatible')]);

export const EncryptInfo = Type.Object({
  id: NullableString,
  cluster_id: NullableString,
  master_key_id: NullableString,
  master_key_name: NullableString,
  last_rotate_key_time: NullableString,
  crypt_algorithm: NullableString,
});
export type EncryptInfo = Static<typeof EncryptInfo>;

export const EncryptBody = Type.Object({
  encrypt: Type.Object({
    master_key_id: Uuid,
    master_key_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    crypt_algorithm: CryptAlgorithm,
  }),
});
export type EncryptBody = Static<typeof EncryptBody>;
export const JobIdBody = Type.Object({ job_id: Type.String() });
export type JobIdBody = Static<typeof JobIdBody>;

export const RotateBody = Type.Union([Type.Object({ master_key_id: Type.Optional(Uuid) }), Type.Null()]);
export type RotateBody = Static<typeof RotateBody>;
export const RotateResult = Type.Object({
  master_key_name: Type.String(),
  cluster_id: Type.String(),
  rotate_key_time: Type.String(),
});
export type RotateResult = Static<typeof RotateResult>;

export const JobDetail = Type.Object({
  job_id: Type.String(),
  job_name: Type.String(),
  begin_time: NullableString,
  end_time: NullableString,
  status: Type.String(),
  failed_code: NullableString,
  failed_detail: NullableString,
  progress: Type.String(),
});
export type JobDetail = Static<typeof JobDetail>;

const Tag = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 128 }),
  value: Type.String({ maxLength: 255 }),
});

const ClusterName = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_-]{3,63}$',
  description: '4-64 characters: a letter, then letters, digits, - or _',
});

export const CreateClusterBody = Type.Object({
  cluster: Type.Object({
    name: ClusterName,
    flavor: Type.String({ minLength: 1, maxLength: 64 }),
    num_node: Type.Integer({ minimum: 1, maximum: 256 }),
    num_cn: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    db_name: Type.String({ minLength: 1, maxLength: 64 }),
    db_password: Type.String({ minLength: 8, maxLength: 32 }),
    db_port: Type.Optional(Type.Integer({ minimum: 8000, maximum: 30000 })),
    availability_zones: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 3 })),
    vpc_id: Type.String({ minLength: 1, maxLength: 64 }),
    subnet_id: Type.String({ minLength: 1, maxLength: 64 }),
    security_group_id: Type.Optional(Type.String({ maxLength: 64 })),
    datastore_version: Type.String({ minLength: 1, maxLength: 32 }),
    volume: Type.Optional(
      Type.Object({ volume: Type.String({ maxLength: 32 }), capacity: Type.Integer({ minimum: 1 }) }),
    ),
    enterprise_project_id: Type.Optional(Type.String({ maxLength: 64 })),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    master_key_id: Type.Optional(Uuid),
    master_key_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    crypt_algorithm: Type.Optional(CryptAlgorithm),
    guest_agent_version: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        description: 'Extension of this product: the cluster guestAgent version.',
      }),
    ),
  }),
});
export type CreateClusterBody = Static<typeof CreateClusterBody>;
/** POST /v1.0/{project_id}/clusters: the official `CreateClusterInfo` model. */
export const CreateClusterV1Body = Type.Object({
  cluster: Type.Object({
    name: ClusterName,
    node_type: Type.String({ minLength: 1, maxLength: 64 }),
    number_of_node: Type.Integer({ minimum: 3, maximum: 256 }),
    subnet_id: Type.String({ minLength: 1, maxLength: 64 }),
    security_group_id: Type.String({ minLength: 1, maxLength: 64 }),
    vpc_id: Type.String({ minLength: 1, maxLength: 64 }),
    availability_zone: Type.Optional(Type.String({ maxLength: 64 })),
    port: Type.Optional(Type.Integer({ minimum: 8000, maximum: 30000 })),
    user_name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' }),
    user_pwd: Type.String({ minLength: 8, maxLength: 32 }),
    public_ip: Type.Optional(
      Type.Object({
        public_bind_type: Type.Union(['auto_assign', 'not_use', 'bind_existing'].map((t) => Type.Literal(t))),
        eip_id: Type.Optional(Type.String({ maxLength: 64 })),
      }),
    ),
    number_of_cn: Type.Optional(Type.Integer({ minimum: 2, maximum: 20 })),
    enterprise_project_id: Type.Optional(Type.String({ maxLength: 64 })),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
  }),
});
export type CreateClusterV1Body = Static<typeof CreateClusterV1Body>;

/** DELETE /v2/{project_id}/clusters/{cluster_id}: accepted as the reference defines them; no snapshots or EIPs here. */
export const DeleteClusterV2Query = Type.Object({
  keep_last_manual_backup: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  release_eip_type: Type.Optional(Type.Union([Type.Literal('NO_RELEASE'), Type.Literal('RELEASE_BINDING')])),
});
export type DeleteClusterV2Query = Static<typeof DeleteClusterV2Query>;

export const CreateClusterResult = Type.Object({ cluster: Type.Object({ id: Type.String() }) });
export type CreateClusterResult = Static<typeof CreateClusterResult>;

const Endpoint = Type.Object({ connect_info: Type.String(), jdbc_url: Type.String() });
const Node = Type.Object({ id: Type.String(), status: Type.String(), name: Type.String() });
const PublicIp = Type.Object({ public_bind_type: Type.String(), eip_id: NullableString });
const PublicEndpoint = Type.Object({ public_connect_info: Type.String(), jdbc_url: Type.String() });
const FailedReason = Type.Object({ error_code: NullableString, error_msg: NullableString });

const clusterFields = {
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  version: Type.String(),
  created: Type.String(),
  updated: Type.String(),
  port: Type.Integer(),
  endpoints: Type.Array(Endpoint),
  nodes: Type.Array(Node),
  tags: Type.Array(Tag),
  user_name: Type.String(),
  number_of_node: Type.Integer(),
  availability_zone: Type.String(),
  enterprise_project_id: Type.String(),
  node_type: Type.String(),
  vpc_id: Type.String(),
  subnet_id: Type.String(),
  security_group_id: Type.String(),
  sub_status: Type.String(),
  task_status: Type.String(),
  action_progress: Type.Record(Type.String(), Type.String(), {
    description:
      'The running task and its progress as a percentage, e.g. {"ENCRYPTING": "40%"}; {} when idle.',
  }),
  failed_reasons: Nullable(FailedReason),
  recent_event: Type.Integer(),
  public_ip: Nullable(PublicIp),
  public_endpoints: Type.Array(PublicEndpoint),
  datastore_version: Type.String(),
  guest_agent_version: Type.String(),
  encrypted: Type.Boolean(),
};
export const ClusterInfo = Type.Object(clusterFields);
export type ClusterInfo = Static<typeof ClusterInfo>;
/** ShowClusterDetail's ClusterDetail: ClusterInfo and what only the detail reports. */
export const ClusterDetail = Type.Object({
  ...clusterFields,
  parameter_group: Type.Object({ id: Type.String(), name: Type.String(), status: Type.String() }),
  node_type_id: Type.String(),
  order_id: NullableString,
  private_ip: Type.Array(Type.String()),
  maintain_window: Type.Object({ day: Type.String(), start_time: Type.String(), end_time: Type.String() }),
  resize_info: Nullable(
    Type.Object({
      target_node_num: Type.Integer(),
      origin_node_num: Type.Integer(),
      resize_status: Type.String(),
      start_time: Type.String(),
    }),
  ),
  elb: Nullable(
    Type.Object({
      name: Type.String(),
      id: Type.String(),
      public_ip: NullableString,
      private_ip: NullableString,
      private_endpoint: NullableString,
      vpc_id: Type.String(),
    }),
  ),
});
export type ClusterDetail = Static<typeof ClusterDetail>;
export const ClusterListQuery = Type.Object({
  enterprise_project_id: Type.Optional(
    Type.String({
      pattern: ENTERPRISE_PROJECT_FILTER_PATTERN,
      description: `Only clusters of this enterprise project: 0 (the default project), an enterprise project id (UUID), or ${ALL_ENTERPRISE_PROJECTS} (every project, as without the filter).`,
    }),
  ),
});
export type ClusterListQuery = Static<typeof ClusterListQuery>;
export const ClusterList = Type.Object({ clusters: Type.Array(ClusterInfo), count: Type.Integer() });
export type ClusterList = Static<typeof ClusterList>;
export const ClusterDetailBody = Type.Object({ cluster: ClusterDetail });
export type ClusterDetailBody = Static<typeof ClusterDetailBody>;
