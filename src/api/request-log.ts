/**
 * Logging on the request path, kept cheap (see docs/benchmarks.md):
 * - `lazyChildLoggers`: `request.log` without a pino child logger per request. The child (bound to
 *   the request id) is made the first time a request actually logs through it (warnings, errors), so
 *   the usual request that logs nothing but its request line pays nothing.
 * - `RequestLine`: the one line per request. Its fields are fixed and never secret (the request id,
 *   method, route pattern, status, duration, the caller's access key or user name, the caller's own
 *   X-Request-Id when it is plain), so it needs no
 *   redaction (the service's redaction paths, several of them wildcards, cost more than the rest of
 *   the line). The line is the one pino writes for `info({reqId, method, route, status, ms, caller, callerReqId},
 *   'request')`, built as one string from pino's own level, time and bindings prefixes and handed to
 *   the logger's destination: no object per request, no walk over its keys. Everything else keeps
 *   the redaction of the service's logger.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyChildLoggerFactory } from 'fastify/types/logger.js';
import pino, { type Bindings, type ChildLoggerOptions } from 'pino';

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

const INFO = 30;
const DEBUG = 20;
const {
  lsCacheSym,
  timeSym,
  chindingsSym,
  streamSym,
  endSym,
  mixinSym,
  formattersSym,
  hooksSym,
  nestedKeySym,
  messageKeySym,
} = pino.symbols;

/** A pino logger seen through `pino.symbols` (checked at start-up before the line is built from it). */
// biome-ignore lint/suspicious/noExplicitAny: pino's symbol-keyed internals have no declared types
type PinoInternals = Record<symbol, any> & { levelVal: number };

/** The per-request line (see the top of this file). */
export class RequestLine {
  readonly #logger: FastifyBaseLogger;
  /** Set when the logger is a plain pino logger whose line can be built here (else: logger.info). */
  readonly #pino: PinoInternals | undefined;

  constructor(appLogger: FastifyBaseLogger) {
    this.#logger = appLogger.child({}, { redact: [] });
    const internals = this.#logger as unknown as PinoInternals;
    const plain =
      typeof internals[timeSym] === 'function' &&
      typeof internals[lsCacheSym]?.[INFO] === 'string' &&
      typeof internals[chindingsSym] === 'string' &&
      typeof internals[streamSym]?.write === 'function' &&
      internals[streamSym][pino.symbols.needsMetadataGsym] !== true &&
      !internals[mixinSym] &&
      !internals[formattersSym]?.log &&
      !internals[hooksSym]?.streamWrite &&
      !internals[nestedKeySym] &&
      internals[messageKeySym] === 'msg';
    this.#pino = plain ? internals : undefined;
  }

  /** Whether the line is written at all (LOG_LEVEL at most info). */
  get enabled(): boolean {
    const level = (this.#logger as unknown as { levelVal?: number }).levelVal;
    return level === undefined || level <= INFO;
  }

  /** Whether the line also carries the request body (LOG_LEVEL=debug or trace). */
  get debug(): boolean {
    const level = (this.#logger as unknown as { levelVal?: number }).levelVal;
    return level !== undefined && level <= DEBUG;
  }

  /**
   * Writes the line. `routeJson` is the route pattern as a JSON string (made once per route); `id`,
   * `method` and `callerReqId` need no escaping (ids are the server's hex or checked against
   * [A-Za-z0-9._-] by callerRequestId, methods are tokens). `errorCode`: a refusal's code; `body`: the
   * request body, only at debug level (redacted here).
   */
  write(
    id: string,
    method: string,
    routeJson: string,
    status: number,
    ms: number,
    caller: string | undefined,
    callerReqId: string | undefined,
    errorCode?: string,
    body?: unknown,
  ): void {
    const p = this.#pino;
    const logged = body === undefined ? undefined : redactBody(body);
    if (p === undefined) {
      const route = JSON.parse(routeJson) as string;
      this.#logger.info(
        { reqId: id, method, route, status, ms, caller, callerReqId, error_code: errorCode, body: logged },
        'request',
      );
      return;
    }
    p[streamSym].write(
      `${p[lsCacheSym][INFO]}${p[timeSym]()}${p[chindingsSym]},"reqId":"${id}","method":"${method}","route":${routeJson},"status":${status},"ms":${ms}${
        caller === undefined ? '' : `,"caller":${JSON.stringify(caller)}`
      }${callerReqId === undefined ? '' : `,"callerReqId":"${callerReqId}"`}${
        errorCode === undefined ? '' : `,"error_code":${JSON.stringify(errorCode)}`
      }${logged === undefined ? '' : `,"body":${JSON.stringify(logged)}`},"msg":"request"${p[endSym]}`,
    );
  }
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

/** Fields whose values never reach the log, whatever their depth (passwords, keys, tokens, plaintexts). */
const SECRET_FIELD = /pass|secret|^sk$|token|plain_?text|material|private/i;
/** Past this many characters a logged body is cut. */
const MAX_LOGGED_BODY = 4_096;

/** A request body for the debug log: secret fields replaced, large bodies cut. */
export function redactBody(body: unknown): unknown {
  const redacted = JSON.stringify(body, (key, value) =>
    key !== '' && SECRET_FIELD.test(key) ? '[redacted]' : value,
  );
  if (redacted === undefined) return undefined;
  return redacted.length > MAX_LOGGED_BODY
    ? `${redacted.slice(0, MAX_LOGGED_BODY)}...(${redacted.length} characters)`
    : JSON.parse(redacted);
}
