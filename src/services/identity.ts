/**
 * Who may call: the principals behind access keys and tokens. The API's authentication hook asks an
 * IdentityProvider; the bootstrap provider serves the single stored credential, and the IAM
 * provider (identities file, tokens) plugs in behind the same interface.
 */
import { Errors, ServiceError } from '../domain/errors.js';
import type { Policy } from '../domain/permissions.js';

export interface Principal {
  domainId: string;
  domainName?: string;
  userName: string;
  userId?: string;
  /** Projects the principal's account owns. */
  projectIds: ReadonlySet<string>;
  policy: Policy;
}

export interface AccessKeyIdentity {
  secret: string;
  principal: Principal;
}

export interface TokenIdentity {
  principal: Principal;
  /** A token is valid for the project it was scoped to only. */
  projectId: string;
}

export interface IdentityProvider {
  /** Synchronous: it runs on every signed request. */
  findAccessKey(accessKey: string): AccessKeyIdentity | undefined;
  findToken(token: string): Promise<TokenIdentity | undefined>;
  /** `DELETE /v3/auth/tokens`: `callerToken` revokes `subjectToken` (ServiceErrors on refusal). */
  revokeToken(callerToken: string, subjectToken: string): Promise<void>;
}

/** Serves a fixed set of access keys (the bootstrap credential); knows no tokens. */
export class StaticIdentityProvider implements IdentityProvider {
  private readonly keys = new Map<string, AccessKeyIdentity>();

  add(accessKey: string, identity: AccessKeyIdentity): void {
    this.keys.set(accessKey, identity);
  }

  findAccessKey(accessKey: string): AccessKeyIdentity | undefined {
    return this.keys.get(accessKey);
  }

  async findToken(): Promise<TokenIdentity | undefined> {
    return undefined;
  }

  async revokeToken(): Promise<void> {
    throw new ServiceError(Errors.AUTH_TOKEN);
  }
}
