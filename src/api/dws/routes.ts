/** The DWS wire surface: cluster encryption (encrypt-info, encrypt, rotate-key, jobs) and the clusters it needs. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { DEFAULT_CLUSTER_VERSION } from '../../domain/clusters.js';
import { Errors, ServiceError } from '../../domain/errors.js';
import { formatRotateTime } from '../../domain/time.js';
import type { ClusterService } from '../../services/clusters.js';
import { actorOf } from '../auth.js';
import { errorResponses, ProjectParams } from '../common-schemas.js';
import { declareSurface } from '../errors.js';
import {
  ClusterDetailBody,
  ClusterList,
  ClusterListQuery,
  ClusterParams,
  CreateClusterBody,
  CreateClusterResult,
  CreateClusterV1Body,
  DeleteClusterV2Query,
  EncryptBody,
  EncryptInfo,
  JobDetail,
  JobIdBody,
  JobParams,
  RotateBody,
  RotateResult,
} from './schemas.js';
import { clusterDetailView, clusterView, encryptInfoView, jobView } from './views.js';

/**
 * The descriptive fields of a create request that are kept with the cluster. Only the known fields are
 * copied: unknown ones (official clients send more than this subset) are ignored rather than stored, so
 * a body cannot park arbitrary data, or a structure too deep to serialize, in the store.
 */
function clusterSpec(c: Static<typeof CreateClusterBody>['cluster']): Record<string, unknown> {
  return {
    name: c.name,
    flavor: c.flavor,
    num_node: c.num_node,
    num_cn: c.num_cn,
    db_name: c.db_name,
    db_port: c.db_port,
    availability_zones: c.availability_zones,
    vpc_id: c.vpc_id,
    subnet_id: c.subnet_id,
    security_group_id: c.security_group_id,
    datastore_version: c.datastore_version,
    volume: c.volume && { volume: c.volume.volume, capacity: c.volume.capacity },
    enterprise_project_id: c.enterprise_project_id,
    tags: c.tags?.map((tag) => ({ key: tag.key, value: tag.value })),
  };
}

/** The same stored shape from a v1.0 `CreateClusterInfo` (its field names differ from the v2 body's). */
function clusterSpecV1(c: Static<typeof CreateClusterV1Body>['cluster']): Record<string, unknown> {
  return {
    name: c.name,
    flavor: c.node_type,
    num_node: c.number_of_node,
    num_cn: c.number_of_cn,
    db_port: c.port,
    user_name: c.user_name,
    availability_zones: c.availability_zone === undefined ? undefined : [c.availability_zone],
    vpc_id: c.vpc_id,
    subnet_id: c.subnet_id,
    security_group_id: c.security_group_id,
    public_ip: c.public_ip && { public_bind_type: c.public_ip.public_bind_type, eip_id: c.public_ip.eip_id },
    enterprise_project_id: c.enterprise_project_id,
    tags: c.tags?.map((tag) => ({ key: tag.key, value: tag.value })),
  };
}

export interface DwsRoutesOptions {
  clusters: ClusterService;
}

export const dwsRoutes: FastifyPluginAsyncTypebox<DwsRoutesOptions> = async (app, { clusters }) => {
  declareSurface(app, 'DWS');
  app.get(
    '/v1/:project_id/clusters/:cluster_id/encrypt-info',
    {
      config: { action: 'dws:cluster:getEncryptInfo' },
      schema: {
        operationId: 'ShowClusterEncryptInfo',
        tags: ['dws'],
        params: ClusterParams,
        response: { 200: EncryptInfo, ...errorResponses() },
      },
    },
    async (request) =>
      encryptInfoView(await clusters.encryptInfo(actorOf(request), request.params.cluster_id)),
  );

  app.post(
    '/v2/:project_id/clusters/:cluster_id/encrypt',
    {
      config: { action: 'dws:cluster:encrypt', idempotent: true },
      schema: {
        operationId: 'EncryptCluster',
        tags: ['dws'],
        params: ClusterParams,
        body: EncryptBody,
        response: { 200: JobIdBody, ...errorResponses() },
      },
    },
    async (request) => {
      const { master_key_id, master_key_name, crypt_algorithm } = request.body.encrypt;
      const jobId = await clusters.startEncryption(actorOf(request), request.params.cluster_id, {
        masterKeyId: master_key_id,
        cryptAlgorithm: crypt_algorithm,
        ...(master_key_name !== undefined ? { masterKeyName: master_key_name } : {}),
        ...(request.jobFault ? { fault: request.jobFault } : {}),
      });
      return { job_id: jobId };
    },
  );

  app.post(
    '/v1/:project_id/clusters/:cluster_id/rotate-key',
    {
      config: { action: 'dws:cluster:rotateKey', idempotent: true },
      schema: {
        operationId: 'RotateKey',
        tags: ['dws'],
        params: ClusterParams,
        body: RotateBody,
        response: { 200: RotateResult, ...errorResponses() },
      },
    },
    async (request) => {
      const result = await clusters.rotateKey(
        actorOf(request),
        request.params.cluster_id,
        request.body?.master_key_id,
      );
      return {
        master_key_name: result.masterKeyName,
        cluster_id: result.clusterId,
        rotate_key_time: formatRotateTime(result.rotatedAt),
      };
    },
  );

  app.get(
    '/v1.0/:project_id/job/:job_id',
    {
      config: { action: 'dws:service:listJobDetail' },
      schema: {
        operationId: 'ListJobDetails',
        tags: ['dws'],
        params: JobParams,
        response: { 200: JobDetail, ...errorResponses() },
      },
    },
    async (request) => jobView(await clusters.getJob(actorOf(request), request.params.job_id)),
  );

  app.post(
    '/v2/:project_id/clusters',
    {
      config: { action: 'dws:openAPICluster:create', idempotent: true },
      schema: {
        operationId: 'CreateCluster',
        tags: ['dws'],
        params: ProjectParams,
        body: CreateClusterBody,
        response: { 200: CreateClusterResult, ...errorResponses() },
      },
    },
    async (request) => {
      const { cluster } = request.body;
      const { db_password, guest_agent_version, master_key_id, master_key_name, crypt_algorithm } = cluster;
      if ((master_key_id === undefined) !== (crypt_algorithm === undefined)) {
        throw new ServiceError(Errors.MASTER_KEY_REQUIRED);
      }
      const row = await clusters.createCluster(actorOf(request), {
        name: cluster.name,
        datastoreVersion: cluster.datastore_version,
        dbPassword: db_password,
        spec: clusterSpec(cluster),
        ...(guest_agent_version !== undefined ? { guestAgentVersion: guest_agent_version } : {}),
        ...(master_key_id !== undefined && crypt_algorithm !== undefined
          ? {
              encryption: {
                masterKeyId: master_key_id,
                cryptAlgorithm: crypt_algorithm,
                ...(master_key_name !== undefined ? { masterKeyName: master_key_name } : {}),
              },
            }
          : {}),
      });
      return { cluster: { id: row.id } };
    },
  );

  // ListClusters (v1.0) and ShowClusters (v2): one list, two paths of the reference.
  for (const [path, operationId] of [
    ['/v1.0/:project_id/clusters', 'ListClusters'],
    ['/v2/:project_id/clusters', 'ShowClusters'],
  ] as const) {
    app.get(
      path,
      {
        config: { action: 'dws:openAPICluster:list' },
        schema: {
          operationId,
          tags: ['dws'],
          params: ProjectParams,
          querystring: ClusterListQuery,
          response: { 200: ClusterList, ...errorResponses() },
        },
      },
      async (request) => {
        const states = await clusters.listClusters(actorOf(request), request.query.enterprise_project_id);
        return { clusters: states.map((c) => clusterView(c, c.activity)), count: states.length };
      },
    );
  }

  app.post(
    '/v1.0/:project_id/clusters',
    {
      config: { action: 'dws:openAPICluster:create', idempotent: true },
      schema: {
        operationId: 'CreateClusterV1',
        tags: ['dws'],
        params: ProjectParams,
        body: CreateClusterV1Body,
        response: { 200: CreateClusterResult, ...errorResponses() },
      },
    },
    async (request) => {
      const { cluster } = request.body;
      const row = await clusters.createCluster(actorOf(request), {
        name: cluster.name,
        datastoreVersion: DEFAULT_CLUSTER_VERSION,
        dbPassword: cluster.user_pwd,
        spec: clusterSpecV1(cluster),
      });
      return { cluster: { id: row.id } };
    },
  );

  app.get(
    '/v1.0/:project_id/clusters/:cluster_id',
    {
      config: { action: 'dws:openAPICluster:getDetail' },
      schema: {
        operationId: 'ShowClusterDetail',
        tags: ['dws'],
        params: ClusterParams,
        response: { 200: ClusterDetailBody, ...errorResponses() },
      },
    },
    async (request) => {
      const cluster = await clusters.showCluster(actorOf(request), request.params.cluster_id);
      return { cluster: clusterDetailView(cluster, cluster.activity) };
    },
  );

  app.delete(
    '/v1.0/:project_id/clusters/:cluster_id',
    {
      config: { action: 'dws:openAPICluster:delete' },
      schema: {
        operationId: 'DeleteCluster',
        tags: ['dws'],
        params: ClusterParams,
        body: Type.Union([
          Type.Object({ keep_last_manual_snapshot: Type.Optional(Type.Integer({ minimum: 0 })) }),
          Type.Null(),
        ]),
        response: { 202: Type.Object({}), ...errorResponses() },
      },
    },
    async (request, reply) => {
      await clusters.deleteCluster(actorOf(request), request.params.cluster_id);
      return reply.code(202).send({});
    },
  );

  app.delete(
    '/v2/:project_id/clusters/:cluster_id',
    {
      config: { action: 'dws:openAPICluster:delete', idempotent: true },
      schema: {
        operationId: 'DeleteDwsCluster',
        tags: ['dws'],
        description:
          'Asynchronous: the cluster shows DELETING until the job (ListJobDetails) removes it. Refused while the cluster converts to encryption. The answer carries the job id (an extension: the reference answers 202 without a body).',
        params: ClusterParams,
        querystring: DeleteClusterV2Query,
        response: { 202: JobIdBody, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const jobId = await clusters.startDeletion(actorOf(request), request.params.cluster_id);
      return reply.code(202).send({ job_id: jobId });
    },
  );
};
