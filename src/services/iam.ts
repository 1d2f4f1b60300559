/**
 * Identity and access: the directory of accounts, projects and users declared in the identities file
 * (DWS_IAM_FILE), the identity provider the authentication hook asks (access keys and tokens), token
 * issue (Keystone v3 password method, project scope) and the audit trail reader.
 *
 * Secrets: the only secrets kept are the access keys' SKs (the Map the signature verifier reads) and
 * one verifier per password (the parsed scrypt hash, or an HMAC under a per-process key for a plain
 * password). The file's text and the parsed declaration are dropped after start-up. Tokens exist in
 * memory only while a request carries them; the store and the cache hold their SHA-256.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  DEFAULT_SCRYPT_PARAMS,
  type PasswordHash,
  parsePasswordHash,
  verifyPassword,
} from '../crypto/password.js';
import { Errors, renderCode, ServiceError } from '../domain/errors.js';
import type { IdentitiesSpec } from '../domain/identities.js';
import { type LockoutKey, type LockoutPolicy, LoginLockout } from '../domain/login-lockout.js';
import { formatIsoTime } from '../domain/time.js';
import { insertAuditEvent, listAuditEvents } from '../store/audit.js';
import type { Database, Db } from '../store/database.js';
import type { AuditEventRow } from '../store/schema.js';
import { deleteExpiredTokens, findTokenByHash, insertToken } from '../store/tokens.js';
import type { Actor } from './actor.js';
import type { AccessKeyIdentity, IdentityProvider, Principal, TokenIdentity } from './identity.js';

// ---------------------------------------------------------------------------------------------------
// Directory

type PasswordVerifier = { kind: 'scrypt'; hash: PasswordHash } | { kind: 'hmac'; digest: Buffer };

export interface ProjectEntry {
  id: string;
  name: string;
}

export interface AccountEntry {
  domainId: string;
  name: string;
  projectIds: ReadonlySet<string>;
  projectsById: ReadonlyMap<string, ProjectEntry>;
  projectsByName: ReadonlyMap<string, ProjectEntry>;
}

export interface UserEntry {
  id: string;
  name: string;
  account: AccountEntry;
  principal: Principal;
  password?: PasswordVerifier;
}

// Plain passwords from the file are kept only as HMAC-SHA256 under this per-process key.
const PASSWORD_PEPPER = randomBytes(32);

function pepper(password: string): Buffer {
  return createHmac('sha256', PASSWORD_PEPPER).update(password.normalize('NFC')).digest();
}

// Verified when the user is unknown or has no password, so that every attempt costs one scrypt.
const DUMMY_HASH: PasswordHash = { ...DEFAULT_SCRYPT_PARAMS, salt: randomBytes(16), hash: randomBytes(32) };

/** Accounts, projects, users and access keys, read-only after start-up. */
export class Directory {
  private readonly accountsById = new Map<string, AccountEntry>();
  private readonly accountsByName = new Map<string, AccountEntry>();
  private readonly usersByKey = new Map<string, UserEntry>();
  private readonly usersById = new Map<string, UserEntry>();
  /** The SKs: the one place they are kept. */
  readonly accessKeys = new Map<string, AccessKeyIdentity>();

  /** Builds the directory; the caller should drop `spec` afterwards (it holds the file's secrets). */
  constructor(spec: IdentitiesSpec = { accounts: [] }) {
    for (const account of spec.accounts) {
      const projects = account.projects.map((p) => ({ id: p.id, name: p.name }));
      const entry: AccountEntry = {
        domainId: account.domainId,
        name: account.name,
        projectIds: new Set(projects.map((p) => p.id)),
        projectsById: new Map(projects.map((p) => [p.id, p])),
        projectsByName: new Map(projects.map((p) => [p.name, p])),
      };
      this.accountsById.set(entry.domainId, entry);
      this.accountsByName.set(entry.name, entry);
      for (const user of account.users) {
        const principal: Principal = {
          domainId: entry.domainId,
          domainName: entry.name,
          userName: user.name,
          userId: user.id,
          projectIds: entry.projectIds,
          policy: { allow: [...user.allow], deny: [...user.deny] },
        };
        let password: PasswordVerifier | undefined;
        if (user.passwordHash !== undefined) {
          password = { kind: 'scrypt', hash: parsePasswordHash(user.passwordHash) };
        } else if (user.password !== undefined) {
          password = { kind: 'hmac', digest: pepper(user.password) };
        }
        const userEntry: UserEntry = {
          id: user.id,
          name: user.name,
          account: entry,
          principal,
          ...(password ? { password } : {}),
        };
        this.usersByKey.set(userKey(entry.domainId, user.name), userEntry);
        this.usersById.set(user.id, userEntry);
        for (const credential of user.credentials) {
          this.accessKeys.set(credential.ak, { secret: credential.sk, principal });
        }
      }
    }
  }

  get accountCount(): number {
    return this.accountsById.size;
  }

  get userCount(): number {
    return this.usersById.size;
  }

  accountById(domainId: string): AccountEntry | undefined {
    return this.accountsById.get(domainId);
  }

  accountByName(name: string): AccountEntry | undefined {
    return this.accountsByName.get(name);
  }

  user(domainId: string, name: string): UserEntry | undefined {
    return this.usersByKey.get(userKey(domainId, name));
  }

  userById(id: string): UserEntry | undefined {
    return this.usersById.get(id);
  }

  /** The account (domain id) that declares `projectId`, if any. */
  domainOfProject(projectId: string): string | undefined {
    for (const account of this.accountsById.values())
      if (account.projectIds.has(projectId)) return account.domainId;
    return undefined;
  }
}

function userKey(domainId: string, name: string): string {
  return `${domainId}\0${name}`;
}

/** True when `password` is the user's; every call costs one scrypt whatever the outcome. */
async function checkPassword(verifier: PasswordVerifier | undefined, password: string): Promise<boolean> {
  if (verifier?.kind === 'scrypt') return verifyPassword(password, verifier.hash);
  await verifyPassword(password, DUMMY_HASH);
  if (verifier === undefined) return false;
  return timingSafeEqual(pepper(password), verifier.digest);
}

// ---------------------------------------------------------------------------------------------------
// Tokens

const TOKEN_PREFIX = 'dwst_';
/** `dwst_` and 43 base64url characters (32 random bytes). */
const TOKEN_FORMAT = /^dwst_[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface CachedToken {
  identity: TokenIdentity;
  expiresAt: number;
  cachedUntil: number;
}

/** A small LRU of validated tokens keyed by token hash; entries never outlive the token. */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: string, now: number): TokenIdentity | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    this.entries.delete(hash);
    if (now >= entry.expiresAt || now >= entry.cachedUntil) return undefined;
    this.entries.set(hash, entry); // most recently used last
    return entry.identity;
  }

  /** Forgets every token (the store's tokens were replaced or emptied). */
  clear(): void {
    this.entries.clear();
  }

  set(hash: string, identity: TokenIdentity, expiresAt: number, now: number): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(hash);
    this.entries.set(hash, { identity, expiresAt, cachedUntil: now + this.maxAgeMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

export interface IamOptions {
  /** Token lifetime (default 24 h). */
  tokenTtlMs?: number;
  /** Validated tokens kept in memory (default 10 000) and for how long at most (default 60 s). */
  tokenCacheSize?: number;
  tokenCacheMs?: number;
  /** Password-guessing lockout of token issue (default DEFAULT_LOCKOUT_POLICY). */
  lockout?: LockoutPolicy;
  now?: () => number;
}

/**
 * The IdentityProvider of a running instance: access keys of the directory plus extra ones (the
 * bootstrap credential), and tokens looked up in the cache, then the store (so a token issued by
 * another instance sharing the store is accepted).
 */
export class IamIdentityProvider implements IdentityProvider {
  readonly cache: TokenCache;
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    readonly directory: Directory,
    options: IamOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.cache = new TokenCache(options.tokenCacheSize ?? 10_000, options.tokenCacheMs ?? 60_000);
  }

  /** Adds an access key outside the file (the bootstrap credential); refuses one the file declares. */
  addAccessKey(accessKey: string, identity: AccessKeyIdentity): void {
    if (this.directory.accessKeys.has(accessKey)) {
      throw new Error(`access key ${accessKey} is declared twice (identities file and bootstrap credential)`);
    }
    this.directory.accessKeys.set(accessKey, identity);
  }

  findAccessKey(accessKey: string): AccessKeyIdentity | undefined {
    return this.directory.accessKeys.get(accessKey);
  }

  async findToken(token: string): Promise<TokenIdentity | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const hash = tokenHash(token);
    const now = this.now();
    const cached = this.cache.get(hash, now);
    if (cached) return cached;
    const row = await findTokenByHash(this.database.db, hash);
    if (!row || now >= row.expires_at) return undefined;
    // The user and project must still be declared (the file may have changed since the token was issued).
    const user = this.directory.user(row.domain_id, row.user_name);
    if (!user || user.id !== row.user_id || !user.account.projectIds.has(row.project_id)) return undefined;
    const identity: TokenIdentity = { principal: user.principal, projectId: row.project_id };
    this.cache.set(hash, identity, row.expires_at, now);
    return identity;
  }
}

// ---------------------------------------------------------------------------------------------------
// Token issue and the audit trail

/** The server's id of a request, and the caller's own X-Request-Id (unsigned; correlation only). */
export interface RequestIds {
  requestId?: string;
  callerRequestId?: string;
}

/** The Keystone v3 password-method request, as the route reads it from the body. */
export interface PasswordAuthInput {
  methods: readonly string[];
  user: { id?: string; name?: string; password: string; domainId?: string; domainName?: string };
  scope?: { projectId?: string; projectName?: string };
}

export interface IssuedToken {
  /** The token itself: returned to the caller once, never stored. */
  token: string;
  issuedAt: number;
  expiresAt: number;
  user: { id: string; name: string };
  account: { domainId: string; name: string };
  project: { id: string; name: string };
}

export interface AuditEventView {
  id: string;
  at: number;
  user: string | null;
  domainId: string | null;
  accessKey: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  result: string;
  requestId: string | null;
  callerRequestId: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditPage {
  events: AuditEventView[];
  nextMarker: string | null;
}

export const DEFAULT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_AUDIT_USER_NAME = 64;

export class IamService {
  private readonly now: () => number;
  private readonly tokenTtlMs: number;
  private readonly lockout: LoginLockout;
  /** Password checks run so far (each one scrypt): what a guessing client costs this instance. */
  passwordChecks = 0;

  constructor(
    private readonly database: Database,
    private readonly directory: Directory,
    options: IamOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.tokenTtlMs = options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.lockout = new LoginLockout(options.lockout);
  }

  /**
   * Issues a project-scoped token. Refusals: 400 for a request this service does not support (another
   * method, no project scope), 401 IAM_BAD_CREDENTIALS for any unknown account/user or wrong password
   * (indistinguishable), 401 IAM_PROJECT_NOT_FOUND for a project outside the user's account (only
   * after the password was right). Success and failure are audited, never with the password.
   */
  async issueToken(input: PasswordAuthInput, ids: RequestIds = {}): Promise<IssuedToken> {
    if (!input.methods.includes('password')) {
      throw new ServiceError(Errors.INVALID_PARAMETER, 'Only the password method is supported.');
    }
    const { user: given } = input;
    if (given.id === undefined && (given.name === undefined || (!given.domainId && !given.domainName))) {
      throw new ServiceError(
        Errors.INVALID_PARAMETER,
        'auth.identity.password.user needs id, or name with domain.name or domain.id.',
      );
    }
    const scope = input.scope;
    if (!scope || (scope.projectId === undefined && scope.projectName === undefined)) {
      throw new ServiceError(
        Errors.INVALID_PARAMETER,
        'auth.scope.project.id or auth.scope.project.name is required: only project-scoped tokens are issued.',
      );
    }

    const user = this.resolveUser(given);
    const lockKey: LockoutKey = user
      ? { known: true, id: user.id }
      : { known: false, id: attemptedName(given) };
    const verdict = this.lockout.begin(lockKey, this.now());
    if (!verdict.allowed) {
      throw new ServiceError(Errors.IAM_USER_LOCKED, undefined, {
        retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000),
      });
    }
    let ok = false;
    let lockedNow = false;
    try {
      this.passwordChecks++;
      ok = await checkPassword(user?.password, given.password);
    } finally {
      lockedNow = this.lockout.finish(lockKey, ok, this.now());
    }
    const now = this.now();
    const attempted = {
      user: (user?.name ?? given.name ?? given.id ?? '').slice(0, MAX_AUDIT_USER_NAME),
      domainId: user?.account.domainId ?? null,
      requestId: ids.requestId ?? null,
      callerRequestId: ids.callerRequestId ?? null,
    };
    if (!user || !ok) {
      // Attributed to the project only when the user is real and the project is the user's own.
      const projectId = user ? this.findProject(user, scope)?.id : undefined;
      await this.auditToken(this.database.db, attempted, projectId ?? null, null, 'failure', now, {
        error_code: renderCode(Errors.IAM_BAD_CREDENTIALS, 'IAM'),
      });
      if (lockedNow) {
        // Once per lock: the attempts refused while it lasts write nothing.
        const policy = this.lockout.policy;
        await insertAuditEvent(this.database.db, {
          at: now,
          request_id: attempted.requestId,
          caller_request_id: attempted.callerRequestId,
          domain_id: attempted.domainId,
          project_id: projectId ?? null,
          user_name: attempted.user,
          access_key: null,
          action: 'iam:user:lock',
          resource_type: 'user',
          resource_id: user?.id ?? null,
          result: 'success',
          detail: JSON.stringify({
            failures: policy.maxFailures,
            window_minutes: policy.windowMs / 60_000,
            locked_until: formatIsoTime(now + policy.lockMs),
          }),
        });
      }
      throw new ServiceError(Errors.IAM_BAD_CREDENTIALS);
    }
    const project = this.findProject(user, scope);
    if (!project) {
      await this.auditToken(this.database.db, attempted, null, null, 'failure', now, {
        error_code: renderCode(Errors.IAM_PROJECT_NOT_FOUND, 'IAM'),
      });
      throw new ServiceError(Errors.IAM_PROJECT_NOT_FOUND);
    }

    const token = newToken();
    const id = randomUUID();
    const expiresAt = now + this.tokenTtlMs;
    await this.database.transaction(async (trx) => {
      await deleteExpiredTokens(trx, now);
      await insertToken(trx, {
        id,
        token_hash: tokenHash(token),
        domain_id: user.account.domainId,
        user_id: user.id,
        user_name: user.name,
        project_id: project.id,
        issued_at: now,
        expires_at: expiresAt,
      });
      await this.auditToken(trx, attempted, project.id, id, 'success', now, {
        expires_at: formatIsoTime(expiresAt),
      });
    });
    return {
      token,
      issuedAt: now,
      expiresAt,
      user: { id: user.id, name: user.name },
      account: { domainId: user.account.domainId, name: user.account.name },
      project: { id: project.id, name: project.name },
    };
  }

  /** One page of the project's audit trail, newest first; `marker` is the last id of the previous page. */
  async listAuditEvents(actor: Actor, page: { limit: number; marker?: number }): Promise<AuditPage> {
    const rows = await listAuditEvents(this.database.db, actor.projectId, {
      limit: page.limit + 1,
      ...(page.marker !== undefined ? { before: page.marker } : {}),
    });
    const more = rows.length > page.limit;
    const events = rows.slice(0, page.limit).map(auditView);
    return { events, nextMarker: more && events.length > 0 ? events[events.length - 1]!.id : null };
  }

  private resolveUser(given: PasswordAuthInput['user']): UserEntry | undefined {
    let user: UserEntry | undefined;
    if (given.id !== undefined) {
      user = this.directory.userById(given.id);
      if (user && given.name !== undefined && given.name !== user.name) return undefined;
    } else {
      const byId = given.domainId !== undefined ? this.directory.accountById(given.domainId) : undefined;
      const byName =
        given.domainName !== undefined ? this.directory.accountByName(given.domainName) : undefined;
      if (given.domainId !== undefined && given.domainName !== undefined && byId !== byName) return undefined;
      const account = byId ?? byName;
      user =
        account && given.name !== undefined ? this.directory.user(account.domainId, given.name) : undefined;
    }
    if (!user) return undefined;
    if (given.domainId !== undefined && given.domainId !== user.account.domainId) return undefined;
    if (given.domainName !== undefined && given.domainName !== user.account.name) return undefined;
    return user;
  }

  private findProject(
    user: UserEntry,
    scope: NonNullable<PasswordAuthInput['scope']>,
  ): ProjectEntry | undefined {
    const byId = scope.projectId !== undefined ? user.account.projectsById.get(scope.projectId) : undefined;
    const byName =
      scope.projectName !== undefined ? user.account.projectsByName.get(scope.projectName) : undefined;
    if (scope.projectId !== undefined && scope.projectName !== undefined) {
      return byId === byName ? byId : undefined;
    }
    return byId ?? byName;
  }

  private async auditToken(
    db: Db,
    who: { user: string; domainId: string | null; requestId: string | null; callerRequestId: string | null },
    projectId: string | null,
    tokenId: string | null,
    result: 'success' | 'failure',
    now: number,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await insertAuditEvent(db, {
      at: now,
      request_id: who.requestId,
      caller_request_id: who.callerRequestId,
      domain_id: who.domainId,
      project_id: projectId,
      user_name: who.user,
      access_key: null,
      action: 'iam:token:create',
      resource_type: 'token',
      resource_id: tokenId,
      result,
      detail: JSON.stringify(detail),
    });
  }
}

/** The identity an attempt named, for a user that does not exist (its lockout key). */
function attemptedName(given: PasswordAuthInput['user']): string {
  return [given.id, given.name, given.domainId, given.domainName].map((part) => part ?? '').join('\0');
}

function auditView(row: AuditEventRow): AuditEventView {
  let detail: Record<string, unknown> | null = null;
  if (row.detail) {
    try {
      const parsed: unknown = JSON.parse(row.detail);
      detail = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : { value: parsed };
    } catch {
      detail = { text: row.detail };
    }
  }
  return {
    id: String(row.id),
    at: Number(row.at),
    user: row.user_name,
    domainId: row.domain_id,
    accessKey: row.access_key,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    result: row.result,
    requestId: row.request_id,
    callerRequestId: row.caller_request_id,
    detail,
  };
}
