/**
 * The one place where refusals become the contract's error format `{"error_code", "error_msg"}`:
 * ServiceErrors from the domain, Fastify's own errors (validation, body limits, content types), and
 * unknown routes. 5xx answers never show internals; they are logged with the request. A generic code
 * takes the surface its route declares (`declareSurface`); an answer without a route is a DWS one.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorDef, Errors, renderCode, ServiceError, type Surface } from '../domain/errors.js';
import { isStoreBusy, isStoreUnavailable } from '../store/unavailable.js';
import type { ErrorBody } from './common-schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Whose codes this route's generic errors carry (set for a whole plugin by `declareSurface`). */
    surface?: Surface;
  }
}

/**
 * Declares the surface of a route plugin's routes (a route may still name its own in its config), and
 * answers 404 ROUTE_NOT_FOUND on that surface for unknown paths matching `unknownPaths` (before
 * authentication, as for any unknown path).
 */
export function declareSurface(
  app: FastifyInstance,
  surface: Surface,
  unknownPaths: readonly string[] = [],
): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: route.config?.surface ?? surface };
  });
  for (const path of unknownPaths) {
    app.all(
      path,
      {
        config: { public: true },
        schema: { hide: true },
        onRequest: (request, _reply, done) => done(routeNotFound(request)),
      },
      async (request) => {
        throw routeNotFound(request);
      },
    );
  }
}

function routeNotFound(request: FastifyRequest): ServiceError {
  // The path is echoed for the caller's benefit, but never more than a line of it.
  const path = request.url.split('?')[0] ?? '';
  const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path;
  return new ServiceError(Errors.ROUTE_NOT_FOUND, `No such API: ${request.method} ${shown}.`);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code of a refusal, for the request line of the log. */
    errorCode?: string;
  }
}

export function sendError(
  reply: FastifyReply,
  def: ErrorDef,
  message: string,
  /** More fields of the body (the signature debugging of a 401); never secrets. */
  extra?: Readonly<Record<string, string>>,
): FastifyReply {
  const surface = reply.request.routeOptions?.config?.surface ?? 'DWS';
  const body: ErrorBody = { error_code: renderCode(def, surface), error_msg: message, ...extra };
  reply.request.errorCode = body.error_code;
  // Also here, not only in the onRequest hook: errors raised before the hooks run carry it too.
  if (def === Errors.STORE_BUSY) reply.header('Retry-After', '1');
  return reply
    .header('X-Request-Id', reply.request.id)
    .code(def.status)
    .type('application/json; charset=utf-8')
    .send(body);
}

/**
 * The values an enumeration accepts, gathered from ajv's errors at `instancePath`: a union of literals
 * fails with one `const` error per literal, an `enum` with its list. Empty when the field is no enumeration.
 */
function allowedValues(errors: NonNullable<FastifyError['validation']>, instancePath: string): string[] {
  const values: string[] = [];
  for (const e of errors) {
    if (e.instancePath !== instancePath) continue;
    const params = e.params as { allowedValue?: unknown; allowedValues?: unknown[] };
    if (e.keyword === 'const') values.push(String(params.allowedValue));
    else if (e.keyword === 'enum' && Array.isArray(params.allowedValues))
      for (const v of params.allowedValues) values.push(String(v));
  }
  return values;
}

/** Maps an ajv validation error to the most specific catalogue entry. */
function validationError(error: FastifyError): ServiceError {
  const first = error.validation?.[0];
  const where = error.validationContext ?? 'body';
  const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  if (where === 'params' && path === 'project_id') return new ServiceError(Errors.INVALID_PROJECT_ID);
  if (where === 'params' && path !== '')
    return new ServiceError(Errors.INVALID_RESOURCE_ID, `${path} must be a UUID.`);
  const field = [path, missing ?? extra].filter(Boolean).join('.');
  const allowed = allowedValues(error.validation ?? [], first?.instancePath ?? '');
  let reason: string;
  if (missing) reason = `${where} is missing the required field ${field}.`;
  else if (extra) reason = `${where} has an unknown field ${field}.`;
  else if (allowed.length > 0)
    reason = `${where}${field ? ` field ${field}` : ''} must be one of: ${allowed.join(', ')}.`;
  else reason = `${where}${field ? ` field ${field}` : ''} ${first?.message ?? 'is invalid'}.`;
  return new ServiceError(Errors.INVALID_PARAMETER, reason);
}

function toServiceError(error: FastifyError): ServiceError | null {
  if (error instanceof ServiceError) return error;
  if (error.validation) return validationError(error);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServiceError(Errors.BODY_TOO_LARGE);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ServiceError(Errors.UNSUPPORTED_MEDIA_TYPE);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ServiceError(Errors.MALFORMED_JSON);
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new ServiceError(Errors.INVALID_PARAMETER, 'The request URL is malformed.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ServiceError(Errors.INVALID_PARAMETER, 'A path parameter is longer than 100 characters.');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new ServiceError(Errors.INVALID_PARAMETER, error.message);
  }
  return null;
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // The client has gone (its statement was cancelled, its work rolled back): nobody reads this answer.
    if (reply.raw.destroyed)
      return sendError(reply, Errors.CLIENT_CLOSED_REQUEST, Errors.CLIENT_CLOSED_REQUEST.message);
    const known = toServiceError(error);
    if (known) {
      if (known.def.status >= 500) request.log.error({ err: error }, 'request failed');
      if (known.retryAfterSeconds !== undefined) reply.header('Retry-After', String(known.retryAfterSeconds));
      return sendError(reply, known.def, known.message, known.extra);
    }
    if (isStoreUnavailable(error)) {
      request.log.error({ err: error }, 'store unavailable');
      return sendError(reply, Errors.STORE_UNAVAILABLE, Errors.STORE_UNAVAILABLE.message);
    }
    if (isStoreBusy(error)) {
      request.log.warn({ err: error }, 'store busy');
      return sendError(reply, Errors.STORE_BUSY, Errors.STORE_BUSY.message);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(reply, Errors.INTERNAL, Errors.INTERNAL.message);
  });
  app.setNotFoundHandler((request, reply) => {
    const known = routeNotFound(request);
    return sendError(reply, known.def, known.message);
  });
}

/**
 * Fastify's `frameworkErrors`: requests refused by the router before any hook runs (a URL that is not
 * valid percent-encoding, a path parameter over the length limit) answer in the error format too.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known =
    toServiceError(error) ?? new ServiceError(Errors.INVALID_PARAMETER, 'The request URL is malformed.');
  sendError(reply, known.def, known.message);
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request — headers over
 * `maxHeaderSize` (400 HEADERS_TOO_LARGE), a request not received within `requestTimeout` (408
 * REQUEST_TIMEOUT), bytes that are not HTTP (400) — answered in the error format, then the connection is
 * closed. The answer carries a fresh X-Request-Id (there is no request to take one from).
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const def =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? Errors.HEADERS_TOO_LARGE
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? Errors.REQUEST_TIMEOUT
        : Errors.MALFORMED_REQUEST;
  if (socket.writable) {
    const body = JSON.stringify({ error_code: renderCode(def, 'DWS'), error_msg: def.message });
    socket.write(
      `HTTP/1.1 ${def.status} ${STATUS_CODES[def.status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${randomUUID().replace(/-/g, '')}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}
