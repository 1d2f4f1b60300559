/**
 * X-Client-Token idempotency for non-idempotent writes. A route opts in with one line,
 * `config: { idempotent: true }`. A request carrying `X-Client-Token` (1-64 characters of
 * `[A-Za-z0-9_-]`) on such a route:
 * - first time: runs, and its answer (status and body) is kept for 24 hours (5xx answers are not kept:
 *   the request may simply be retried);
 * - again within 24 hours with the same route, parameters and body: gets the first answer again without
 *   acting twice (header `X-Client-Token-Replayed: true`);
 * - again with anything else: 400 CLIENT_TOKEN_REUSED, naming the header;
 * - while the first one still runs: 409 CLIENT_TOKEN_IN_PROGRESS (retry for the answer).
 * Tokens are scoped to the caller's project and stored in the store, so they hold across instances and
 * restarts. Without the header nothing changes.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors, ServiceError } from '../domain/errors.js';
import { outsideRequest } from '../store/call-context.js';
import {
  claimClientToken,
  findClientToken,
  purgeClientTokens,
  recordClientTokenAnswer,
  releaseClientToken,
  retakeClientToken,
} from '../store/client-tokens.js';
import type { Database } from '../store/types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour X-Client-Token on this route (see src/api/idempotency.ts). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The token this request claimed; its answer is recorded on send. */
    clientToken?: { projectId: string; token: string };
  }
}

export const CLIENT_TOKEN_HEADER = 'x-client-token';
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** How long a first answer is replayed. */
export const CLIENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/** A claim whose request has not answered after this long was abandoned (its instance died). */
export const CLIENT_TOKEN_ABANDONED_MS = 2 * 60 * 1000;

export interface IdempotencyOptions {
  database: Database;
  now?: () => number;
  abandonedAfterMs?: number;
  /**
   * PostgreSQL: the latest database time (epoch ms) at which a claim sent now may still be written: the
   * database clock now plus the store-call timeout (see claimClientToken). Read when the claim is sent.
   */
  claimDeadline?: () => number;
}

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.routeOptions.url}\n${JSON.stringify(request.params ?? {})}\n`)
    .update(request.rawBody ?? Buffer.alloc(0))
    .digest('hex');
}

export function registerIdempotency(app: FastifyInstance, options: IdempotencyOptions): void {
  const now = options.now ?? Date.now;
  const db = options.database.db;
  let nextPurge = 0;

  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const given = request.headers[CLIENT_TOKEN_HEADER];
    if (given === undefined) return;
    if (typeof given !== 'string' || !TOKEN.test(given)) throw new ServiceError(Errors.CLIENT_TOKEN_INVALID);
    const projectId = request.actor?.projectId ?? '';
    const hash = requestHash(request);
    const at = now();
    if (at >= nextPurge) {
      nextPurge = at + 60 * 60 * 1000;
      outsideRequest(() => void purgeClientTokens(db, at - CLIENT_TOKEN_TTL_MS).catch(() => {}));
    }
    if (await claimClientToken(db, projectId, given, hash, at, options.claimDeadline)) {
      request.clientToken = { projectId, token: given };
      return;
    }
    const seen = await findClientToken(db, projectId, given);
    const expired = !seen || seen.created_at < at - CLIENT_TOKEN_TTL_MS;
    if (!expired && seen.request_hash !== hash) throw new ServiceError(Errors.CLIENT_TOKEN_REUSED);
    if (!expired && seen.status !== null && seen.response !== null) {
      return reply
        .code(seen.status)
        .header('X-Client-Token-Replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(seen.response);
    }
    const abandoned =
      seen &&
      seen.status === null &&
      seen.created_at < at - (options.abandonedAfterMs ?? CLIENT_TOKEN_ABANDONED_MS);
    if (
      seen &&
      (expired || abandoned) &&
      (await retakeClientToken(db, projectId, given, seen, hash, at, options.claimDeadline))
    ) {
      request.clientToken = { projectId, token: given };
      return;
    }
    if (!seen && (await claimClientToken(db, projectId, given, hash, at, options.claimDeadline))) {
      request.clientToken = { projectId, token: given };
      return;
    }
    throw new ServiceError(Errors.CLIENT_TOKEN_IN_PROGRESS);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = request.clientToken;
    if (!claim) return payload;
    request.clientToken = undefined;
    const status = reply.statusCode;
    // Recorded outside the request's context: a client that has gone must not stop the bookkeeping.
    await outsideRequest(async () => {
      try {
        // 5xx and 499 (the client went away, nothing committed): not an answer; a retry may act.
        if (status >= 500 || status === 499 || typeof payload !== 'string') {
          await releaseClientToken(db, claim.projectId, claim.token);
        } else {
          await recordClientTokenAnswer(db, claim.projectId, claim.token, status, payload);
        }
      } catch (error) {
        request.log.warn({ err: error }, 'X-Client-Token answer not recorded');
      }
    });
    return payload;
  };

  // Route-level hooks, only on the routes that opt in: every other request pays nothing.
  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    route.preHandler = [...asArray(route.preHandler), preHandler as never];
    route.onSend = [...asArray(route.onSend), onSend as never];
  });
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
