/**
 * Assembles the HTTP application: request ids, the error format, authentication, and one plugin per
 * wire surface. Everything the routes need is passed in (no globals), so tests build an app around
 * any store.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Ablation } from '../config.js';
import { DEFAULT_RATE_LIMIT, type RateLimit, RateLimiter } from '../domain/rate-limit.js';
import type { AuditTrail } from '../services/audit.js';
import type { ClusterService } from '../services/clusters.js';
import type { EmulatorService } from '../services/emulator.js';
import type { IamService } from '../services/iam.js';
import type { IdentityProvider } from '../services/identity.js';
import type { KeyService } from '../services/kms.js';
import type { Database } from '../store/database.js';
import { registerAuthentication } from './auth.js';
import { ErrorBody, integerLikeKeyword } from './common-schemas.js';
import { consolePlugin, resolveConsoleRoot } from './console/plugin.js';
import { dwsRoutes } from './dws/routes.js';
import { emulatorRoutes, registerFaults } from './emulator/routes.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandlers } from './errors.js';
import { iamRoutes } from './iam/routes.js';
import { registerIdempotency } from './idempotency.js';
import { kmsRoutes } from './kms/routes.js';
import type { Metrics } from './ops/metrics.js';
import { registerOpenApi } from './ops/openapi.js';
import { opsRoutes } from './ops/routes.js';
import { registerRequestHooks } from './request-hooks.js';
import { lazyChildLoggers, nextRequestId } from './request-log.js';

export interface AppDependencies {
  clusters: ClusterService;
  keys: KeyService;
  identities: IdentityProvider;
  /** Token issue (POST /v3/auth/tokens). */
  iam: IamService;
  /** The audit trail (GET /v1/{project_id}/audit-events). */
  audit: AuditTrail;
  logger: Logger | false;
  bodyLimitBytes: number;
  signatureWindowMs: number;
  now: () => number;
  /** The store, for /readyz. */
  database: Database;
  /** PostgreSQL: the database time until which an X-Client-Token claim sent now may be written. */
  claimDeadline?: () => number;
  /** Why this instance is not ready although its store answers (start-up work pending), if it is not. */
  notReady?: () => string | undefined;
  /** Prometheus metrics of this instance. */
  metrics: Metrics;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  /** Per-caller request rate limit (default DEFAULT_RATE_LIMIT; perSecond 0: none). */
  rateLimit?: RateLimit;
  /** The region this service stands for (KMS `region_id` of a created key). */
  region: string;
  /** Connection limits against slow or oversized requests. */
  httpLimits: HttpLimits;
  /** Benchmark only (DWS_BENCH_ABLATE, refused in production): per-request work turned off. */
  ablations?: ReadonlySet<Ablation>;
  /** The emulator: fault rules always apply; the /_dws/ control API only when `api` is true. */
  emulator?: { service: EmulatorService; api: boolean };
  /** A signature mismatch answers the canonical request and string to sign (default true). */
  signatureDebug?: boolean;
}

/** See docs/reliability.md: what each limit protects against and what a client sees when it hits it. */
export interface HttpLimits {
  /** Largest request head; larger answers 400 HEADERS_TOO_LARGE and the connection is closed. */
  maxHeaderBytes: number;
  /** The whole request (head and body) must arrive within this time: 408 REQUEST_TIMEOUT and close. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this time. */
  keepAliveTimeoutMs: number;
  /** A socket without any traffic for this long is destroyed (0: never). */
  connectionTimeoutMs: number;
}

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const limits = deps.httpLimits;
  const off = deps.ablations ?? NO_ABLATIONS;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
      // Node checks the two timeouts above only this often (default 30 s): keep it well below them.
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(limits.requestTimeoutMs / 4))),
    },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    // Refusals that happen before any hook (bad URLs, oversized headers, slow clients) in the error format.
    frameworkErrors,
    clientErrorHandler,
    // The server's own id for every request: a caller's X-Request-Id is unsigned (anyone can forge it),
    // so it is only kept beside ours (callerRequestId: the request line, the audit trail).
    genReqId: off.has('request-id') ? () => ABLATED_REQUEST_ID : () => nextRequestId(),
    // request.log is made only when a request logs through it (the request line below does not).
    childLoggerFactory: lazyChildLoggers,
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
      plugins: [integerLikeKeyword],
    },
    // One line per request is written by the onResponse hook (request-hooks.ts), with the caller and the route.
    logController: new LogController({ disableRequestLogging: true }),
    // While closing, requests that still arrive on open connections answer 503 SHUTTING_DOWN (request-hooks.ts).
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorBody);
  if (off.has('serialize')) app.setSerializerCompiler(firstAnswerSerializer);
  registerErrorHandlers(app);
  const metrics = deps.metrics;
  registerRequestHooks(app, { metrics, ablations: off });
  registerAuthentication(app, {
    identities: deps.identities,
    windowMs: deps.signatureWindowMs,
    ...(off.has('signature') ? { checkSignatures: false } : {}),
    rateLimiter: new RateLimiter(deps.rateLimit ?? DEFAULT_RATE_LIMIT),
    onThrottled: (account) => metrics.observeThrottled(account),
    now: deps.now,
    ...(deps.signatureDebug !== undefined ? { signatureDebug: deps.signatureDebug } : {}),
  });
  if (deps.emulator) registerFaults(app, deps.emulator.service.faults);

  if (deps.database)
    registerIdempotency(app, {
      database: deps.database,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.claimDeadline ? { claimDeadline: deps.claimDeadline } : {}),
    });
  // Before the route plugins: @fastify/swagger collects the routes as they are added.
  await registerOpenApi(app);
  await app.register(opsRoutes, {
    metrics,
    database: deps.database,
    metricsToken: deps.metricsToken,
    ...(deps.notReady ? { notReady: deps.notReady } : {}),
  });
  await app.register(dwsRoutes, { clusters: deps.clusters });
  await app.register(kmsRoutes, { keys: deps.keys, region: deps.region });
  await app.register(iamRoutes, { iam: deps.iam, audit: deps.audit, identities: deps.identities });
  if (deps.emulator?.api) await app.register(emulatorRoutes, { emulator: deps.emulator.service });
  // The browser console: static files only, its API calls are authenticated like any other client's.
  await app.register(consolePlugin, { root: resolveConsoleRoot() });
  return app;
}

const NO_ABLATIONS: ReadonlySet<Ablation> = new Set();
const ABLATED_REQUEST_ID = '00000000000000000000000000000000';

/**
 * DWS_BENCH_ABLATE=serialize: each route and status answers the JSON of its first answer again, so the
 * bytes on the wire stay those of a real answer while no serializer runs.
 */
function firstAnswerSerializer(): (data: unknown) => string {
  let first: string | undefined;
  return (data) => {
    first ??= JSON.stringify(data);
    return first;
  };
}
