/**
 * IAM tokens: their format and hash, and the identity provider the authentication hook asks (access keys
 * of the directory, and tokens found in a small cache, then in the store). A token exists in memory only
 * while a request carries it; the store and the cache hold its SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Errors, ServiceError } from '../domain/errors.js';
import type { Database } from '../store/database.js';
import { deleteTokenByHash, findTokenByHash } from '../store/tokens.js';
import type { Directory } from './directory.js';
import type { AccessKeyIdentity, IdentityProvider, TokenIdentity } from './identity.js';

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

  delete(hash: string): void {
    this.entries.delete(hash);
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

export interface TokenProviderOptions {
  /** Validated tokens kept in memory (default 10 000) and for how long at most (default 60 s). */
  tokenCacheSize?: number;
  tokenCacheMs?: number;
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
    options: TokenProviderOptions = {},
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

  /**
   * Keystone's `DELETE /v3/auth/tokens`: `callerToken` (X-Auth-Token) revokes `subjectToken`
   * (X-Subject-Token), a token of the same user. The row goes from the store and this instance's cache;
   * other instances sharing the store may serve it from their caches for up to tokenCacheMs.
   * Refusals: 401 for a bad caller token, 404 for a subject that is not a live token, 403 for another
   * user's token.
   */
  async revokeToken(callerToken: string, subjectToken: string): Promise<void> {
    const caller = await this.findToken(callerToken);
    if (!caller) throw new ServiceError(Errors.AUTH_TOKEN);
    const subject = subjectToken === callerToken ? caller : await this.findToken(subjectToken);
    if (!subject) throw new ServiceError(Errors.IAM_TOKEN_NOT_FOUND);
    if (subject.principal.userId !== caller.principal.userId) {
      throw new ServiceError(Errors.ACTION_FORBIDDEN, "A token may revoke only its own user's tokens.");
    }
    const hash = tokenHash(subjectToken);
    this.cache.delete(hash);
    if ((await deleteTokenByHash(this.database.db, hash)) === 0)
      throw new ServiceError(Errors.IAM_TOKEN_NOT_FOUND);
  }

  async findToken(token: string): Promise<TokenIdentity | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const hash = tokenHash(token);
    const now = this.now();
    const cached = this.cache.get(hash, now);
    if (cached) return cached;
    const row = await findTokenByHash(this.database.db, hash);
    if (!row || now >= row.expires_at) return undefined;
    // The user and project must still be declared (the file may have changed since the token was issued),
    // and the user's credentials must be those the token was issued under (a password or access-key
    // change, or a removal and a new declaration, moved the version on).
    const user = this.directory.user(row.domain_id, row.user_name);
    if (!user || user.id !== row.user_id || !user.account.projectIds.has(row.project_id)) return undefined;
    if (row.credential_version !== user.credentialVersion) return undefined;
    const identity: TokenIdentity = { principal: user.principal, projectId: row.project_id };
    this.cache.set(hash, identity, row.expires_at, now);
    return identity;
  }
}
