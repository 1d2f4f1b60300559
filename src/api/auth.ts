/**
 * Authentication and authorization for every API route that names an action in its config:
 * 1. a token (`X-Auth-Token`) or an SDK-HMAC-SHA256 signature over the raw request bytes (401),
 * 2. the path's project must belong to the caller (403; a token only for its own project),
 * 3. the caller's policy must allow the route's action (403 naming the action),
 * 4. only then is the JSON body parsed (depth-capped), so strangers never make the service parse.
 * Routes opt out only by declaring `config: { public: true }` (health, console assets, token issue).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { verifySignature } from '../crypto/signing.js';
import { parseAuthorizationHeader } from '../crypto/signing-canonical.js';
import { Errors, ServiceError } from '../domain/errors.js';
import { isAllowed, isKnownAction } from '../domain/permissions.js';
import type { RateLimiter } from '../domain/rate-limit.js';
import type { Actor } from '../services/actor.js';
import type { IdentityProvider, Principal } from '../services/identity.js';
import { requestIds } from './request-log.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission name this route checks (`dws:cluster:getEncryptInfo`, ...). */
    action?: string;
    /** No authentication at all. */
    public?: boolean;
    /** An action on no project (the emulator control API): the policy is checked, there is no project path. */
    global?: boolean;
  }
  interface FastifyRequest {
    actor?: Actor;
    /** The exact request body bytes, kept for signature verification. */
    rawBody?: Buffer;
  }
}

const PROJECT_ID = /^[0-9a-f]{32}$/;

const SIGNATURE_FAILURES = {
  missing: Errors.AUTH_MISSING,
  malformed: Errors.AUTH_MALFORMED,
  bad_date: Errors.AUTH_DATE,
  expired: Errors.AUTH_DATE,
  bad_signature: Errors.AUTH_SIGNATURE,
  unknown_access_key: Errors.AUTH_SIGNATURE,
  content_hash_mismatch: Errors.AUTH_CONTENT_HASH,
} as const;

export interface AuthOptions {
  identities: IdentityProvider;
  windowMs: number;
  now?: () => number;
  /**
   * Benchmark only (DWS_BENCH_ABLATE=signature, refused in production and off loopback): the access
   * key of the Authorization header is trusted without checking the signature. Default true.
   */
  checkSignatures?: boolean;
  /** A signature mismatch answers the canonical request and string to sign computed (default true). */
  signatureDebug?: boolean;
  /** Per-caller request rate limit (429 APIGW.0308 beyond it); absent or perSecond 0: none. */
  rateLimiter?: RateLimiter;
  /** Told the account (domain id) of every throttled request, for the per-account metrics. */
  onThrottled?: (account: string) => void;
}

/** The 401 messages of a wrong signature and of an unknown access key: same status and code, as the real gateway. */
export const SIGNATURE_MISMATCH_MESSAGE = 'The request signature does not match the one the server computed.';
const SIGNATURE_DEBUG_HINT = ' Compare canonical_request and string_to_sign with those of your signer.';
export const UNKNOWN_ACCESS_KEY_MESSAGE = 'The access key does not exist.';

/** Registers the raw-body JSON parser and the authentication hook on `app` (call before routes). */
export function registerAuthentication(app: FastifyInstance, options: AuthOptions): void {
  const now = options.now ?? Date.now;
  const limiter = options.rateLimiter?.enabled ? options.rateLimiter : undefined;

  // Only JSON bodies are accepted, and they are only read here, not parsed: the signature (or the token)
  // is checked on these exact bytes first, so a stranger's body costs a hash, never a parse (parseBody
  // below runs after authentication). Any other Content-Type (text/plain, forms, ...) has no parser and is
  // refused with 400 *.0004 before authentication, since such a body would not be covered by the signature.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, undefined);
  });

  // Every checked action must be in the catalogue: a route naming an unknown action is a bug, caught at start.
  app.addHook('onRoute', (route) => {
    const config = route.config as { action?: string; public?: boolean } | undefined;
    const action = config?.action;
    // Default deny: a project-scoped route must either check an action or say out loud that it is public.
    if (route.url.includes(':project_id') && action === undefined && !config?.public) {
      throw new Error(`route ${route.method} ${route.url} is project-scoped but declares no action`);
    }
    if (action !== undefined && !isKnownAction(action)) {
      throw new Error(
        `route ${route.method} ${route.url} checks ${action}, which is not in ACTIONS (src/domain/permissions.ts)`,
      );
    }
  });

  // Callback-style, not async: a signed request (the usual case) is authenticated synchronously, with no
  // promise and no extra turn of the event loop; only a token (a store lookup) waits.
  app.addHook('preValidation', (request, _reply, done) => {
    const config = request.routeOptions.config;
    if (config.public || !config.action) {
      // Public routes with a body (token issue): the body is all there is to authenticate with.
      parseBody(request);
      done();
      return;
    }
    const at = now();
    const found = authenticate(request, options, at);
    if (found instanceof Promise) {
      found.then((caller) => {
        let error: unknown;
        try {
          authorize(request, config, caller, at);
        } catch (refused) {
          error = refused;
        }
        done(error as Error | undefined);
      }, done);
      return;
    }
    // A refusal thrown here is answered by Fastify's hook runner like a rejected hook.
    authorize(request, config, found, at);
    done();
  });

  /** Rate limit, project and policy checks of an authenticated caller; sets request.actor, parses the body. */
  function authorize(
    request: FastifyRequest,
    config: FastifyRequest['routeOptions']['config'],
    { principal, tokenProjectId, accessKey }: Authenticated,
    at: number,
  ): void {
    if (limiter) {
      const waitMs = limiter.take(accessKey ?? `user:${principal.domainId}:${principal.userName}`, at);
      if (waitMs > 0) {
        options.onThrottled?.(principal.domainId);
        throw new ServiceError(Errors.THROTTLED, undefined, { retryAfterSeconds: Math.ceil(waitMs / 1000) });
      }
    }
    let projectId = (request.params as { project_id?: string } | undefined)?.project_id;
    if (projectId === undefined) {
      if (!config.global)
        throw new Error(`route ${request.routeOptions.url} has an action but no project_id`);
      // Acting on no project: the caller's own (a token's, or the first the caller may use).
      projectId = tokenProjectId ?? principal.projectIds.values().next().value ?? '';
    } else {
      if (!PROJECT_ID.test(projectId)) throw new ServiceError(Errors.INVALID_PROJECT_ID);
      const owns =
        tokenProjectId !== undefined ? tokenProjectId === projectId : principal.projectIds.has(projectId);
      if (!owns)
        throw new ServiceError(Errors.PROJECT_FORBIDDEN, `The caller has no access to project ${projectId}.`);
    }
    if (!isAllowed(principal.policy, config.action!)) {
      throw new ServiceError(Errors.ACTION_FORBIDDEN, `The caller lacks the permission ${config.action}.`);
    }
    request.actor = {
      domainId: principal.domainId,
      projectId,
      userName: principal.userName,
      ...requestIds(request),
      ...(accessKey ? { accessKey } : {}),
    };
    parseBody(request);
  }
}

/** Deeper than any body of the API (they nest 4 levels at most); refused before JSON.parse walks it. */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses the raw JSON body into `request.body` (schema validation runs next). Empty bytes are no body:
 * official clients send Content-Type on body-less POSTs such as rotate-key.
 */
function parseBody(request: FastifyRequest): void {
  const raw = request.rawBody;
  if (raw === undefined || raw.length === 0) return;
  if (nestingExceeds(raw, MAX_JSON_DEPTH)) {
    throw new ServiceError(
      Errors.INVALID_PARAMETER,
      `The request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  }
  const text = raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceError(Errors.MALFORMED_JSON);
  }
  // PostgreSQL text cannot hold NUL (a 500 there): refused for every store alike. JSON carries it
  // only as the escape \u0000, so the walk runs only when the text has one.
  if (/\\u0000/i.test(text) && hasNul(value)) throw new ServiceError(Errors.INVALID_PARAMETER, NUL_MESSAGE);
  request.body = value;
}

/**
 * Whether the JSON text opens more than `max` nested objects/arrays; one pass over the bytes, brackets
 * inside strings skipped (multi-byte UTF-8 bytes are all >= 0x80, so they never look like syntax).
 */
export function nestingExceeds(raw: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

const NUL_MESSAGE = 'Strings of the request body must not contain NUL characters (\\u0000).';

/** Whether any string (value or key) of a parsed JSON value contains NUL; iterative, for any depth. */
function hasNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (item.includes('\0')) return true;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** Who made a request: its principal, and the token's project or the access key it was signed with. */
interface Authenticated {
  principal: Principal;
  tokenProjectId?: string;
  accessKey?: string;
}

/** A signed request is authenticated synchronously; a token needs a store lookup (a promise). */
function authenticate(
  request: FastifyRequest,
  options: AuthOptions,
  now: number,
): Authenticated | Promise<Authenticated> {
  const token = request.headers['x-auth-token'];
  if (token !== undefined && token !== '') {
    // A repeated header arrives as an array: refused like any malformed token.
    if (typeof token !== 'string') return Promise.reject(new ServiceError(Errors.AUTH_TOKEN));
    return authenticateToken(token, options);
  }
  if (options.checkSignatures === false) return unverifiedAccessKey(request, options);
  const url = request.raw.url ?? '/';
  const queryAt = url.indexOf('?');
  const result = verifySignature({
    method: request.method,
    rawPath: queryAt < 0 ? url : url.slice(0, queryAt),
    rawQuery: queryAt < 0 ? '' : url.slice(queryAt + 1),
    headers: request.headers as Record<string, string>,
    body: request.rawBody ?? EMPTY,
    now,
    windowMs: options.windowMs,
    lookupSecret: (ak) => options.identities.findAccessKey(ak)?.secret,
  });
  if (!result.ok) {
    if (
      result.reason === 'content_hash_mismatch' &&
      request.headers['x-sdk-content-sha256'] === 'UNSIGNED-PAYLOAD'
    ) {
      throw new ServiceError(
        Errors.AUTH_CONTENT_HASH,
        'X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD is refused for a request with a body; sign the body (JSON).',
      );
    }
    if (result.reason === 'unknown_access_key') {
      throw new ServiceError(Errors.AUTH_SIGNATURE, UNKNOWN_ACCESS_KEY_MESSAGE);
    }
    if (result.reason === 'bad_signature') {
      const debug = options.signatureDebug !== false ? result.debug : undefined;
      throw new ServiceError(
        Errors.AUTH_SIGNATURE,
        debug ? SIGNATURE_MISMATCH_MESSAGE + SIGNATURE_DEBUG_HINT : SIGNATURE_MISMATCH_MESSAGE,
        debug && { extra: { canonical_request: debug.canonicalRequest, string_to_sign: debug.stringToSign } },
      );
    }
    throw new ServiceError(SIGNATURE_FAILURES[result.reason]);
  }
  const identity = options.identities.findAccessKey(result.ak);
  if (!identity) throw new ServiceError(Errors.AUTH_SIGNATURE);
  return { principal: identity.principal, accessKey: result.ak };
}

async function authenticateToken(token: string, options: AuthOptions): Promise<Authenticated> {
  const found = await options.identities.findToken(token);
  if (!found) throw new ServiceError(Errors.AUTH_TOKEN);
  return { principal: found.principal, tokenProjectId: found.projectId };
}

const EMPTY = Buffer.alloc(0);

/** DWS_BENCH_ABLATE=signature: the caller named by the Authorization header, signature unchecked. */
function unverifiedAccessKey(
  request: FastifyRequest,
  options: AuthOptions,
): { principal: Principal; accessKey: string } {
  const header = request.headers.authorization;
  const auth = typeof header === 'string' ? parseAuthorizationHeader(header) : null;
  const identity = auth ? options.identities.findAccessKey(auth.access) : undefined;
  if (!auth || !identity) throw new ServiceError(Errors.AUTH_SIGNATURE);
  return { principal: identity.principal, accessKey: auth.access };
}

/** The actor of an authenticated request (routes with an action always have one). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new Error('route used without authentication');
  return request.actor;
}
