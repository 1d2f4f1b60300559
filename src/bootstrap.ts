/**
 * The bootstrap credential: the one access key that works without an identities file. It comes from
 * DWS_BOOTSTRAP_AK/SK/PROJECT_ID or, when those are unset, is generated on first start, stored (secret
 * sealed under the root key) and printed once.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import { openWithRootKey, sealWithRootKey } from './crypto/index.js';
import { findCredential, insertCredential, listCredentials, lockCredentials } from './store/credentials.js';
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

function randomAccessKey(): string {
  // Access keys look like the cloud's: 20 upper-case letters and digits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(20), (b) => alphabet[b % alphabet.length]).join('');
}

export async function ensureBootstrapCredential(
  database: Database,
  rootKey: Buffer,
  config: Config,
): Promise<BootstrapCredential> {
  // Instances starting together on one database must agree on one credential: the check and the insert
  // run in one transaction that holds the bootstrap lock (PostgreSQL advisory lock; SQLite's write lock).
  return database.transaction(async (db) => {
    await lockCredentials(db, database.dialect);
    return ensureIn(db, rootKey, config);
  });
}

async function ensureIn(db: Db, rootKey: Buffer, config: Config): Promise<BootstrapCredential> {
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
  const generated = {
    accessKey: randomAccessKey(),
    secretKey: randomBytes(30).toString('base64url'),
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
