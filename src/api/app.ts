/**
 * Assembles the HTTP application: request ids, the error format, authentication, and one plugin per
 * wire surface. Everything the routes need is passed in (no globals), so tests build an app around
 * any store.
 */
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ClusterService } from '../services/clusters.js';
import type { IdentityProvider } from '../services/identity.js';
import type { KeyService } from '../services/kms.js';
import type { Database } from '../store/database.js';
import { registerAuthentication } from './auth.js';
import { ErrorBody } from './common-schemas.js';
import { dwsRoutes } from './dws/routes.js';
import { registerErrorHandlers } from './errors.js';
import { kmsRoutes } from './kms/routes.js';
import { Metrics } from './ops/metrics.js';
import { registerOpenApi } from './ops/openapi.js';
import { opsRoutes, registerMetricsHooks } from './ops/routes.js';

export interface AppDependencies {
  clusters: ClusterService;
  keys: KeyService;
  identities: IdentityProvider;
  logger: Logger | false;
  bodyLimitBytes: number;
  signatureWindowMs: number;
  now?: () => number;
  /** The store, for /readyz (without it /readyz reports only the process). */
  database?: Database;
  /** Prometheus metrics of this instance (default: a fresh registry per app). */
  metrics?: Metrics;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string | undefined;
}

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes,
    // Honour a caller's X-Request-Id only when it is short and plain; otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given)
        ? given
        : randomUUID().replace(/-/g, '');
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // One line per request is written by the onResponse hook below, with the caller and the route.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorBody);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // request.log already carries reqId (a child binding): not repeated here.
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        caller: request.actor ? (request.actor.accessKey ?? request.actor.userName) : undefined,
      },
      'request',
    );
  });
  registerErrorHandlers(app);
  const metrics = deps.metrics ?? new Metrics();
  registerMetricsHooks(app, metrics);
  registerAuthentication(app, {
    identities: deps.identities,
    windowMs: deps.signatureWindowMs,
    ...(deps.now ? { now: deps.now } : {}),
  });

  // Before the route plugins: @fastify/swagger collects the routes as they are added.
  await registerOpenApi(app);
  await app.register(opsRoutes, { metrics, database: deps.database, metricsToken: deps.metricsToken });
  await app.register(dwsRoutes, { clusters: deps.clusters });
  await app.register(kmsRoutes, { keys: deps.keys });
  return app;
}
