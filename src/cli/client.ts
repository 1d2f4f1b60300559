/**
 * The CLI's HTTP client: every request signed with SDK-HMAC-SHA256 (the same signer as the official
 * SDKs, `signRequest`), sent with the global fetch. Of the server it imports only the wire types (erased
 * when compiled) and the job statuses, so it works against any deployment that speaks the API, including
 * the cloud's.
 */
import type {
  ClusterInfo,
  CreateClusterBody,
  EncryptInfo,
  JobDetail,
  RotateResult,
} from '../api/dws/schemas.js';
import type { AuditEventList } from '../api/iam/schemas.js';
import type {
  CreateKeyResult,
  DeletionResult,
  KeyDetails,
  KeyStateResult,
  ListKeysResult,
} from '../api/kms/schemas.js';
import { signRequest } from '../crypto/signing.js';
import type { CryptAlgorithm } from '../domain/clusters.js';
import { FINAL_JOB_STATUSES } from '../domain/jobs.js';

export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  endpoint: string;
  ak: string;
  sk: string;
  projectId: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/** The service answered with an error (4xx/5xx): its `error_code` and `error_msg`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The service could not be reached (refused, DNS, timeout) or did not answer HTTP. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** The wire shapes, as the service's own schemas declare them. */
export type {
  ClusterInfo as Cluster,
  EncryptInfo,
  JobDetail as Job,
  RotateResult,
} from '../api/dws/schemas.js';
export type { AuditEvent, AuditEventList as AuditPage } from '../api/iam/schemas.js';
export type { KeyDetails, ListKeysResult as KeyList } from '../api/kms/schemas.js';
export type { CryptAlgorithm } from '../domain/clusters.js';
/** The `cluster` of a create request. */
export type CreateClusterInput = CreateClusterBody['cluster'];

const seg = encodeURIComponent;
/** A job's wire status is a string: compared as one. */
const finalStatuses: ReadonlySet<string> = FINAL_JOB_STATUSES;

export class DwsClient {
  private readonly base: URL;

  constructor(private readonly options: ClientOptions) {
    try {
      this.base = new URL(options.endpoint);
    } catch {
      throw new TypeError(`the endpoint '${options.endpoint}' is not a URL (e.g. http://127.0.0.1:8080)`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new TypeError(`the endpoint '${options.endpoint}' must be http:// or https://`);
    }
  }

  get endpoint(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  get projectId(): string {
    return this.options.projectId;
  }

  /** One signed call; resolves with the parsed JSON body of a 2xx answer. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.endpoint}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Project-Id': this.options.projectId,
    };
    const signed = signRequest({
      method,
      url,
      headers,
      body: text,
      ak: this.options.ak,
      sk: this.options.sk,
    });
    // fetch sets Host itself from the URL, which is what was signed.
    const { host: _host, ...added } = signed;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { ...headers, ...added },
        ...(text !== undefined ? { body: text } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new ConnectionError(`cannot reach ${this.endpoint}: ${describeFetchError(error)}`);
    }
    const raw = await response.text().catch(() => '');
    const requestId = response.headers.get('x-request-id') ?? undefined;
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : {};
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const err = parsed as { error_code?: unknown; error_msg?: unknown } | undefined;
      if (err && typeof err.error_code === 'string') {
        throw new ApiError(response.status, err.error_code, String(err.error_msg ?? ''), requestId);
      }
      throw new ApiError(
        response.status,
        `HTTP ${response.status}`,
        raw.slice(0, 200) || response.statusText,
        requestId,
      );
    }
    if (parsed === undefined) {
      throw new ConnectionError(
        `${this.endpoint} answered something that is not JSON (is it dws-encryption?)`,
      );
    }
    return parsed as T;
  }

  private kms<T>(action: string, body: Record<string, unknown>): Promise<T> {
    return this.request<T>('POST', `/v1.0/${seg(this.projectId)}/kms/${action}`, body);
  }

  // KMS
  createKey(input: { alias: string; spec?: string; description?: string }) {
    return this.kms<CreateKeyResult>('create-key', {
      key_alias: input.alias,
      key_spec: input.spec ?? 'AES_256',
      ...(input.description !== undefined ? { key_description: input.description } : {}),
    });
  }
  listKeys(filter: { limit?: number; marker?: string; state?: string; spec?: string } = {}) {
    return this.kms<ListKeysResult>('list-keys', {
      ...(filter.limit !== undefined ? { limit: String(filter.limit) } : {}),
      ...(filter.marker ? { marker: filter.marker } : {}),
      ...(filter.state ? { key_state: filter.state } : {}),
      ...(filter.spec ? { key_spec: filter.spec } : {}),
    });
  }
  describeKey(keyId: string) {
    return this.kms<{ key_info: KeyDetails }>('describe-key', { key_id: keyId });
  }
  enableKey(keyId: string) {
    return this.kms<KeyStateResult>('enable-key', { key_id: keyId });
  }
  disableKey(keyId: string) {
    return this.kms<KeyStateResult>('disable-key', { key_id: keyId });
  }
  scheduleKeyDeletion(keyId: string, pendingDays: number) {
    return this.kms<DeletionResult>('schedule-key-deletion', {
      key_id: keyId,
      pending_days: String(pendingDays),
    });
  }
  cancelKeyDeletion(keyId: string) {
    return this.kms<DeletionResult>('cancel-key-deletion', { key_id: keyId });
  }

  // Clusters
  createCluster(cluster: CreateClusterBody['cluster']) {
    return this.request<{ cluster: { id: string } }>('POST', `/v2/${seg(this.projectId)}/clusters`, {
      cluster,
    });
  }
  listClusters() {
    return this.request<{ clusters: ClusterInfo[]; count: number }>(
      'GET',
      `/v1.0/${seg(this.projectId)}/clusters`,
    );
  }
  showCluster(clusterId: string) {
    return this.request<{ cluster: ClusterInfo }>(
      'GET',
      `/v1.0/${seg(this.projectId)}/clusters/${seg(clusterId)}`,
    );
  }
  deleteCluster(clusterId: string) {
    return this.request<Record<string, never>>(
      'DELETE',
      `/v1.0/${seg(this.projectId)}/clusters/${seg(clusterId)}`,
    );
  }

  // Cluster encryption
  encryptInfo(clusterId: string) {
    return this.request<EncryptInfo>(
      'GET',
      `/v1/${seg(this.projectId)}/clusters/${seg(clusterId)}/encrypt-info`,
    );
  }
  encrypt(
    clusterId: string,
    input: { masterKeyId: string; masterKeyName?: string; cryptAlgorithm: CryptAlgorithm },
  ) {
    return this.request<{ job_id: string }>(
      'POST',
      `/v2/${seg(this.projectId)}/clusters/${seg(clusterId)}/encrypt`,
      {
        encrypt: {
          master_key_id: input.masterKeyId,
          ...(input.masterKeyName !== undefined ? { master_key_name: input.masterKeyName } : {}),
          crypt_algorithm: input.cryptAlgorithm,
        },
      },
    );
  }
  rotateKey(clusterId: string, masterKeyId?: string) {
    return this.request<RotateResult>(
      'POST',
      `/v1/${seg(this.projectId)}/clusters/${seg(clusterId)}/rotate-key`,
      masterKeyId !== undefined ? { master_key_id: masterKeyId } : undefined,
    );
  }
  job(jobId: string) {
    return this.request<JobDetail>('GET', `/v1.0/${seg(this.projectId)}/job/${seg(jobId)}`);
  }

  // Audit trail (ours; permission dws:audit:list), newest first
  listAuditEvents(page: { limit?: number; marker?: string } = {}) {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.marker) query.set('marker', page.marker);
    const search = query.toString();
    return this.request<AuditEventList>(
      'GET',
      `/v1/${seg(this.projectId)}/audit-events${search ? `?${search}` : ''}`,
    );
  }

  /**
   * Polls a job until it reaches SUCCESS, FAIL or STOP, calling `onProgress` after every read.
   * Throws `JobTimeoutError` when `timeoutMs` passes first (the job itself goes on).
   */
  async waitForJob(
    jobId: string,
    options: { intervalMs?: number; timeoutMs?: number; onProgress?: (job: JobDetail) => void } = {},
  ): Promise<JobDetail> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const job = await this.job(jobId);
      options.onProgress?.(job);
      if (finalStatuses.has(job.status)) return job;
      if (Date.now() > deadline) throw new JobTimeoutError(job);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
    }
  }
}

/** Waiting for a job took longer than allowed; the job itself goes on. */
export class JobTimeoutError extends Error {
  constructor(readonly job: JobDetail) {
    super(`job ${job.job_id} is still ${job.status} (${job.progress}); it goes on in the service`);
    this.name = 'JobTimeoutError';
  }
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return cause.code;
    if (cause?.message) return cause.message;
    return error.message;
  }
  return String(error);
}
