/**
 * Test helpers: start a real service on an ephemeral port with its own temporary data directory, and
 * call it with requests signed by the official Huawei Cloud signer (the ground truth).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import type { Logger } from 'pino';
import { type Config, loadConfig } from '../../src/config.js';
import { type RunningServer, type StartOptions, startServer } from '../../src/server.js';
import { prepareStore, type Store, type TestDatabase } from './stores.js';

export interface TestServer {
  server: RunningServer;
  baseUrl: string;
  ak: string;
  sk: string;
  projectId: string;
  dataDir: string;
  config: Config;
  store: Store;
  /** The PostgreSQL database (store 'postgres'), with the root key its instances share. */
  database?: TestDatabase;
  /** Signed request as the bootstrap user. */
  call: (method: string, path: string, body?: unknown, options?: CallOptions) => Promise<ApiResponse>;
  /** Signed request with another access key (a user of the identities file). */
  callAs: (
    credentials: { ak: string; sk: string },
    method: string,
    path: string,
    body?: unknown,
    options?: CallOptions,
  ) => Promise<ApiResponse>;
  /** Stops the server; keeps the data directory (and PostgreSQL database) unless `removeData` is set. */
  close: (options?: { removeData?: boolean }) => Promise<void>;
}

export interface CallOptions {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  ak?: string;
  sk?: string;
  /** Send this exact text as the body instead of JSON.stringify(body) (for malformed-body tests). */
  rawBody?: string;
  /** Aborts the request (the client disconnects). */
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
  text: string;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  dataDir?: string;
  /** `sqlite` (default; TEST_STORE=postgres changes it) or `postgres`: a database of its own (see stores.ts). */
  store?: Store;
  /** Run on this PostgreSQL database, shared with other servers; the caller drops it. */
  database?: TestDatabase;
  /** An identities file (DWS_IAM_FILE): an object is written as JSON, a string as it is. */
  iamFile?: unknown;
  /** The service's logger (default none). */
  logger?: Logger | false;
  /** The service's clock (default Date.now). */
  now?: () => number;
  /** Runs once the store is open, before the service writes anything (fault tests). */
  afterStoreOpen?: StartOptions['afterStoreOpen'];
}

export const TEST_PROJECT_ID = '0123456789abcdef0123456789abcdef';

/**
 * Project quotas far above the defaults (20 keys, 256 nodes, 100 unfinished jobs): test files create
 * many keys and clusters in one project. The rate limit keeps its default (1000/s, burst 2000).
 * Quota tests set their own values.
 */
export const TEST_QUOTA_ENV: Record<string, string> = {
  DWS_QUOTA_KEYS: '100000',
  DWS_QUOTA_NODES: '10000000',
  DWS_QUOTA_ACTIVE_JOBS: '100000',
};
export const TEST_AK = 'TESTAKEXAMPLE0000001';
export const TEST_SK = 'test-secret-key-for-dws-encryption-tests';

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dws-test-'));
  const prepared = await prepareStore(dataDir, options);
  const iamEnv: Record<string, string> = {};
  if (options.iamFile !== undefined) {
    const file = join(dataDir, 'identities.json');
    const text = typeof options.iamFile === 'string' ? options.iamFile : JSON.stringify(options.iamFile);
    writeFileSync(file, text, { mode: 0o600 });
    iamEnv.DWS_IAM_FILE = file;
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DWS_BOOTSTRAP_AK: TEST_AK,
    DWS_BOOTSTRAP_SK: TEST_SK,
    DWS_BOOTSTRAP_PROJECT_ID: TEST_PROJECT_ID,
    DWS_ENCRYPT_JOB_SECONDS: '0.3',
    DWS_JOB_POLL_MS: '20',
    LOG_LEVEL: 'silent',
    ...TEST_QUOTA_ENV,
    ...prepared.env,
    ...iamEnv,
    ...options.env,
  });
  const server = await startServer(config, {
    logger: options.logger ?? false,
    ...(options.now ? { now: options.now } : {}),
    ...(options.afterStoreOpen ? { afterStoreOpen: options.afterStoreOpen } : {}),
  });
  const baseUrl = server.url;
  const call = (method: string, path: string, body?: unknown, callOptions: CallOptions = {}) =>
    signedCall(baseUrl, method, path, body, {
      ...callOptions,
      ak: callOptions.ak ?? TEST_AK,
      sk: callOptions.sk ?? TEST_SK,
    });
  const callAs: TestServer['callAs'] = (credentials, method, path, body, callOptions = {}) =>
    signedCall(baseUrl, method, path, body, { ...callOptions, ak: credentials.ak, sk: credentials.sk });
  return {
    server,
    baseUrl,
    ak: TEST_AK,
    sk: TEST_SK,
    projectId: config.bootstrap.projectId ?? TEST_PROJECT_ID,
    dataDir,
    config,
    store: prepared.store,
    ...(prepared.database ? { database: prepared.database } : {}),
    call,
    callAs,
    async close(closeOptions = {}) {
      await server.close();
      if (closeOptions.removeData) {
        rmSync(dataDir, { recursive: true, force: true });
        await prepared.release();
      }
    },
  };
}

/** Signs with the official AKSKSigner exactly as the SDK's HTTP client does, then sends with fetch. */
export async function signedCall(
  baseUrl: string,
  method: string,
  path: string,
  body: unknown,
  options: CallOptions & { ak: string; sk: string },
): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  const text = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (
    options.rawBody !== undefined &&
    !Object.keys(headers).some((h) => h.toLowerCase() === 'x-sdk-content-sha256')
  ) {
    // The official signer hashes JSON.stringify(data); for bytes that are not a JSON document the
    // contract's X-Sdk-Content-Sha256 header carries the real body hash instead.
    headers['X-Sdk-Content-Sha256'] = createHash('sha256').update(options.rawBody).digest('hex');
  }
  const request = {
    endpoint: `${baseUrl}${path}`,
    method,
    headers: { ...headers },
    queryParams: { ...(options.query ?? {}) },
    // The official signer hashes JSON.stringify(data), which is exactly the text sent for a JSON body.
    data: options.rawBody === undefined ? body : undefined,
  };
  const credential = new BasicCredentials().withAk(options.ak).withSk(options.sk);
  const authHeaders = AKSKSigner.sign(request, credential) as Record<string, string>;
  const query = new URLSearchParams(options.query ?? {}).toString();
  const response = await fetch(`${baseUrl}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: { ...request.headers, ...authHeaders },
    ...(text !== undefined ? { body: text } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const responseText = await response.text();
  let parsed: unknown;
  try {
    parsed = responseText ? JSON.parse(responseText) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, headers: response.headers, text: responseText };
}

/** A minimal valid create-cluster body (the v2 API's required fields). */
export function clusterBody(
  name: string,
  extra: Record<string, unknown> = {},
): { cluster: Record<string, unknown> } {
  return {
    cluster: {
      name,
      flavor: 'dwsk2.xlarge',
      num_node: 3,
      num_cn: 3,
      db_name: 'dbadmin',
      db_password: 'Secret!Passw0rd',
      availability_zones: ['cn-north-4a'],
      vpc_id: '85b20d7e-9eb7-4b2a-98f3-3c8843ea3574',
      subnet_id: 'a9b2d2e1-1b4c-4b8b-9b5e-8f2b2e1c2d3e',
      security_group_id: 'dc3ec145-9029-4b39-b5a3-ace5a01f772b',
      datastore_version: '9.1.0',
      volume: { volume: 'SSD', capacity: 300 },
      ...extra,
    },
  };
}

/** Polls a job until it reaches a final status. */
export async function waitForJob(
  ts: Pick<TestServer, 'call' | 'projectId'>,
  jobId: string,
  timeoutMs = 120_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await ts.call('GET', `/v1.0/${ts.projectId}/job/${jobId}`);
    if (res.status !== 200) throw new Error(`job read failed: ${res.status} ${res.text}`);
    if (['SUCCESS', 'FAIL', 'STOP'].includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
