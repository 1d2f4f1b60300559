/**
 * The hooks every request passes through besides authentication: one of each kind, callback-style (no
 * promise per hook), and with everything that depends only on the route worked out once, when the
 * route is added (see docs/benchmarks.md):
 * - the route's handler runs with its request's client in reach of the store
 *   (src/store/call-context.ts): a client that disconnects stops the store waiting for it and rolls its
 *   uncommitted work back. Per request that is one small object and one listener, shared by all
 *   requests, on the response's 'close'.
 * - onRequest: the arrival time; the X-Request-Id answer header; 503 SHUTTING_DOWN once the app is closing.
 * - no onSend hook: answers sent while closing carry `Connection: close` (a kept-alive connection would
 *   hold the shutdown until its force-close deadline), without a hook on every answer. Fastify itself
 *   sets it on requests that arrive once closing has begun; the answers already under way are found
 *   through the server's open connections when closing begins (preClose).
 * - onResponse: the metrics and the request line, through the route's ObservedRoute: its request
 *   metrics bound in advance (no label set hashed per request) and its pattern already JSON-encoded.
 * - onRequestAbort: the request line of a request whose client went away before the answer (status
 *   499, as the catalogue's CLIENT_CLOSED_REQUEST): work done for it still leaves a trace in the log.
 * - onError: store failures counted, and quota refusals by account.
 * The benchmark's ablation switches (DWS_BENCH_ABLATE) `metrics`, `request-log` and `client-signal`
 * leave their part out.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Ablation } from '../config.js';
import { type ErrorDef, Errors, ServiceError } from '../domain/errors.js';
import { RequestClient, runForClient } from '../store/call-context.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import type { Metrics, RouteRequests } from './ops/metrics.js';
import { callerRequestId, RequestLine } from './request-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived (for the request line of an aborted request). */
    startedAt?: number;
  }
  interface FastifyContextConfig {
    /** Bound when the route is added (registerRequestHooks): what its answers feed. */
    observed?: ObservedRoute;
  }
}

/** The client of a request that reached its route's handler, as the store sees it (call-context.ts). */
class RouteClient extends RequestClient {
  constructor(readonly request: FastifyRequest) {
    super();
  }
}

/** Where a response keeps its request's client, for the shared 'close' listener. */
const CLIENT: unique symbol = Symbol('dws.requestClient');

/** What the answers of one route feed, bound once when the route is added. */
class ObservedRoute {
  /** The pattern as the request line shows it, JSON-encoded once. */
  readonly routeJson: string;

  constructor(
    /** The metric series of the route's method and pattern (undefined: the method varies per request). */
    readonly requests: RouteRequests | undefined,
    /** Pattern label of the metrics. */
    readonly route: string,
    routeInLog: string,
    /** The KMS operation counted for the route (its action, when a `kms:` one). */
    readonly keyOperation: string | undefined,
  ) {
    this.routeJson = JSON.stringify(routeInLog);
  }
}

/** The quota behind each quota refusal, for the per-account metrics. */
const QUOTA_OF = new Map<ErrorDef, 'keys' | 'nodes' | 'active_jobs'>([
  [Errors.KEY_QUOTA_EXCEEDED, 'keys'],
  [Errors.NODE_QUOTA_EXCEEDED, 'nodes'],
  [Errors.JOB_QUOTA_EXCEEDED, 'active_jobs'],
]);

/** Requests that matched no route (404s, URLs refused by the router). */
const UNMATCHED = new ObservedRoute(undefined, 'unmatched', 'unknown', undefined);

export interface RequestHooksOptions {
  metrics: Metrics;
  ablations: ReadonlySet<Ablation>;
}

export function registerRequestHooks(app: FastifyInstance, options: RequestHooksOptions): void {
  const { metrics, ablations } = options;
  const meter = !ablations.has('metrics');
  const line = ablations.has('request-log') ? undefined : new RequestLine(app.log);
  const withClientSignal = !ablations.has('client-signal');
  let closing = false;
  const writeAbortedLine = (request: FastifyRequest) => {
    if (!line?.enabled) return;
    const observed = request.routeOptions.config.observed ?? UNMATCHED;
    const actor = request.actor;
    line.write(
      request.id,
      request.method,
      observed.routeJson,
      Errors.CLIENT_CLOSED_REQUEST.status,
      Math.round((performance.now() - (request.startedAt ?? 0)) * 100) / 100,
      actor === undefined ? undefined : (actor.accessKey ?? actor.userName),
      callerRequestId(request),
      request.errorCode,
      line.debug ? request.body : undefined,
    );
  };

  // The response's 'close' before its 'finish' is the client disconnecting (Fastify's request.signal
  // is not: on Node 20 it fires once the request body has been read). One function for every response
  // (`this` is the response), no closure per request.
  function onResponseClose(this: ServerResponse & { [CLIENT]?: RouteClient }) {
    const client = this[CLIENT];
    if (this.writableFinished || client === undefined) return;
    client.markGone();
    // Never answered: onResponse will not run, and onRequestAbort only covers requests whose body
    // was still arriving. This request reached its handler, so it gets its line here.
    writeAbortedLine(client.request);
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    if (withClientSignal) {
      const handler = route.handler;
      route.handler = function (this: unknown, request, reply) {
        const client = new RouteClient(request);
        const raw = reply.raw as ServerResponse & { [CLIENT]?: RouteClient };
        raw[CLIENT] = client;
        raw.on('close', onResponseClose);
        return runForClient(client, () => handler.call(this as never, request, reply));
      };
    }
    const action = route.config?.action;
    const requests = typeof route.method === 'string' ? metrics.route(route.method, route.url) : undefined;
    // A fresh config object: Fastify's automatic HEAD route shares the GET route's.
    route.config = {
      ...route.config,
      observed: new ObservedRoute(
        requests,
        route.url,
        route.url,
        action?.startsWith('kms:') ? action : undefined,
      ),
    };
  });
  // The server's open connections (a few per client, not one per request), for preClose.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  app.addHook('preClose', (done) => {
    closing = true;
    // An answer whose head is not written yet closes its connection after it (`Connection: close`).
    // Node's own field: the response a connection is busy with.
    for (const socket of connections) {
      const answer = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
      if (answer !== undefined && answer !== null && !answer.headersSent) answer.shouldKeepAlive = false;
    }
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    reply.header('X-Request-Id', request.id);
    done(closing ? new ServiceError(Errors.SHUTTING_DOWN) : undefined);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const observed = request.routeOptions.config.observed ?? UNMATCHED;
    const status = reply.statusCode;
    const elapsedMs = reply.elapsedTime;
    const actor = request.actor;
    if (meter) {
      if (observed.requests !== undefined) observed.requests.observe(status, elapsedMs / 1000);
      else metrics.observeRequest(request.method, observed.route, status, elapsedMs / 1000);
      if (observed.keyOperation !== undefined && actor !== undefined) {
        metrics.observeKeyOperation(observed.keyOperation, status < 400);
      }
    }
    if (line?.enabled) {
      line.write(
        request.id,
        request.method,
        observed.routeJson,
        status,
        Math.round(elapsedMs * 100) / 100,
        actor === undefined ? undefined : (actor.accessKey ?? actor.userName),
        callerRequestId(request),
        request.errorCode,
        line.debug ? request.body : undefined,
      );
    }
    done();
  });
  if (line) {
    app.addHook('onRequestAbort', (request, done) => {
      writeAbortedLine(request);
      done();
    });
  }
  if (meter) {
    app.addHook('onError', (request, _reply, error, done) => {
      const quota = error instanceof ServiceError ? QUOTA_OF.get(error.def) : undefined;
      if (quota && request.actor) metrics.observeQuotaRefusal(request.actor.domainId, quota);
      const storeDown =
        (error instanceof ServiceError && error.def === Errors.STORE_UNAVAILABLE) ||
        isStoreUnavailable(error);
      if (storeDown) metrics.storeError('request');
      done();
    });
  }
}
