/**
 * Operations endpoints, without signed-request authentication (`config: { public: true }`):
 * - `GET /healthz`: the process is alive and serving (200 `{"status":"ok"}`); no I/O.
 * - `GET /readyz`: the store answers a round trip and every migration is applied (`checkStoreReadiness`,
 *   bounded by a timeout); otherwise 503 in the error format, so a load balancer takes the instance
 *   out of rotation. Liveness never touches the store.
 * - `GET /metrics`: Prometheus text format. Open unless DWS_METRICS_TOKEN is set, in which case it needs
 *   `Authorization: Bearer <token>`.
 * The request, key-operation and store-error counters are fed by the app's request hooks
 * (`registerRequestHooks` in src/api/request-hooks.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Errors, ServiceError } from '../../domain/errors.js';
import type { Database } from '../../store/database.js';
import { checkStoreReadiness } from '../../store/health.js';
import { declareSurface, sendError } from '../errors.js';
import type { Metrics } from './metrics.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  /** Without a database (an app built for a unit test) /readyz reports only the process. */
  database: Database;
  /** When set, /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string | undefined;
  /** Why the instance is not ready although its store answers (start-up work pending), if it is not. */
  notReady?: () => string | undefined;
}

const Status = Type.Object({ status: Type.Literal('ok') });
const Readiness = Type.Object({
  status: Type.Literal('ok'),
  store: Type.String({ description: 'sqlite or postgres' }),
  latency_ms: Type.Integer({ description: 'round trip of the store check' }),
});
const ErrorRef = Type.Ref('ErrorBody');

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, options) => {
  declareSurface(app, 'DWS');
  const { metrics, database, metricsToken } = options;

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        operationId: 'Healthz',
        tags: ['ops'],
        summary: 'Liveness: the process is up',
        response: { 200: Status, 503: ErrorRef },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        operationId: 'Readyz',
        tags: ['ops'],
        summary: 'Readiness: the store is reachable and migrated',
        response: { 200: Readiness, 503: ErrorRef },
      },
    },
    async (request, reply) => {
      const pending = options.notReady?.();
      if (pending !== undefined) {
        metrics.storeError('readiness');
        request.log.warn({ store: database.dialect, reason: pending }, 'not ready');
        return sendError(
          reply,
          Errors.STORE_UNAVAILABLE,
          `Not ready: the ${database.dialect} store failed its check; the reason is in the service log.`,
        );
      }
      const readiness = await checkStoreReadiness(database);
      if (!readiness.ready) {
        metrics.storeError('readiness');
        // The detail (a driver message may name hosts and ports) goes to the log, not to the anonymous caller.
        request.log.warn({ store: readiness.store, reason: readiness.reason }, 'not ready');
        // Sent, not thrown: a failed probe is an answer, not a request error.
        return sendError(
          reply,
          Errors.STORE_UNAVAILABLE,
          `Not ready: the ${readiness.store} store failed its check; the reason is in the service log.`,
        );
      }
      return { status: 'ok' as const, store: readiness.store, latency_ms: readiness.latencyMs };
    },
  );

  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        operationId: 'Metrics',
        tags: ['ops'],
        summary: 'Prometheus metrics (text exposition format)',
        description: metricsToken
          ? 'Requires `Authorization: Bearer <DWS_METRICS_TOKEN>`.'
          : 'Open: DWS_METRICS_TOKEN is not set.',
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: Type.String() } },
          },
          401: ErrorRef,
          503: ErrorRef,
        },
      },
    },
    async (request: FastifyRequest, reply) => {
      if (metricsToken) {
        const header = request.headers.authorization ?? '';
        const match = /^Bearer\s+(.+)$/i.exec(header);
        if (!match || !sameSecret(match[1]!.trim(), metricsToken)) {
          throw new ServiceError(Errors.METRICS_TOKEN_REQUIRED);
        }
      }
      const body = await metrics.render();
      return reply.type(metrics.contentType).send(body);
    },
  );
};
