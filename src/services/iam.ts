/**
 * Token issue (Keystone v3 password method, project scope): resolves the user in the directory, checks
 * the password under the login lockout, stores the token's hash and audits every attempt, never with
 * the password.
 */
import { randomUUID } from 'node:crypto';
import { type ErrorDef, Errors, renderCode, ServiceError } from '../domain/errors.js';
import { type LockoutKey, type LockoutPolicy, LoginLockout } from '../domain/login-lockout.js';
import { formatIsoTime } from '../domain/time.js';
import type { Database } from '../store/database.js';
import { deleteExpiredTokens, insertToken } from '../store/tokens.js';
import { type AuditActor, type AuditEntry, recordAudit } from './audit.js';
import { checkPassword, type Directory, type ProjectEntry, type UserEntry } from './directory.js';
import { newToken, tokenHash } from './tokens.js';

export interface IamOptions {
  /** Token lifetime (default 24 h). */
  tokenTtlMs?: number;
  /** Password-guessing lockout of token issue (default DEFAULT_LOCKOUT_POLICY). */
  lockout?: LockoutPolicy;
  now?: () => number;
}

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

export const DEFAULT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_AUDIT_USER_NAME = 64;

export class IamService {
  private readonly now: () => number;
  private readonly tokenTtlMs: number;
  private readonly lockout: LoginLockout;

  /** Forgets login failures and locks (the emulator's reset). */
  clearLockouts(): void {
    this.lockout.clear();
  }

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
    // Who tried, as far as is known: the audit names the user even when no project is in scope yet.
    const attempted = (projectId: string | null): AuditActor => ({
      userName: (user?.name ?? given.name ?? given.id ?? '').slice(0, MAX_AUDIT_USER_NAME),
      domainId: user?.account.domainId ?? '',
      projectId,
      ...ids,
    });
    if (!user || !ok) {
      // Attributed to the project only when the user is real and the project is the user's own.
      const who = attempted((user && this.findProject(user, scope)?.id) ?? null);
      await recordAudit(this.database.db, who, tokenRefused(Errors.IAM_BAD_CREDENTIALS), now);
      if (lockedNow) {
        // Once per lock: the attempts refused while it lasts write nothing.
        const policy = this.lockout.policy;
        await recordAudit(
          this.database.db,
          who,
          {
            action: 'iam:user:lock',
            resourceType: 'user',
            resourceId: user?.id ?? null,
            result: 'success',
            detail: {
              failures: policy.maxFailures,
              window_minutes: policy.windowMs / 60_000,
              locked_until: formatIsoTime(now + policy.lockMs),
            },
          },
          now,
        );
      }
      throw new ServiceError(Errors.IAM_BAD_CREDENTIALS);
    }
    const project = this.findProject(user, scope);
    if (!project) {
      await recordAudit(this.database.db, attempted(null), tokenRefused(Errors.IAM_PROJECT_NOT_FOUND), now);
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
        // The token lives only as long as the credential state it was issued from.
        credential_version: user.credentialVersion,
      });
      await recordAudit(
        trx,
        attempted(project.id),
        {
          action: 'iam:token:create',
          resourceType: 'token',
          resourceId: id,
          result: 'success',
          detail: { expires_at: formatIsoTime(expiresAt) },
        },
        now,
      );
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
}

/** The audit entry of a refused token request. */
function tokenRefused(error: ErrorDef): AuditEntry {
  return {
    action: 'iam:token:create',
    resourceType: 'token',
    resourceId: null,
    result: 'failure',
    detail: { error_code: renderCode(error, 'IAM') },
  };
}

/** The identity an attempt named, for a user that does not exist (its lockout key). */
function attemptedName(given: PasswordAuthInput['user']): string {
  return [given.id, given.name, given.domainId, given.domainName].map((part) => part ?? '').join('\0');
}
