/**
 * The directory of accounts, projects and users declared in the identities file (DWS_IAM_FILE), with
 * their access keys. Secrets kept: the access keys' SKs (the Map the signature verifier reads) and one
 * verifier per password (the parsed scrypt hash, or an HMAC under a per-process key for a plain
 * password). The file's text and the parsed declaration are dropped after start-up.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  DEFAULT_SCRYPT_PARAMS,
  type PasswordHash,
  parsePasswordHash,
  verifyPassword,
} from '../crypto/password.js';
import type { IdentitiesSpec } from '../domain/identities.js';
import type { AccessKeyIdentity, Principal } from './identity.js';

export type PasswordVerifier = { kind: 'scrypt'; hash: PasswordHash } | { kind: 'hmac'; digest: Buffer };

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
  /**
   * HMAC of the user's credential state (password or its hash, access keys with their SKs) under the
   * directory's fingerprint key: it changes when any credential changes. Stored (see iam_users), never
   * the credentials.
   */
  credentialFingerprint: string;
  /** The credential version found in the store at start-up (0 until then); tokens carry it. */
  credentialVersion: number;
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

  /**
   * Builds the directory; the caller should drop `spec` afterwards (it holds the file's secrets).
   * `fingerprintKey` keys the credential fingerprints: the service derives it from the root key, so
   * fingerprints compare across restarts and instances; without one they compare within this process.
   */
  constructor(spec: IdentitiesSpec = { accounts: [] }, options: { fingerprintKey?: Buffer } = {}) {
    const fingerprintKey = options.fingerprintKey ?? randomBytes(32);
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
          credentialFingerprint: credentialFingerprint(fingerprintKey, entry.domainId, user),
          credentialVersion: 0,
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

  /** Every user with its fingerprint, for the credential versions kept in the store. */
  declaredUsers(): { userId: string; domainId: string; fingerprint: string }[] {
    return [...this.usersById.values()].map((user) => ({
      userId: user.id,
      domainId: user.account.domainId,
      fingerprint: user.credentialFingerprint,
    }));
  }

  /** Sets the versions the store holds for the users (reconcileCredentialVersions). */
  applyCredentialVersions(versions: ReadonlyMap<string, number>): void {
    for (const [userId, version] of versions) {
      const user = this.usersById.get(userId);
      if (user) user.credentialVersion = version;
    }
  }

  /** The account (domain id) that declares `projectId`, if any. */
  domainOfProject(projectId: string): string | undefined {
    for (const account of this.accountsById.values())
      if (account.projectIds.has(projectId)) return account.domainId;
    return undefined;
  }
}

/** Length-prefixed parts, so that no two credential states hash the same. */
function credentialFingerprint(
  key: Buffer,
  domainId: string,
  user: {
    id: string;
    password?: string;
    passwordHash?: string;
    credentials: readonly { ak: string; sk: string }[];
  },
): string {
  const parts = [
    domainId,
    user.id,
    user.passwordHash !== undefined
      ? `hash:${user.passwordHash}`
      : user.password !== undefined
        ? `plain:${user.password.normalize('NFC')}`
        : 'none',
    ...user.credentials.map((c) => `${c.ak}:${c.sk}`).sort(),
  ];
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(`${Buffer.byteLength(part)}:${part}`);
  return mac.digest('hex');
}

function userKey(domainId: string, name: string): string {
  return `${domainId}\0${name}`;
}

/** True when `password` is the user's; every call costs one scrypt whatever the outcome. */
export async function checkPassword(
  verifier: PasswordVerifier | undefined,
  password: string,
): Promise<boolean> {
  if (verifier?.kind === 'scrypt') return verifyPassword(password, verifier.hash);
  await verifyPassword(password, DUMMY_HASH);
  if (verifier === undefined) return false;
  return timingSafeEqual(pepper(password), verifier.digest);
}
