/**
 * `dws-encryption/testing`: the service in-process for a user's own tests (node:test, vitest, jest).
 *
 *   const dws = await startDws();            // free port, in-memory store, fresh credentials
 *   ... point the official SDK at dws.endpoint with dws.ak / dws.sk / dws.projectId ...
 *   await dws.close();
 *
 * Every instance has its own store, root key, credential and fault rules: two instances in one process
 * share nothing. See docs/testing.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config.js';
import type { FaultRule, FaultRuleInput } from '../domain/faults.js';
import { parseFaultRule } from '../domain/faults.js';
import { parseSeedDocument, type SeedResult } from '../domain/seed.js';
import { createLogger, startServer } from '../server.js';
import type { StateSnapshot } from '../services/emulator.js';

export type { FaultRule, FaultRuleInput, JobFault } from '../domain/faults.js';
export type { SeedCluster, SeedDocument, SeedKey, SeedResult } from '../domain/seed.js';
export type { StateSnapshot } from '../services/emulator.js';

/** A seed document as written by a user (defaults filled in by the service). */
export interface SeedInput {
  project_id?: string;
  keys?: { alias: string; spec?: 'AES_256' | 'SM4'; state?: 'enabled' | 'disabled' | 'pending_deletion' }[];
  clusters?: {
    name: string;
    datastore_version?: string;
    guest_agent_version?: string;
    encryption?: {
      key: string;
      crypt_algorithm?: 'generalCipher' | 'SMcompatible';
      last_rotate_key_time?: string;
    };
  }[];
}

export interface StartDwsOptions {
  /** Port to listen on (default 0: a free port). */
  port?: number;
  /** `'memory'` (default), an SQLite file path, or a `postgres://` URL (then `rootKey` is required). */
  store?: string;
  /** How long an encryption conversion takes (default 1 s; `completeJobs()` finishes them at once). */
  jobSeconds?: number;
  /** An identities file (DWS_IAM_FILE): its path, or its content as an object. */
  identities?: string | Record<string, unknown>;
  /** A seed document applied at start; its ids are in `seeded`. */
  seed?: SeedInput;
  /** The root key (base64 of 32 bytes; default: a fresh one, or the key file beside an SQLite file). */
  rootKey?: string;
  /** Service log level (default 'silent'; 'debug' shows each request with its body). */
  logLevel?: string;
  /** More service environment variables (DWS_*), applied last. */
  env?: Record<string, string>;
}

export interface DwsFaults {
  /** Adds a rule (docs/testing.md lists the fields); answers it with its id. */
  add(rule: FaultRuleInput): FaultRule;
  list(): FaultRule[];
  remove(id: string): boolean;
  clear(): void;
}

export interface Dws {
  /** `http://127.0.0.1:<port>`: the endpoint for the SDK and every API path. */
  endpoint: string;
  ak: string;
  sk: string;
  projectId: string;
  /** What the `seed` option created, by name. */
  seeded: SeedResult | undefined;
  /** Empties the state (all projects, or one); a full reset also clears the fault rules. */
  reset(projectId?: string): Promise<void>;
  /** Creates the keys and clusters of a seed document; answers their ids by name. */
  seed(doc: SeedInput): Promise<SeedResult>;
  faults: DwsFaults;
  /** Finishes every unfinished job now (a job fault still fails its job). */
  completeJobs(): Promise<{ jobs: { job_id: string; status: string }[] }>;
  exportState(): Promise<StateSnapshot>;
  importState(snapshot: StateSnapshot): Promise<void>;
  close(): Promise<void>;
}

function storeEnv(store: string, options: StartDwsOptions): Record<string, string> {
  if (store === 'memory') {
    return {
      DATABASE_URL: 'sqlite::memory:',
      DWS_ROOT_KEY: options.rootKey ?? randomBytes(32).toString('base64'),
    };
  }
  if (/^postgres(ql)?:\/\//i.test(store)) {
    if (!options.rootKey)
      throw new Error('startDws: a postgres:// store needs the rootKey option (DWS_ROOT_KEY)');
    return { DATABASE_URL: store, DWS_ROOT_KEY: options.rootKey };
  }
  const path = resolve(store.startsWith('sqlite:') ? store.slice('sqlite:'.length) : store);
  return {
    DATABASE_URL: `sqlite:${path}`,
    DATA_DIR: dirname(path),
    ...(options.rootKey ? { DWS_ROOT_KEY: options.rootKey } : {}),
  };
}

/** Starts the service in this process; resolves once it answers on its port. */
export async function startDws(options: StartDwsOptions = {}): Promise<Dws> {
  const store = options.store ?? 'memory';
  let identitiesDir: string | undefined;
  let iamFile: string | undefined;
  if (typeof options.identities === 'string') {
    iamFile = options.identities;
  } else if (options.identities !== undefined) {
    identitiesDir = mkdtempSync(join(tmpdir(), 'dws-identities-'));
    iamFile = join(identitiesDir, 'identities.json');
    writeFileSync(iamFile, JSON.stringify(options.identities), { mode: 0o600 });
  }
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DWS_ENCRYPT_JOB_SECONDS: String(options.jobSeconds ?? 1),
    DWS_JOB_POLL_MS: '50',
    DWS_SHUTDOWN_TIMEOUT_SECONDS: '5',
    LOG_LEVEL: options.logLevel ?? 'silent',
    LOG_FORMAT: 'json',
    ...storeEnv(store, options),
    ...(iamFile ? { DWS_IAM_FILE: iamFile } : {}),
    ...options.env,
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, {
      logger: config.logLevel === 'silent' ? false : createLogger(config, false),
    });
  } finally {
    // The identities are in memory now; the file held their secrets.
    if (identitiesDir) rmSync(identitiesDir, { recursive: true, force: true });
  }
  const { emulator, bootstrap } = server;
  // DWS_SEED_FILE (in `env`) seeds at start; the `seed` option after it.
  let seeded: SeedResult | undefined = server.seeded;
  if (options.seed) {
    try {
      seeded = await emulator.seed(parseSeedDocument(options.seed), bootstrap.projectId);
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  return {
    endpoint: server.url,
    ak: bootstrap.accessKey,
    sk: bootstrap.secretKey,
    projectId: bootstrap.projectId,
    seeded,
    reset: (projectId) => emulator.reset(projectId),
    seed: (doc) => emulator.seed(parseSeedDocument(doc), bootstrap.projectId),
    faults: {
      add: (rule) => emulator.faults.add(parseFaultRule(rule, emulator.faults.operations)),
      list: () => emulator.faults.list(),
      remove: (id) => emulator.faults.remove(id),
      clear: () => emulator.faults.clear(),
    },
    completeJobs: () => emulator.completeJobs(),
    exportState: () => emulator.exportState(),
    importState: async (snapshot) => {
      await emulator.importState(snapshot);
    },
    close: () => server.close(),
  };
}
