/**
 * Wires one running instance: configuration → root key → store → services → job runner → HTTP app.
 * `startServer` is what `npm start` runs and what the tests start on an ephemeral port.
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { buildApp } from './api/app.js';
import { Metrics } from './api/ops/metrics.js';
import { type BootstrapCredential, ensureBootstrapCredential, findBootstrapCredential } from './bootstrap.js';
import { type Config, ConfigError } from './config.js';
import { credentialFingerprintKey, parseRootKey } from './crypto/index.js';
import { parseSeedDocument, type SeedDocument, type SeedResult } from './domain/seed.js';
import { JobRunner } from './jobs/runner.js';
import { asWritable, type LogOutput, openLogOutput } from './log-output.js';
import { AuditTrail } from './services/audit.js';
import { ClusterService } from './services/clusters.js';
import { Directory } from './services/directory.js';
import { EmulatorService } from './services/emulator.js';
import { FaultRules } from './services/faults.js';
import { IamService } from './services/iam.js';
import { loadIdentitiesFile } from './services/iam-file.js';
import { KeyService } from './services/kms.js';
import { IamIdentityProvider } from './services/tokens.js';
import { StoreClock } from './store/clock.js';
import { type Database, isPostgresUrl, openDatabase } from './store/database.js';
import { reconcileCredentialVersions } from './store/iam-users.js';
import { releaseLeases } from './store/jobs.js';
import { loadOrCreateRootKeyFile } from './store/root-key-file.js';
import { isStoreBusy, isStoreUnavailable } from './store/unavailable.js';

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  runner: JobRunner;
  bootstrap: BootstrapCredential;
  metrics: Metrics;
  iam: IamService;
  /** Standard output of the log, when the server made its own logger (drained before an exit). */
  logOutput: LogOutput | undefined;
  /** Reset, snapshots, seeding, fault rules and finishing jobs now (what /_dws/ serves). */
  emulator: EmulatorService;
  /** What DWS_SEED_FILE created at this start, if it was set. */
  seeded?: SeedResult;
  /** `http://host:port` actually bound. */
  url: string;
  close(): Promise<void>;
}

/** How often start-up work that the store refused (a full disk) is retried. */
export const STARTUP_RETRY_MS = 2_000;

export interface StartOptions {
  logger?: Logger | false;
  now?: () => number;
  /** Fault tests: runs once the store is open, before anything is written (e.g. to make it refuse writes). */
  afterStoreOpen?: (database: Database) => Promise<void>;
}

/**
 * JSON lines (one object per line) for machines; human-readable lines (pino-pretty) when stdout is a
 * terminal. LOG_FORMAT=json|pretty forces either.
 */
export function createLogger(
  config: Config,
  // isatty, not process.stdout.isTTY: creating process.stdout would make a piped stdout blocking again.
  isTTY: boolean = isatty(1),
  /** JSON lines go here instead of stdout (tests capture the log this way). */
  destination?: pino.DestinationStream,
  /** Standard output, written without blocking (see src/log-output.ts). */
  output: LogOutput = openLogOutput(1, config.logBufferBytes),
): Logger {
  const readable = config.logFormat === 'pretty' || (config.logFormat === undefined && isTTY);
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    // Secrets never reach the log, whatever a caller sends.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-auth-token"]',
        'req.headers.cookie',
        'res.headers["x-subject-token"]',
        'headers.authorization',
        'headers["x-auth-token"]',
        'headers["x-subject-token"]',
        'password',
        'db_password',
        'sk',
        'secret',
        'secretKey',
        'token',
        '*.password',
        '*.db_password',
        '*.sk',
        '*.secret',
        '*.secretKey',
        '*.token',
        '*.headers.authorization',
        '*.headers["x-auth-token"]',
        '*.headers["x-subject-token"]',
      ],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination);
  if (!readable) return pino(options, output);
  return pino(
    options,
    pretty({
      destination: asWritable(output),
      colorize: isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      singleLine: true,
      // The request line reads `request POST /v1.0/:project_id/kms/create-key 200 5.97ms {reqId, caller}`.
      messageFormat: '{msg}{if method} {method} {route} {status} {ms}ms{end}',
      ignore: 'pid,hostname,method,route,status,ms',
    }),
  );
}

/**
 * DWS_BENCH_ABLATE=store: encrypt-info answers the first row it read, whatever the cluster asked for,
 * so the store's share of the hot read can be measured.
 */
function answerEncryptInfoFromConstant(clusters: ClusterService): void {
  const read = clusters.encryptInfo.bind(clusters);
  let first: Awaited<ReturnType<ClusterService['encryptInfo']>> | undefined;
  clusters.encryptInfo = async (actor, clusterId) => {
    first ??= await read(actor, clusterId);
    return first;
  };
}

/** The seed document of DWS_SEED_FILE, checked (a bad file stops the start, naming the field). */
function readSeedFile(path: string): SeedDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`DWS_SEED_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`DWS_SEED_FILE ${path} is not valid JSON`);
  }
  return parseSeedDocument(value);
}

export function loadRootKey(config: Config, postgres: boolean): Buffer {
  if (config.rootKey) return parseRootKey(config.rootKey);
  if (postgres) {
    throw new Error(
      'DWS_ROOT_KEY is required with PostgreSQL: every instance must share the same root key (32 bytes, base64).',
    );
  }
  return loadOrCreateRootKeyFile(config.dataDir).key;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const output = options.logger === undefined ? openLogOutput(1, config.logBufferBytes) : undefined;
  const logger = output ? createLogger(config, isatty(1), undefined, output) : (options.logger ?? false);
  // Time by the store's clock (see src/store/clock.ts) unless a test passes its own; set once the store is open.
  let clockNow: () => number = options.now ?? Date.now;
  const now = () => clockNow();
  // Read before the store is opened: a bad identities file stops the start with a ConfigError (exit 2).
  // The declaration (with the file's secrets) lives only until the directory is built from it.
  const identitiesSpec = config.iamFile
    ? loadIdentitiesFile(config.iamFile, (message) => {
        if (logger) logger.warn(message);
      })
    : undefined;
  const postgres = isPostgresUrl(config.databaseUrl);
  const rootKey = loadRootKey(config, postgres);
  const directory = new Directory(identitiesSpec, { fingerprintKey: credentialFingerprintKey(rootKey) });
  const database = await openDatabase({
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    sqliteRowCache: config.sqliteRowCache,
    statementTimeoutMs: config.dbStatementTimeoutSeconds * 1000,
    lockTimeoutMs: config.dbLockTimeoutSeconds * 1000,
    callTimeoutMs: config.storeCallTimeoutSeconds * 1000,
    readReserve: config.dbReadReserve,
    onConnectionError: (error) => {
      // Message and code only: the error's other fields include the pg client and its cancel key.
      const { code } = error as { code?: unknown };
      if (logger) logger.warn({ error: error.message, code }, 'database connection lost');
    },
  });
  if (options.afterStoreOpen) await options.afterStoreOpen(database);
  const clock = options.now ? undefined : await StoreClock.start(database);
  if (clock) clockNow = clock.now;
  // Tokens die with the credential state they were issued from: each user's version moves on when its
  // password or access keys changed, or when it is declared again after an absence (src/store/iam-users.ts).
  directory.applyCredentialVersions(
    await database.transaction((trx) => reconcileCredentialVersions(trx, directory.declaredUsers(), now())),
  );
  const metrics = new Metrics(output ? { logLinesDropped: () => output.dropped } : {});
  const keys = new KeyService(database, rootKey, now, config.quotas.keys);
  const clusters = new ClusterService(
    database,
    keys,
    rootKey,
    {
      encryptJobMs: config.encryptJobSeconds * 1000,
      clusterCreateMs: config.clusterCreateSeconds * 1000,
      clusterDeleteMs: config.clusterDeleteSeconds * 1000,
      maxActiveJobs: config.maxActiveJobs,
      quotas: config.quotas,
    },
    now,
  );
  if (config.benchAblations.size > 0) {
    if (logger)
      logger.warn({ off: [...config.benchAblations] }, 'benchmark ablation switches on (DWS_BENCH_ABLATE)');
    if (config.benchAblations.has('store')) answerEncryptInfoFromConstant(clusters);
  }
  // A credential from the environment or stored by an earlier start; a new one is generated only once
  // the server listens (below), so a start that fails never leaves a secret nobody was shown.
  const known = await findBootstrapCredential(database, rootKey, config);
  const iamOptions = {
    tokenTtlMs: config.tokenTtlSeconds * 1000,
    lockout: {
      maxFailures: config.loginMaxFailures,
      windowMs: config.loginFailureWindowMinutes * 60_000,
      lockMs: config.loginLockoutMinutes * 60_000,
    },
    now,
  };
  const identities = new IamIdentityProvider(database, directory, iamOptions);
  const admitBootstrap = (bootstrap: BootstrapCredential) => {
    // The operator's credential works with or without an identities file: its own account and project, every action.
    identities.addAccessKey(bootstrap.accessKey, {
      secret: bootstrap.secretKey,
      principal: {
        domainId: bootstrap.domainId,
        userName: bootstrap.userName,
        projectIds: new Set([bootstrap.projectId]),
        policy: { allow: ['*'] },
      },
    });
  };
  if (known) {
    if (identities.findAccessKey(known.accessKey)) {
      await database.close();
      throw new ConfigError(
        `DWS_IAM_FILE declares the access key ${known.accessKey}, which is the bootstrap credential's`,
      );
    }
    admitBootstrap(known);
  }
  const iam = new IamService(database, directory, iamOptions);
  if (logger && config.iamFile) {
    logger.info(
      { file: config.iamFile, accounts: directory.accountCount, users: directory.userCount },
      'identities loaded',
    );
  }

  const runner = new JobRunner(
    database,
    { clusters, keys, now },
    {
      leaseMs: config.jobLeaseSeconds * 1000,
      pollMs: config.jobPollMs,
      maxConcurrent: config.maxConcurrentJobs,
      now,
      onError: (error, job) => {
        if (isStoreUnavailable(error)) metrics.storeError('job');
        if (logger) logger.error({ err: error, jobId: job?.id }, 'job runner error');
      },
      onJobFinished: (job, status, durationMs) => metrics.observeJob(job.name, status, durationMs),
    },
  );
  // One process owns an SQLite file: leases left by a previous (crashed) process are stale at once. If the
  // store cannot be written now (a full disk after a crash), the instance starts anyway and serves reads,
  // reports not ready, and retries the clean-up until it succeeds.
  let notReady: string | undefined;
  let cleanupRetry: NodeJS.Timeout | undefined;
  if (!postgres) {
    const clearStaleLeases = () =>
      database.db
        .updateTable('jobs')
        .set({ lease_owner: null, lease_expires_at: null })
        .where('lease_owner', 'is not', null)
        .execute();
    try {
      await clearStaleLeases();
    } catch (error) {
      if (!isStoreUnavailable(error) && !isStoreBusy(error)) throw error;
      notReady = 'stale job leases of the previous process not cleared yet (the store cannot be written)';
      if (logger)
        logger.warn(
          { error: (error as Error).message, retryMs: STARTUP_RETRY_MS },
          'store not writable at start: serving reads, not ready; retrying the clean-up',
        );
      cleanupRetry = setInterval(() => {
        clearStaleLeases().then(
          () => {
            clearInterval(cleanupRetry);
            notReady = undefined;
            if (logger) logger.info('stale job leases cleared: ready');
          },
          () => {},
        );
      }, STARTUP_RETRY_MS);
      cleanupRetry.unref();
    }
  }

  let bootstrap = known;
  const emulator = new EmulatorService({
    database,
    rootKey,
    keys,
    clusters,
    faults: new FaultRules(),
    onStateReplaced: () => {
      identities.cache.clear();
      iam.clearLockouts();
    },
    pollJobs: () => runner.poll(),
    domainOf: (projectId) =>
      projectId === bootstrap?.projectId
        ? bootstrap.domainId
        : (directory.domainOfProject(projectId) ?? bootstrap?.domainId ?? ''),
    now,
  });

  const app = await buildApp({
    notReady: () => notReady,
    clusters,
    keys,
    identities,
    iam,
    audit: new AuditTrail(database),
    logger: logger,
    bodyLimitBytes: config.bodyLimitBytes,
    signatureWindowMs: config.signatureWindowSeconds * 1000,
    now,
    ...(clock && database.dialect === 'postgres'
      ? { claimDeadline: () => clock.now() + config.storeCallTimeoutSeconds * 1000 }
      : {}),
    database,
    metrics,
    metricsToken: config.metricsToken,
    ablations: config.benchAblations,
    emulator: { service: emulator, api: config.emulatorApi },
    signatureDebug: config.signatureDebug,
    rateLimit: { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
    region: config.region,
    httpLimits: {
      maxHeaderBytes: config.maxHeaderBytes,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      keepAliveTimeoutMs: config.keepAliveTimeoutSeconds * 1000,
      connectionTimeoutMs: config.connectionTimeoutSeconds * 1000,
    },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  if (!bootstrap) {
    // First start: generated now that the port is ours (another instance may have just done it).
    try {
      bootstrap = await ensureBootstrapCredential(database, rootKey, config);
    } catch (error) {
      await app.close();
      await database.close();
      throw error;
    }
    admitBootstrap(bootstrap);
  }
  let seeded: SeedResult | undefined;
  if (config.seedFile) {
    try {
      seeded = await emulator.seed(readSeedFile(config.seedFile), bootstrap.projectId);
    } catch (error) {
      await app.close();
      await database.close();
      if (error instanceof ConfigError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`DWS_SEED_FILE ${config.seedFile}: ${reason}`);
    }
    if (logger) logger.info({ file: config.seedFile, ...seeded }, 'seeded');
  }
  runner.start();

  let closed = false;
  return {
    app,
    database,
    runner,
    bootstrap,
    metrics,
    iam,
    logOutput: output,
    emulator,
    ...(seeded ? { seeded } : {}),
    url: address,
    /**
     * Graceful stop: no new connections; in-flight requests finish (requests arriving meanwhile on open
     * connections answer 503 SHUTTING_DOWN); running jobs stop at their next checkpoint and hand their
     * leases back, so the next start (or another instance) resumes them; then the store closes. Connections
     * still busy after most of DWS_SHUTDOWN_TIMEOUT_SECONDS are cut so that close() itself is bounded.
     */
    async close() {
      if (closed) return;
      closed = true;
      const graceMs = Math.max(500, config.shutdownTimeoutSeconds * 1000 - 1_000);
      const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
      force.unref();
      try {
        await Promise.all([app.close(), runner.stop()]);
      } finally {
        clearTimeout(force);
      }
      await releaseLeases(database.db, runner.owner, now()).catch(() => {});
      clock?.stop();
      clearInterval(cleanupRetry);
      await database.close();
    },
  };
}
