/**
 * The identities file (DWS_IAM_FILE): accounts, their projects, users, access keys and policies.
 * `validateIdentities` checks a parsed document completely and returns the typed declaration, or
 * throws an IdentitiesError listing every problem by field path
 * (`accounts[0].users[1].credentials[0].sk is required`). Messages name fields, never the values of
 * secrets (sk, password, password_hash). No I/O: the service reads the file.
 */
import { createHash } from 'node:crypto';
import { passwordHashProblem } from '../crypto/password.js';
import { patternProblem } from './permissions.js';

export interface IdentitiesSpec {
  accounts: AccountSpec[];
}

export interface AccountSpec {
  /** 32 lowercase hex characters, like the cloud's account (domain) ids. */
  domainId: string;
  name: string;
  projects: ProjectSpec[];
  users: UserSpec[];
}

export interface ProjectSpec {
  id: string;
  name: string;
}

export interface UserSpec {
  /** Given in the file, or derived from the account and the name (stable across restarts). */
  id: string;
  name: string;
  /** Plain text from the file; the service turns it into a verifier and drops it. */
  password?: string;
  /** `scrypt$N$r$p$salt$hash` (see src/crypto/password.ts). */
  passwordHash?: string;
  credentials: CredentialSpec[];
  allow: string[];
  deny: string[];
}

export interface CredentialSpec {
  ak: string;
  sk: string;
}

export class IdentitiesError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(issues.join('; '));
    this.name = 'IdentitiesError';
    this.issues = issues;
  }
}

const HEX32 = /^[0-9a-f]{32}$/;
const ACCESS_KEY = /^[A-Za-z0-9]{8,128}$/;
const MIN_SK = 16;
const MAX_SK = 256;
const MAX_NAME = 64;
const MAX_PASSWORD = 1024;
const MAX_ISSUES = 50;

/** The user id a user gets when the file does not give one: stable for (account, name). */
export function deriveUserId(domainId: string, userName: string): string {
  return createHash('sha256').update(`user\0${domainId}\0${userName}`).digest('hex').slice(0, 32);
}

type Json = Record<string, unknown>;

// The fields each object of the document may have.
const ACCOUNT_FIELDS = ['domain_id', 'name', 'projects', 'users', 'description'];
const PROJECT_FIELDS = ['id', 'name', 'description'];
const USER_FIELDS = [
  'id',
  'name',
  'password',
  'password_hash',
  'credentials',
  'allow',
  'deny',
  'description',
];
const CREDENTIAL_FIELDS = ['ak', 'sk', 'description'];

class Checker {
  readonly issues: string[] = [];

  add(message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push(message);
  }

  object(value: unknown, path: string): Json | undefined {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Json;
    this.add(`${path} must be an object`);
    return undefined;
  }

  /** Reports every key of `value` that is not in `known`. */
  fields(value: Json, path: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.add(`${path}${path ? '.' : ''}${key} is not a known field`);
    }
  }

  /**
   * Visits each item of `list` (the array at `listPath`) that is an object, once its keys are checked
   * against `known`; an item that is not an object is reported.
   */
  objects(
    list: unknown[] | undefined,
    listPath: string,
    known: readonly string[],
    visit: (item: Json, path: string) => void,
  ): void {
    (list ?? []).forEach((raw, i) => {
      const path = `${listPath}[${i}]`;
      const item = this.object(raw, path);
      if (!item) return;
      this.fields(item, path, known);
      visit(item, path);
    });
  }

  array(value: Json, key: string, path: string, required: boolean): unknown[] | undefined {
    const v = value[key];
    const where = `${path}${path ? '.' : ''}${key}`;
    if (v === undefined) {
      if (required) this.add(`${where} is required`);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.add(`${where} must be an array`);
      return undefined;
    }
    return v;
  }

  /** A required (or optional) string checked by `rule.test`; messages never contain the value. */
  string(
    value: Json,
    key: string,
    path: string,
    rule: { required: boolean; test?: (s: string) => string | null },
  ): string | undefined {
    const v = value[key];
    const where = `${path}${path ? '.' : ''}${key}`;
    if (v === undefined || v === null) {
      if (rule.required) this.add(`${where} is required`);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(`${where} must be a string`);
      return undefined;
    }
    const problem = rule.test?.(v) ?? null;
    if (problem !== null) {
      this.add(`${where} ${problem}`);
      return undefined;
    }
    return v;
  }
}

function hex32(s: string): string | null {
  return HEX32.test(s) ? null : 'must be 32 lowercase hexadecimal characters';
}

function name(s: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (s.length === 0 || s.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(s)) {
    return `must be 1 to ${MAX_NAME} characters without control characters`;
  }
  return null;
}

function secretKey(s: string): string | null {
  return s.length >= MIN_SK && s.length <= MAX_SK ? null : `must be ${MIN_SK} to ${MAX_SK} characters`;
}

function accessKey(s: string): string | null {
  return ACCESS_KEY.test(s) ? null : 'must be 8 to 128 letters and digits';
}

function password(s: string): string | null {
  return s.length >= 1 && s.length <= MAX_PASSWORD ? null : `must be 1 to ${MAX_PASSWORD} characters`;
}

/** Remembers the first path of each value, to name both places of a duplicate. */
class Unique {
  private readonly seen = new Map<string, string>();
  constructor(
    private readonly checker: Checker,
    private readonly what: string,
  ) {}
  remember(value: string | undefined, path: string): void {
    if (value !== undefined && !this.seen.has(value)) this.seen.set(value, path);
  }
  check(value: string | undefined, path: string): void {
    if (value === undefined) return;
    const first = this.seen.get(value);
    if (first !== undefined) this.checker.add(`${path} repeats the ${this.what} of ${first}`);
    else this.seen.set(value, path);
  }
}

function patterns(checker: Checker, user: Json, key: 'allow' | 'deny', path: string): string[] {
  const list = checker.array(user, key, path, key === 'allow');
  if (list === undefined) return [];
  const out: string[] = [];
  list.forEach((item, i) => {
    const where = `${path}.${key}[${i}]`;
    if (typeof item !== 'string') {
      checker.add(`${where} must be a string`);
      return;
    }
    const problem = patternProblem(item);
    if (problem !== null) checker.add(`${where} ${problem}: ${JSON.stringify(item.slice(0, 128))}`);
    else out.push(item);
  });
  return out;
}

/** Checks a parsed identities document; throws IdentitiesError naming every problem. */
export function validateIdentities(document: unknown): IdentitiesSpec {
  const c = new Checker();
  const root = c.object(document, 'the document');
  if (!root) throw new IdentitiesError(c.issues);
  c.fields(root, '', ['accounts', 'description']);
  const accountList = c.array(root, 'accounts', '', true);

  const domainIds = new Unique(c, 'domain_id');
  const accountNames = new Unique(c, 'name');
  const projectIds = new Unique(c, 'project id');
  const userIds = new Unique(c, 'user id');
  const accessKeys = new Unique(c, 'access key (ak)');
  const accounts: AccountSpec[] = [];

  c.objects(accountList, 'accounts', ACCOUNT_FIELDS, (account, path) => {
    const domainId = c.string(account, 'domain_id', path, { required: true, test: hex32 });
    const accountName = c.string(account, 'name', path, { required: true, test: name });
    domainIds.check(domainId, `${path}.domain_id`);
    accountNames.check(accountName, `${path}.name`);

    const projects: ProjectSpec[] = [];
    const projectNames = new Unique(c, 'project name');
    const projectList = c.array(account, 'projects', path, true);
    if (projectList !== undefined && projectList.length === 0) {
      c.add(`${path}.projects must list at least one project`);
    }
    c.objects(projectList, `${path}.projects`, PROJECT_FIELDS, (project, ppath) => {
      const id = c.string(project, 'id', ppath, { required: true, test: hex32 });
      const projectName = c.string(project, 'name', ppath, { required: true, test: name });
      projectIds.check(id, `${ppath}.id`);
      projectNames.check(projectName, `${ppath}.name`);
      if (id !== undefined && projectName !== undefined) projects.push({ id, name: projectName });
    });

    const users: UserSpec[] = [];
    const userNames = new Unique(c, 'user name');
    c.objects(c.array(account, 'users', path, true), `${path}.users`, USER_FIELDS, (user, upath) => {
      const userName = c.string(user, 'name', upath, { required: true, test: name });
      userNames.check(userName, `${upath}.name`);
      const givenId = c.string(user, 'id', upath, { required: false, test: hex32 });
      const id = givenId ?? (domainId && userName ? deriveUserId(domainId, userName) : undefined);
      // A derived id repeats only when (account, name) does, which is reported already.
      if (givenId !== undefined) userIds.check(id, `${upath}.id`);
      else userIds.remember(id, `${upath} (derived id)`);
      const plain = c.string(user, 'password', upath, { required: false, test: password });
      const hash = c.string(user, 'password_hash', upath, {
        required: false,
        test: passwordHashProblem,
      });
      if (user.password !== undefined && user.password_hash !== undefined) {
        c.add(`${upath} has both password and password_hash; keep one`);
      }
      const credentials: CredentialSpec[] = [];
      const credentialList = c.array(user, 'credentials', upath, false);
      c.objects(credentialList, `${upath}.credentials`, CREDENTIAL_FIELDS, (credential, kpath) => {
        const ak = c.string(credential, 'ak', kpath, { required: true, test: accessKey });
        const sk = c.string(credential, 'sk', kpath, { required: true, test: secretKey });
        accessKeys.check(ak, `${kpath}.ak`);
        if (ak !== undefined && sk !== undefined) credentials.push({ ak, sk });
      });
      const allow = patterns(c, user, 'allow', upath);
      const deny = patterns(c, user, 'deny', upath);
      if (userName !== undefined && id !== undefined) {
        users.push({
          id,
          name: userName,
          ...(plain !== undefined ? { password: plain } : {}),
          ...(hash !== undefined ? { passwordHash: hash } : {}),
          credentials,
          allow,
          deny,
        });
      }
    });

    if (domainId !== undefined && accountName !== undefined) {
      accounts.push({ domainId, name: accountName, projects, users });
    }
  });

  if (c.issues.length > 0) throw new IdentitiesError(c.issues);
  return { accounts };
}
