/**
 * Logging on the request path, kept cheap (see docs/benchmarks.md):
 * - `lazyChildLoggers`: `request.log` without a pino child logger per request. The child (bound to
 *   the request id) is made the first time a request actually logs through it (warnings, errors), so
 *   the usual request that logs nothing but its request line pays nothing.
 * - `requestLineLogger`: the one line per request. Its fields are fixed and never secret (method,
 *   route pattern, status, duration, the caller's access key or user name, the request id), so it is
 *   written by a child without redaction: with the service's redaction paths (several of them
 *   wildcards, applied to every field of every line) redaction cost more than the rest of the line.
 *   Everything else keeps the redaction of the service's logger.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyChildLoggerFactory } from 'fastify/types/logger.js';
import type { Bindings, ChildLoggerOptions } from 'pino';

type LogMethod = (...args: unknown[]) => void;

class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    if (this.#child === undefined) this.#child = this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.options.level ?? this.parent.level;
  }
  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: unknown[]): void {
    (this.logger.fatal as LogMethod)(...args);
  }
  error(...args: unknown[]): void {
    (this.logger.error as LogMethod)(...args);
  }
  warn(...args: unknown[]): void {
    (this.logger.warn as LogMethod)(...args);
  }
  info(...args: unknown[]): void {
    (this.logger.info as LogMethod)(...args);
  }
  debug(...args: unknown[]): void {
    (this.logger.debug as LogMethod)(...args);
  }
  trace(...args: unknown[]): void {
    (this.logger.trace as LogMethod)(...args);
  }
  silent(...args: unknown[]): void {
    (this.logger.silent as LogMethod)(...args);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: request loggers made on first use. */
export const lazyChildLoggers: FastifyChildLoggerFactory = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;

/** The logger of the per-request line: the app's logger without redaction (fixed, non-secret fields). */
export function requestLineLogger(appLogger: FastifyBaseLogger): FastifyBaseLogger {
  return appLogger.child({}, { redact: [] });
}

// Request ids: 32 hex characters, a random per-process prefix and a counter. Unique across instances
// and restarts (64 random bits) without drawing random bytes on every request; they name requests in
// logs and audit records and are not secrets.
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;

export function nextRequestId(): string {
  idCounter = idCounter >= Number.MAX_SAFE_INTEGER ? 0 : idCounter + 1;
  return ID_PREFIX + idCounter.toString(16).padStart(16, '0');
}

const CALLER_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's own X-Request-Id when it is short and plain (kept for correlation, never trusted). */
export function callerRequestId(request: { headers: Record<string, unknown> }): string | undefined {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : undefined;
}

/** The server's id and the caller's, for services that audit a request without an actor (token issue). */
export function requestIds(request: { id: string; headers: Record<string, unknown> }): {
  requestId: string;
  callerRequestId?: string;
} {
  const callerId = callerRequestId(request);
  return { requestId: request.id, ...(callerId ? { callerRequestId: callerId } : {}) };
}
