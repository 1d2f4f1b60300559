/**
 * IAM test fixtures: an identities file with two accounts (acme: two projects and users of every kind;
 * beta: one project), and helpers to get a token and call with one.
 */
import type { ApiResponse } from './server.js';

export const ACME = {
  domainId: 'ac'.repeat(16),
  name: 'acme',
  p1: { id: '11'.repeat(16), name: 'cn-north-4' },
  p2: { id: '12'.repeat(16), name: 'cn-east-3' },
};
export const BETA = {
  domainId: 'be'.repeat(16),
  name: 'beta',
  p1: { id: '21'.repeat(16), name: 'cn-north-4' },
};

export interface UserFixture {
  name: string;
  password?: string;
  ak?: string;
  sk?: string;
}

export const USERS = {
  admin: {
    name: 'admin',
    password: 'acme-admin-Passw0rd!',
    ak: 'ACMEADMINAK000000001',
    sk: 'acme-admin-secret-key-000000000000000001',
  },
  auditor: { name: 'auditor', ak: 'ACMEAUDITORAK0000001', sk: 'acme-auditor-secret-key-0000000000000001' },
  /** Automation: may only read encryption info and rotate keys; its password is given as a hash. */
  rotator: {
    name: 'rotator',
    password: 'rotator-password-1',
    ak: 'ACMEROTATORAK0000001',
    sk: 'acme-rotator-secret-key-0000000000000001',
  },
  /** Everything but deleting clusters and KMS. */
  operator: {
    name: 'operator',
    password: 'operator-Passw0rd',
    ak: 'ACMEOPERATORAK000001',
    sk: 'acme-operator-secret-key-000000000000001',
  },
  betaAdmin: {
    name: 'admin',
    password: 'beta-admin-Passw0rd!',
    ak: 'BETAADMINAK000000001',
    sk: 'beta-admin-secret-key-000000000000000001',
  },
} as const satisfies Record<string, UserFixture>;

/** `npm run hash-password -- --cost 1024` of USERS.rotator.password. */
const ROTATOR_HASH = 'scrypt$1024$8$1$DtyRd+5HiL8LLkanyTRnVA==$7wZhtNdGHa1H6cb6alVBH08zGI+FoQxUkcWZxpjc9Nc=';

export function identitiesFixture(): Record<string, unknown> {
  return {
    accounts: [
      {
        domain_id: ACME.domainId,
        name: ACME.name,
        projects: [ACME.p1, ACME.p2],
        users: [
          {
            name: USERS.admin.name,
            password: USERS.admin.password,
            credentials: [{ ak: USERS.admin.ak, sk: USERS.admin.sk }],
            allow: ['*'],
          },
          {
            name: USERS.auditor.name,
            credentials: [{ ak: USERS.auditor.ak, sk: USERS.auditor.sk }],
            allow: ['dws:cluster:getEncryptInfo', 'dws:openAPICluster:list'],
          },
          {
            name: USERS.rotator.name,
            password_hash: ROTATOR_HASH,
            credentials: [{ ak: USERS.rotator.ak, sk: USERS.rotator.sk }],
            allow: ['dws:cluster:rotateKey', 'dws:cluster:getEncryptInfo'],
          },
          {
            name: USERS.operator.name,
            password: USERS.operator.password,
            credentials: [{ ak: USERS.operator.ak, sk: USERS.operator.sk }],
            allow: ['*'],
            deny: ['dws:openAPICluster:delete', 'kms:*'],
          },
        ],
      },
      {
        domain_id: BETA.domainId,
        name: BETA.name,
        projects: [BETA.p1],
        users: [
          {
            name: USERS.betaAdmin.name,
            password: USERS.betaAdmin.password,
            credentials: [{ ak: USERS.betaAdmin.ak, sk: USERS.betaAdmin.sk }],
            allow: ['*'],
          },
        ],
      },
    ],
  };
}

/** The Keystone v3 password-method body. */
export function passwordAuthBody(options: {
  user?: string;
  userId?: string;
  password: string;
  domainName?: string;
  domainId?: string;
  projectId?: string;
  projectName?: string;
  methods?: string[];
}): Record<string, unknown> {
  const domain = {
    ...(options.domainName !== undefined ? { name: options.domainName } : {}),
    ...(options.domainId !== undefined ? { id: options.domainId } : {}),
  };
  return {
    auth: {
      identity: {
        methods: options.methods ?? ['password'],
        password: {
          user: {
            ...(options.user !== undefined ? { name: options.user } : {}),
            ...(options.userId !== undefined ? { id: options.userId } : {}),
            password: options.password,
            ...(Object.keys(domain).length > 0 ? { domain } : {}),
          },
        },
      },
      scope: {
        project: {
          ...(options.projectId !== undefined ? { id: options.projectId } : {}),
          ...(options.projectName !== undefined ? { name: options.projectName } : {}),
        },
      },
    },
  };
}

async function toResponse(response: Response): Promise<ApiResponse> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body, headers: response.headers, text };
}

/** POST /v3/auth/tokens (unsigned: the password authenticates). */
export async function requestToken(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return toResponse(
    await fetch(`${baseUrl}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

/** Issues a token for `user` of acme (default) scoped to `projectId`; throws unless 201. */
export async function tokenFor(
  baseUrl: string,
  user: { name: string; password: string },
  projectId: string,
  domainName: string = ACME.name,
): Promise<string> {
  const res = await requestToken(
    baseUrl,
    passwordAuthBody({ user: user.name, password: user.password, domainName, projectId }),
  );
  if (res.status !== 201) throw new Error(`token issue failed: ${res.status} ${res.text}`);
  return res.headers.get('x-subject-token')!;
}

/** A request authenticated with X-Auth-Token (no signature). */
export async function tokenCall(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  return toResponse(
    await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-Auth-Token': token },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
}
