/**
 * The KMS: customer master keys (material sealed under the root key) and data-key operations.
 * Cluster operations load a master key with `masterKeyForCluster` and call `wrap`/`unwrap` inside their
 * own transactions, so that a key's state is checked and used atomically with the cluster change.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  CryptoError,
  generateDataKey,
  generateKeyMaterial,
  openWithRootKey,
  sealWithRootKey,
  unwrapDataKey,
  wrapDataKey,
} from '../crypto/index.js';
import { Errors, ServiceError } from '../domain/errors.js';
import {
  type DataKeySpec,
  dataKeyBits,
  isKeySpec,
  isValidAlias,
  type KeyAction,
  type KeySpec,
  KeyState,
  keyTransition,
} from '../domain/keys.js';
import { DEFAULT_PROJECT_QUOTAS } from '../domain/quotas.js';
import { countClustersUsingKey } from '../store/clusters.js';
import type { Database, Db } from '../store/database.js';
import { countActiveJobsUsingKey } from '../store/jobs.js';
import {
  countQuotaKeys,
  findKey,
  findKeyByAlias,
  insertKey,
  type KeyListFilter,
  listKeys,
  updateKeyState,
} from '../store/keys.js';
import type { KmsKeyRow } from '../store/schema.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CreateKeyInput {
  alias: string;
  spec: KeySpec;
  usage?: string;
  description?: string;
  origin?: string;
}

export interface KeyPage {
  keys: KmsKeyRow[];
  nextMarker: string | null;
  truncated: boolean;
  total: number;
}

export interface DataKeyResult {
  keyId: string;
  plaintext: Buffer;
  ciphertext: Buffer;
}

/** Digest appended to plain_text in encrypt-datakey: SHA-256 for AES keys, SM3 for SM4 keys. */
export function dataKeyDigest(spec: string, dataKey: Buffer): Buffer {
  return createHash(spec === 'SM4' ? 'sm3' : 'sha256')
    .update(dataKey)
    .digest();
}

export class KeyService {
  constructor(
    private readonly database: Database,
    private readonly rootKey: Buffer,
    private readonly now: () => number = Date.now,
    /** Keys a project may hold (DWS_QUOTA_KEYS). */
    private readonly keyQuota: number = DEFAULT_PROJECT_QUOTAS.keys,
  ) {}

  async createKey(actor: Actor, input: CreateKeyInput): Promise<KmsKeyRow> {
    if (!isValidAlias(input.alias)) {
      throw new ServiceError(
        Errors.INVALID_PARAMETER,
        'key_alias must match ^[a-zA-Z0-9:/_-]{1,255}$ and not end with /default.',
      );
    }
    const id = randomUUID();
    const now = this.now();
    const material = generateKeyMaterial(input.spec);
    const row: KmsKeyRow = {
      id,
      project_id: actor.projectId,
      domain_id: actor.domainId,
      alias: input.alias,
      spec: input.spec,
      usage: input.usage ?? 'ENCRYPT_DECRYPT',
      description: input.description ?? '',
      origin: input.origin ?? 'kms',
      state: KeyState.ENABLED,
      material_sealed: sealWithRootKey(this.rootKey, material, id).toString('base64'),
      scheduled_deletion_at: null,
      created_at: now,
      updated_at: now,
    };
    material.fill(0);
    return this.database.transaction(async (trx) => {
      if (await findKeyByAlias(trx, actor.projectId, input.alias))
        throw new ServiceError(Errors.KEY_ALIAS_EXISTS);
      if ((await countQuotaKeys(trx, actor.projectId)) >= this.keyQuota) {
        throw new ServiceError(
          Errors.KEY_QUOTA_EXCEEDED,
          `The project has reached its key quota of ${this.keyQuota} (DWS_QUOTA_KEYS; keys pending deletion do not count).`,
        );
      }
      await insertKey(trx, row);
      await recordAudit(
        trx,
        actor,
        {
          action: 'kms:cmk:create',
          resourceType: 'key',
          resourceId: id,
          result: 'success',
          detail: { spec: input.spec },
        },
        now,
      );
      return row;
    });
  }

  async describeKey(actor: Actor, keyId: string): Promise<KmsKeyRow> {
    return requireKey(this.database.db, actor.projectId, keyId);
  }

  /** A page of the project's keys; a `spec` filter that names no key spec matches no key. */
  async listKeys(actor: Actor, filter: Omit<KeyListFilter, 'spec'> & { spec?: string }): Promise<KeyPage> {
    const { spec, ...rest } = filter;
    if (spec !== undefined && !isKeySpec(spec))
      return { keys: [], truncated: false, total: 0, nextMarker: null };
    const { rows, total } = await listKeys(this.database.db, actor.projectId, {
      ...rest,
      ...(spec !== undefined ? { spec } : {}),
    });
    const truncated = rows.length > filter.limit;
    const keys = truncated ? rows.slice(0, filter.limit) : rows;
    return { keys, truncated, total, nextMarker: truncated ? (keys[keys.length - 1]?.id ?? null) : null };
  }

  /** enable, disable, schedule or cancel deletion: one state machine, one audit record. */
  async changeKeyState(
    actor: Actor,
    keyId: string,
    action: Extract<KeyAction, 'enable' | 'disable' | 'scheduleDeletion' | 'cancelDeletion'>,
    pendingDays?: number,
  ): Promise<KmsKeyRow> {
    const now = this.now();
    return this.database.transaction(async (trx) => {
      const key = await requireKey(trx, actor.projectId, keyId);
      const state = keyTransition(key.state, action);
      if (
        action === 'scheduleDeletion' &&
        (await countClustersUsingKey(trx, actor.projectId, keyId)) +
          (await countActiveJobsUsingKey(trx, actor.projectId, keyId)) >
          0
      ) {
        // Ours: deleting a key that protects a cluster would make its data key unrecoverable.
        throw new ServiceError(
          Errors.KEY_STATE_CONFLICT,
          'The key protects at least one cluster (or one being converted); rotate those clusters to another master key first.',
        );
      }
      const scheduled =
        action === 'scheduleDeletion'
          ? now + (pendingDays ?? 7) * DAY_MS
          : action === 'cancelDeletion'
            ? null
            : key.scheduled_deletion_at;
      await updateKeyState(trx, actor.projectId, keyId, {
        state,
        scheduled_deletion_at: scheduled,
        updated_at: now,
      });
      await recordAudit(
        trx,
        actor,
        {
          action: `kms:cmk:${action}`,
          resourceType: 'key',
          resourceId: keyId,
          result: 'success',
          detail: { from: key.state, to: state },
        },
        now,
      );
      return { ...key, state, scheduled_deletion_at: scheduled, updated_at: now };
    });
  }

  /** A data key of `datakey_length` bits, else of `spec` (which must suit the master key), else 256 bits. */
  async createDataKey(
    actor: Actor,
    keyId: string,
    length: { spec?: DataKeySpec; bits?: number },
    aad?: string,
  ): Promise<DataKeyResult> {
    const key = await requireKey(this.database.db, actor.projectId, keyId);
    const plaintext = generateDataKey(dataKeyBits(key.spec, length.spec, length.bits) / 8);
    return { keyId, plaintext, ciphertext: this.wrap(key, plaintext, aad) };
  }

  async encryptDataKey(
    actor: Actor,
    keyId: string,
    plainTextWithDigest: Buffer,
    plainLength: number,
    aad?: string,
  ): Promise<DataKeyResult> {
    const key = await requireKey(this.database.db, actor.projectId, keyId);
    const digestLength = 32;
    if (plainTextWithDigest.length !== plainLength + digestLength) {
      throw new ServiceError(
        Errors.INVALID_PARAMETER,
        'plain_text must hold datakey_plain_length bytes of data key followed by its 32-byte digest.',
      );
    }
    const plaintext = plainTextWithDigest.subarray(0, plainLength);
    const digest = plainTextWithDigest.subarray(plainLength);
    if (!dataKeyDigest(key.spec, plaintext).equals(digest)) throw new ServiceError(Errors.DIGEST_MISMATCH);
    return { keyId, plaintext, ciphertext: this.wrap(key, plaintext, aad) };
  }

  async decryptDataKey(
    actor: Actor,
    keyId: string,
    ciphertext: Buffer,
    aad?: string,
  ): Promise<{ plaintext: Buffer; digest: Buffer }> {
    const key = await requireKey(this.database.db, actor.projectId, keyId);
    const plaintext = this.unwrap(key, ciphertext, aad);
    return { plaintext, digest: dataKeyDigest(key.spec, plaintext) };
  }

  /** Loads an enabled master key of the project for a cluster operation (inside the caller's transaction). */
  async masterKeyForCluster(db: Db, projectId: string, keyId: string): Promise<KmsKeyRow> {
    const key = await findKey(db, projectId, keyId);
    if (!key) throw new ServiceError(Errors.MASTER_KEY_NOT_FOUND);
    return key;
  }

  /** Wraps `plaintext` under an enabled key; refuses disabled keys and keys pending deletion. */
  wrap(key: KmsKeyRow, plaintext: Buffer, aad?: string): Buffer {
    keyTransition(key.state, 'wrap');
    return this.withMasterKey(key, (masterKey) =>
      wrapDataKey({ keyId: key.id, spec: key.spec, masterKey, plaintext, ...aadOf(aad) }),
    );
  }

  unwrap(key: KmsKeyRow, blob: Buffer, aad?: string): Buffer {
    keyTransition(key.state, 'unwrap');
    try {
      return this.withMasterKey(key, (masterKey) =>
        unwrapDataKey({ keyId: key.id, spec: key.spec, masterKey, blob, ...aadOf(aad) }),
      );
    } catch (error) {
      if (error instanceof CryptoError) throw new ServiceError(Errors.CIPHERTEXT_INVALID);
      throw error;
    }
  }

  /** Opens the key material for one operation and wipes it afterwards. */
  private withMasterKey<T>(key: KmsKeyRow, use: (masterKey: Buffer) => T): T {
    const masterKey = openWithRootKey(this.rootKey, Buffer.from(key.material_sealed, 'base64'), key.id);
    try {
      return use(masterKey);
    } finally {
      masterKey.fill(0);
    }
  }
}

function aadOf(aad: string | undefined): { aad?: Buffer } {
  return aad ? { aad: Buffer.from(aad) } : {};
}

async function requireKey(db: Db, projectId: string, keyId: string): Promise<KmsKeyRow> {
  const key = await findKey(db, projectId, keyId);
  if (!key) throw new ServiceError(Errors.KEY_NOT_FOUND);
  return key;
}
