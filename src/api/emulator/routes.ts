/**
 * The emulator control API under the reserved prefix /_dws/ (never a DWS path): reset, state snapshots,
 * seeding, fault rules and finishing jobs now. Signed like every other call; each route checks a
 * `dws:emulator:*` permission. Off with DWS_EMULATOR_API=off (then /_dws/* answers 404 like any unknown path).
 *
 * `registerFaults` adds the hook that applies fault rules to the service's own operations.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Errors, ServiceError } from '../../domain/errors.js';
import { faultAnswer, type JobFault, parseFaultRule } from '../../domain/faults.js';
import { parseSeedDocument } from '../../domain/seed.js';
import type { EmulatorService } from '../../services/emulator.js';
import type { FaultRules } from '../../services/faults.js';
import { actorOf } from '../auth.js';
import { errorResponses, ProjectId, Uuid } from '../common-schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a fault rule with `job`: the conversion this request starts fails that way. */
    jobFault?: JobFault;
  }
}

export const EMULATOR_PREFIX = '/_dws/';
export const EMULATOR_TAG = 'emulator';

const FaultRuleView = Type.Object(
  {
    id: Type.String(),
    operation: Type.String(),
    project_id: Type.Optional(Type.String()),
    cluster_id: Type.Optional(Type.String()),
    probability: Type.Number(),
    count: Type.Optional(Type.Integer()),
    remaining: Type.Optional(Type.Integer()),
    hits: Type.Integer(),
    latency_ms: Type.Optional(Type.Integer()),
    error: Type.Optional(
      Type.Object({
        status: Type.Integer(),
        error_code: Type.Optional(Type.String()),
        error_msg: Type.Optional(Type.String()),
      }),
    ),
    job: Type.Optional(
      Type.Object({
        fail_at_percent: Type.Integer(),
        failed_code: Type.String(),
        failed_detail: Type.String(),
      }),
    ),
  },
  { description: 'A fault rule with its id and hit count' },
);

/** Anything JSON: the seed document and the snapshot are checked by the domain, naming the field. */
const AnyObject = Type.Object({}, { additionalProperties: true });

function doc<T extends object>(operationId: string, description: string, extra?: T) {
  return { operationId, tags: [EMULATOR_TAG], description, ...(extra as T) };
}

export interface EmulatorRoutesOptions {
  emulator: EmulatorService;
}

export const emulatorRoutes: FastifyPluginAsyncTypebox<EmulatorRoutesOptions> = async (app, { emulator }) => {
  app.post(
    '/_dws/reset',
    {
      config: { action: 'dws:emulator:reset', global: true },
      schema: {
        ...doc(
          'EmulatorReset',
          'Empties clusters, keys, jobs, tokens, audit and every other stored resource (all projects, or the one given), and clears the fault rules. Identities and the bootstrap credential stay.',
          {
            body: Type.Union([Type.Object({ project_id: Type.Optional(ProjectId) }), Type.Null()]),
            response: { 200: Type.Object({ reset: Type.String() }), ...errorResponses() },
          },
        ),
      },
    },
    async (request) => {
      const projectId = request.body?.project_id;
      await emulator.reset(projectId);
      return { reset: projectId ?? 'all' };
    },
  );

  app.get(
    '/_dws/state',
    {
      config: { action: 'dws:emulator:getState', global: true },
      schema: {
        ...doc(
          'EmulatorExportState',
          'A snapshot of every stored resource. Key material and passwords stay sealed under the root key: the snapshot imports only where the root key is the same.',
          { response: { 200: AnyObject, ...errorResponses() } },
        ),
      },
    },
    async () => emulator.exportState(),
  );

  app.post(
    '/_dws/state',
    {
      config: { action: 'dws:emulator:setState', global: true },
      schema: {
        ...doc('EmulatorImportState', 'Replaces every stored resource with a snapshot of GET /_dws/state.', {
          body: AnyObject,
          response: {
            200: Type.Object({ tables: Type.Record(Type.String(), Type.Integer()) }),
            ...errorResponses(),
          },
        }),
      },
    },
    async (request) => emulator.importState(request.body),
  );

  app.post(
    '/_dws/seed',
    {
      config: { action: 'dws:emulator:seed', global: true },
      schema: {
        ...doc(
          'EmulatorSeed',
          'Creates the keys and clusters of a seed document (docs/testing.md) and answers their ids by name.',
          {
            body: AnyObject,
            response: {
              200: Type.Object({
                project_id: Type.String(),
                keys: Type.Record(Type.String(), Type.String()),
                clusters: Type.Record(Type.String(), Type.String()),
              }),
              ...errorResponses(),
            },
          },
        ),
      },
    },
    async (request) => emulator.seed(parseSeedDocument(request.body), actorOf(request).projectId),
  );

  app.get(
    '/_dws/faults',
    {
      config: { action: 'dws:emulator:listFaults', global: true },
      schema: {
        ...doc('EmulatorListFaults', 'The fault rules of this instance with their hit counts.'),
        response: { 200: Type.Object({ faults: Type.Array(FaultRuleView) }), ...errorResponses() },
      },
    },
    async () => ({ faults: emulator.faults.list() }),
  );

  app.post(
    '/_dws/faults',
    {
      config: { action: 'dws:emulator:addFault', global: true },
      schema: {
        ...doc(
          'EmulatorAddFault',
          'Adds a fault rule to this instance (docs/testing.md lists every field) and answers it with its id.',
          { body: AnyObject, response: { 200: FaultRuleView, ...errorResponses() } },
        ),
      },
    },
    async (request) => emulator.faults.add(parseFaultRule(request.body, emulator.faults.operations)),
  );

  app.delete(
    '/_dws/faults',
    {
      config: { action: 'dws:emulator:deleteFault', global: true },
      schema: {
        ...doc('EmulatorClearFaults', 'Removes every fault rule of this instance.'),
        response: { 200: Type.Object({ removed: Type.Integer() }), ...errorResponses() },
      },
    },
    async () => {
      const removed = emulator.faults.list().length;
      emulator.faults.clear();
      return { removed };
    },
  );

  app.delete(
    '/_dws/faults/:id',
    {
      config: { action: 'dws:emulator:deleteFault', global: true },
      schema: {
        ...doc('EmulatorDeleteFault', 'Removes one fault rule.'),
        params: Type.Object({ id: Uuid }),
        response: { 200: Type.Object({ removed: Type.Integer() }), ...errorResponses() },
      },
    },
    async (request) => {
      if (!emulator.faults.remove(request.params.id)) {
        throw new ServiceError(Errors.ROUTE_NOT_FOUND, `No fault rule ${request.params.id}.`);
      }
      return { removed: 1 };
    },
  );

  app.post(
    '/_dws/jobs/complete',
    {
      config: { action: 'dws:emulator:completeJobs', global: true },
      schema: {
        ...doc(
          'EmulatorCompleteJobs',
          'Finishes every unfinished job now (a job fault still fails its job) and answers each with its final status.',
          {
            response: {
              200: Type.Object({
                jobs: Type.Array(Type.Object({ job_id: Type.String(), status: Type.String() })),
              }),
              ...errorResponses(),
            },
          },
        ),
      },
    },
    async () => emulator.completeJobs(),
  );
};

/**
 * Applies fault rules to the service's operations (every route with an operationId and a permission,
 * except the emulator's own), after authentication and validation: a faulted answer is in the normal
 * error format, told apart from a real one only by its `X-Dws-Fault` header (the rule id). The
 * operations a rule may name are collected into `faults.operations`.
 */
export function registerFaults(app: FastifyInstance, faults: FaultRules): void {
  const operations = faults.operations;
  app.addHook('onRoute', (route) => {
    const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
    const config = route.config as { action?: string } | undefined;
    if (operationId && config?.action && !route.url.startsWith(EMULATOR_PREFIX)) operations.add(operationId);
  });
  app.addHook('preHandler', (request, reply, done) => {
    if (faults.activeCount === 0) return done();
    const operation = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId;
    if (operation === undefined || !operations.has(operation)) return done();
    const params = (request.params ?? {}) as { project_id?: string; cluster_id?: string };
    const rule = faults.take({ operation, projectId: params.project_id, clusterId: params.cluster_id });
    if (rule === undefined) return done();
    reply.header('X-Dws-Fault', rule.id);
    const answer = () => {
      if (rule.job) {
        request.jobFault = rule.job;
        return done();
      }
      if (rule.latency_ms !== undefined && rule.error === undefined) return done();
      const { status, error_code, error_msg } = faultAnswer(
        rule.error,
        request.routeOptions.config.surface ?? 'DWS',
      );
      request.errorCode = error_code;
      reply.code(status).type('application/json; charset=utf-8').send({ error_code, error_msg });
    };
    if (rule.latency_ms) setTimeout(answer, rule.latency_ms);
    else answer();
  });
}
