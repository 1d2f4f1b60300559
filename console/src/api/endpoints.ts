/** One function per wire operation the console uses; paths and bodies as in the contract. */
import { type ApiClient, rawRequest } from './client.js';
import type {
  AuditPage,
  ClusterDetail,
  ClusterList,
  CryptAlgorithm,
  EncryptInfo,
  Job,
  KeyDetails,
  KeyList,
  RotateKeyResult,
  TokenResponse,
} from './types.js';

const seg = encodeURIComponent;

// ---- IAM ----

export interface PasswordSignIn {
  userName: string;
  domainName: string;
  password: string;
  /** A 32-hex project id, or a project name. */
  project: string;
}

export const PROJECT_ID_PATTERN = /^[0-9a-f]{32}$/;

export function passwordAuthBody(input: PasswordSignIn): unknown {
  const project = input.project.trim();
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: input.userName.trim(),
            password: input.password,
            domain: { name: input.domainName.trim() },
          },
        },
      },
      scope: { project: PROJECT_ID_PATTERN.test(project) ? { id: project } : { name: project } },
    },
  };
}

export async function createToken(input: PasswordSignIn): Promise<{ token: string; body: TokenResponse }> {
  const response = await rawRequest<TokenResponse>('POST', '/v3/auth/tokens', {
    body: passwordAuthBody(input),
  });
  const token = response.headers.get('x-subject-token');
  if (!token) throw new Error('The sign-in answer carried no X-Subject-Token header.');
  return { token, body: response.data };
}

/**
 * Revokes a token (Keystone's `DELETE /v3/auth/tokens`: the token authenticates itself and names
 * itself as the subject), so a signed-out token is dead on the server too, not only forgotten here.
 */
export async function revokeToken(token: string): Promise<void> {
  await rawRequest('DELETE', '/v3/auth/tokens', {
    headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
  });
}

// ---- DWS ----

export function listClusters(api: ApiClient): Promise<ClusterList> {
  return api.request('GET', `/v1.0/${seg(api.projectId)}/clusters`);
}

export async function getCluster(api: ApiClient, clusterId: string): Promise<ClusterDetail> {
  const body = await api.request<{ cluster: ClusterDetail }>(
    'GET',
    `/v1.0/${seg(api.projectId)}/clusters/${seg(clusterId)}`,
  );
  return body.cluster;
}

export function getEncryptInfo(api: ApiClient, clusterId: string): Promise<EncryptInfo> {
  return api.request('GET', `/v1/${seg(api.projectId)}/clusters/${seg(clusterId)}/encrypt-info`);
}

export async function createCluster(api: ApiClient, cluster: Record<string, unknown>): Promise<string> {
  const body = await api.request<{ cluster: { id: string } }>('POST', `/v2/${seg(api.projectId)}/clusters`, {
    body: { cluster },
  });
  return body.cluster.id;
}

export interface EncryptRequest {
  master_key_id: string;
  master_key_name: string;
  crypt_algorithm: CryptAlgorithm;
}

export async function encryptCluster(
  api: ApiClient,
  clusterId: string,
  encrypt: EncryptRequest,
): Promise<string> {
  const body = await api.request<{ job_id: string }>(
    'POST',
    `/v2/${seg(api.projectId)}/clusters/${seg(clusterId)}/encrypt`,
    { body: { encrypt } },
  );
  return body.job_id;
}

/** Without a master key id, rotates the data key; with one, rotates the master key to it. */
export function rotateKey(api: ApiClient, clusterId: string, masterKeyId?: string): Promise<RotateKeyResult> {
  return api.request('POST', `/v1/${seg(api.projectId)}/clusters/${seg(clusterId)}/rotate-key`, {
    body: masterKeyId ? { master_key_id: masterKeyId } : undefined,
  });
}

export function getJob(api: ApiClient, jobId: string): Promise<Job> {
  return api.request('GET', `/v1.0/${seg(api.projectId)}/job/${seg(jobId)}`);
}

// ---- KMS ----

function kms<T>(api: ApiClient, action: string, body: Record<string, unknown>): Promise<T> {
  return api.request('POST', `/v1.0/${seg(api.projectId)}/kms/${action}`, { body });
}

export function listKeys(
  api: ApiClient,
  options: { limit?: number; marker?: string } = {},
): Promise<KeyList> {
  const body: Record<string, unknown> = { limit: String(options.limit ?? 100) };
  if (options.marker) body.marker = options.marker;
  return kms(api, 'list-keys', body);
}

/** Every key of the project, following next_marker (bounded, for pickers). */
export async function listAllKeys(api: ApiClient): Promise<KeyDetails[]> {
  const all: KeyDetails[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = await listKeys(api, { limit: 100, marker });
    all.push(...(result.key_details ?? []));
    const truncated = result.truncated === 'true';
    if (!truncated || !result.next_marker) break;
    marker = result.next_marker;
  }
  return all;
}

export interface CreateKeyInput {
  key_alias: string;
  key_spec: string;
  key_description?: string;
}

export async function createKey(api: ApiClient, input: CreateKeyInput): Promise<string> {
  const body: Record<string, unknown> = { key_alias: input.key_alias, key_spec: input.key_spec };
  if (input.key_description) body.key_description = input.key_description;
  const result = await kms<{ key_info: { key_id: string } }>(api, 'create-key', body);
  return result.key_info.key_id;
}

export function enableKey(api: ApiClient, keyId: string): Promise<unknown> {
  return kms(api, 'enable-key', { key_id: keyId });
}

export function disableKey(api: ApiClient, keyId: string): Promise<unknown> {
  return kms(api, 'disable-key', { key_id: keyId });
}

export function scheduleKeyDeletion(api: ApiClient, keyId: string, pendingDays: number): Promise<unknown> {
  return kms(api, 'schedule-key-deletion', { key_id: keyId, pending_days: String(pendingDays) });
}

export function cancelKeyDeletion(api: ApiClient, keyId: string): Promise<unknown> {
  return kms(api, 'cancel-key-deletion', { key_id: keyId });
}

// ---- Audit (assumed route, see docs/console.md) ----

export function listAuditEvents(
  api: ApiClient,
  options: { limit?: number; marker?: string } = {},
): Promise<AuditPage> {
  return api.request('GET', `/v1/${seg(api.projectId)}/audit-events`, {
    query: { limit: options.limit ?? 50, marker: options.marker },
  });
}

// ---- Emulator (/_dws/, docs/testing.md) ----

/** Fault rules of the instance that can still answer a call; 0 when the caller may not list them. */
export async function activeFaultCount(api: ApiClient): Promise<number> {
  try {
    const body = await api.request<{ faults: { remaining?: number }[] }>('GET', '/_dws/faults');
    return body.faults.filter((rule) => rule.remaining !== 0).length;
  } catch {
    // Not granted dws:emulator:listFaults, or the control API is off: nothing to show.
    return 0;
  }
}
