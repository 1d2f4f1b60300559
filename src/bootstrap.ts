/**
 * The bootstrap credential: the one access key that works without an identities file. It comes from
 * DWS_BOOTSTRAP_AK/SK/PROJECT_ID or, when those are unset, is generated on first start — only once the
 * server is listening, so that a start that fails (a port in use) never leaves a credential nobody saw —
 * stored (secret sealed under the root key) and shown once: on a terminal, printed; otherwise written to
 * a 0600 file in DATA_DIR whose path is logged (the secret never goes into a log collector).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import type { Config } from './config.js';
import { openWithRootKey, sealWithRootKey } from './crypto/index.js';
import {
  findCredential,
  insertCredential,
  listCredentials,
  lockCredentials,
  updateCredentialSecret,
} from './store/credentials.js';
import type { Database, Db } from './store/database.js';

export interface BootstrapCredential {
  accessKey: string;
  secretKey: string;
  projectId: string;
  domainId: string;
  userName: string;
  /** True when this start generated it (the only time the secret is printed). */
  generated: boolean;
}

const USER = 'bootstrap';

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A new secret key: 40 characters of base64url (240 random bits). */
function newSecretKey(): string {
  return randomBytes(30).toString('base64url');
}

function randomAccessKey(): string {
  // Access keys look like the cloud's: 20 upper-case letters and digits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(20), (b) => alphabet[b % alphabet.length]).join('');
}

/** The credential, generated and stored when there is none yet (under the bootstrap lock). */
export async function ensureBootstrapCredential(
  database: Database,
  rootKey: Buffer,
  config: Config,
): Promise<BootstrapCredential> {
  return (await inBootstrapLock(database, (db) => ensureIn(db, rootKey, config, true)))!;
}

/** The credential from the environment or stored by an earlier start; undefined before the first. */
export function findBootstrapCredential(
  database: Database,
  rootKey: Buffer,
  config: Config,
): Promise<BootstrapCredential | undefined> {
  return inBootstrapLock(database, (db) => ensureIn(db, rootKey, config, false));
}

function inBootstrapLock<T>(database: Database, fn: (db: Db) => Promise<T>): Promise<T> {
  // Instances starting together on one database must agree on one credential: the check and the insert
  // run in one transaction that holds the bootstrap lock (PostgreSQL advisory lock; SQLite's write lock).
  return database.transaction(async (db) => {
    await lockCredentials(db, database.dialect);
    return fn(db);
  });
}

async function ensureIn(
  db: Db,
  rootKey: Buffer,
  config: Config,
  generate: boolean,
): Promise<BootstrapCredential | undefined> {
  const { ak, sk, projectId } = config.bootstrap;
  if (ak && sk) {
    // From the environment: the environment wins; the stored row records project and account.
    const existing = await findCredential(db, ak);
    const project = projectId ?? existing?.project_id ?? randomHex(16);
    const domainId = existing?.domain_id ?? randomHex(16);
    if (!existing) {
      await insertCredential(db, {
        access_key: ak,
        secret_sealed: sealWithRootKey(rootKey, Buffer.from(sk), `credential:${ak}`).toString('base64'),
        domain_id: domainId,
        project_id: project,
        user_name: USER,
        created_at: Date.now(),
      });
    }
    return { accessKey: ak, secretKey: sk, projectId: project, domainId, userName: USER, generated: false };
  }
  const [stored] = await listCredentials(db);
  if (stored) {
    const secret = openWithRootKey(
      rootKey,
      Buffer.from(stored.secret_sealed, 'base64'),
      `credential:${stored.access_key}`,
    ).toString();
    return {
      accessKey: stored.access_key,
      secretKey: secret,
      projectId: stored.project_id,
      domainId: stored.domain_id,
      userName: stored.user_name,
      generated: false,
    };
  }
  if (!generate) return undefined;
  const generated = {
    accessKey: randomAccessKey(),
    secretKey: newSecretKey(),
    projectId: projectId ?? randomHex(16),
    domainId: randomHex(16),
    userName: USER,
    generated: true,
  };
  await insertCredential(db, {
    access_key: generated.accessKey,
    secret_sealed: sealWithRootKey(
      rootKey,
      Buffer.from(generated.secretKey),
      `credential:${generated.accessKey}`,
    ).toString('base64'),
    domain_id: generated.domainId,
    project_id: generated.projectId,
    user_name: USER,
    created_at: Date.now(),
  });
  return generated;
}

/**
 * `dws-encryption credentials reset`: gives the stored (generated) bootstrap credential a new secret and
 * returns it — the way back in when the generated secret was lost. Whoever can run it can read DATA_DIR
 * (SQLite, the root key file) or holds DATABASE_URL and DWS_ROOT_KEY (PostgreSQL). Instances already
 * running keep the old secret until they restart.
 */
export async function resetBootstrapSecret(
  database: Database,
  rootKey: Buffer,
  config: Config,
): Promise<BootstrapCredential> {
  if (config.bootstrap.ak) {
    throw new Error(
      'the bootstrap credential comes from DWS_BOOTSTRAP_AK/DWS_BOOTSTRAP_SK: change those instead',
    );
  }
  return inBootstrapLock(database, async (db) => {
    const [stored] = await listCredentials(db);
    if (!stored) throw new Error('no bootstrap credential is stored yet: start the service once');
    const secretKey = newSecretKey();
    const sealed = sealWithRootKey(rootKey, Buffer.from(secretKey), `credential:${stored.access_key}`);
    await updateCredentialSecret(db, stored.access_key, sealed.toString('base64'));
    return {
      accessKey: stored.access_key,
      secretKey,
      projectId: stored.project_id,
      domainId: stored.domain_id,
      userName: stored.user_name,
      generated: true,
    };
  });
}

/** Where a generated credential is written when standard output is not a terminal. */
export function bootstrapCredentialFile(dataDir: string): string {
  return join(dataDir, 'bootstrap-credential.txt');
}

/**
 * Shows a just-generated credential once: printed on a terminal; otherwise written to a 0600 file in
 * DATA_DIR (never to a log, which may feed a collector) and the file's path logged.
 */
export function announceBootstrapCredential(
  credential: BootstrapCredential,
  endpoint: string,
  dataDir: string,
  log: { warn(fields: object, message: string): void },
  terminal: boolean = isatty(1),
): void {
  const lines = [
    `export HUAWEICLOUD_SDK_AK=${credential.accessKey}`,
    `export HUAWEICLOUD_SDK_SK=${credential.secretKey}`,
    `export HUAWEICLOUD_SDK_PROJECT_ID=${credential.projectId}`,
    `export DWS_ENDPOINT=${endpoint}`,
  ];
  if (terminal) {
    process.stdout.write(
      [
        '',
        'A bootstrap credential was generated (shown only this once; keep it):',
        ...lines.map((line) => `  ${line}`),
        'Try: GET /v1/$HUAWEICLOUD_SDK_PROJECT_ID/clusters/<cluster_id>/encrypt-info, signed with SDK-HMAC-SHA256 (see README),',
        'or, in another terminal with these variables: npx dws-encryption demo',
        '',
        '',
      ].join('\n'),
    );
    return;
  }
  const file = bootstrapCredentialFile(dataDir);
  mkdirSync(dataDir, { recursive: true });
  rmSync(file, { force: true });
  writeFileSync(
    file,
    `# dws-encryption bootstrap credential (generated once; keep it, then delete this file)\n${lines.join('\n')}\n`,
    {
      mode: 0o600,
      flag: 'wx',
    },
  );
  log.warn(
    { file, accessKey: credential.accessKey, projectId: credential.projectId },
    'bootstrap credential generated: its secret is in this file (mode 0600); keep it, then delete the file',
  );
}
