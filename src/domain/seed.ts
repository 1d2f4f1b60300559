/**
 * The seed document of the emulator (POST /_dws/seed, DWS_SEED_FILE): keys and clusters declared by
 * name, checked here before anything is created, with errors that name the field (`clusters[1].encryption.key`).
 */
import { CRYPT_ALGORITHMS, type CryptAlgorithm, KEY_SPEC_FOR_ALGORITHM } from './clusters.js';
import { Errors, ServiceError } from './errors.js';
import { isValidAlias, KEY_SPECS, type KeySpec } from './keys.js';
import { parseRotateTime } from './time.js';

export const SEED_KEY_STATES = ['enabled', 'disabled', 'pending_deletion'] as const;
export type SeedKeyState = (typeof SEED_KEY_STATES)[number];

export interface SeedKey {
  alias: string;
  spec: KeySpec;
  state: SeedKeyState;
}

export interface SeedCluster {
  name: string;
  datastore_version?: string;
  guest_agent_version?: string;
  encryption?: {
    /** The alias of a key of the same document. */
    key: string;
    crypt_algorithm: CryptAlgorithm;
    /** `YYYY-MM-DD HH:mm:ss` (UTC), the form encrypt-info answers. */
    last_rotate_key_time?: string;
  };
}

export interface SeedDocument {
  project_id?: string;
  keys: SeedKey[];
  clusters: SeedCluster[];
}

/** What a seed created: ids by the names the document gave. */
export interface SeedResult {
  project_id: string;
  keys: Record<string, string>;
  clusters: Record<string, string>;
}

/** Shorter than CreateCluster allows (names like `c1` read well in tests), otherwise the same characters. */
const CLUSTER_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

function invalid(field: string, problem: string): ServiceError {
  return new ServiceError(Errors.INVALID_PARAMETER, `seed: ${field} ${problem}.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(`${where}.${key}`.replace(/^\./, ''), 'is not a known field');
  }
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalid(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'must be a non-empty string');
  return value;
}

export function parseSeedDocument(body: unknown): SeedDocument {
  if (!isObject(body)) throw invalid('document', 'must be a JSON object');
  onlyKeys(body, ['project_id', 'keys', 'clusters'], '');
  const doc: SeedDocument = { keys: [], clusters: [] };
  if (body.project_id !== undefined) {
    if (typeof body.project_id !== 'string' || !/^[0-9a-f]{32}$/.test(body.project_id)) {
      throw invalid('project_id', 'must be 32 lowercase hexadecimal characters');
    }
    doc.project_id = body.project_id;
  }
  if (body.keys !== undefined && !Array.isArray(body.keys)) throw invalid('keys', 'must be an array');
  if (body.clusters !== undefined && !Array.isArray(body.clusters))
    throw invalid('clusters', 'must be an array');
  const keys = (body.keys ?? []) as unknown[];
  const clusters = (body.clusters ?? []) as unknown[];

  const specs = new Map<string, KeySpec>();
  keys.forEach((item, i) => {
    const where = `keys[${i}]`;
    if (!isObject(item)) throw invalid(where, 'must be an object');
    onlyKeys(item, ['alias', 'spec', 'state'], where);
    const alias = text(item.alias, `${where}.alias`);
    if (!isValidAlias(alias)) throw invalid(`${where}.alias`, 'must match ^[a-zA-Z0-9:/_-]{1,255}$');
    if (specs.has(alias)) throw invalid(`${where}.alias`, `repeats the alias ${alias}`);
    const spec = oneOf(item.spec ?? 'AES_256', KEY_SPECS, `${where}.spec`);
    specs.set(alias, spec);
    doc.keys.push({ alias, spec, state: oneOf(item.state ?? 'enabled', SEED_KEY_STATES, `${where}.state`) });
  });

  const names = new Set<string>();
  clusters.forEach((item, i) => {
    const where = `clusters[${i}]`;
    if (!isObject(item)) throw invalid(where, 'must be an object');
    onlyKeys(item, ['name', 'datastore_version', 'guest_agent_version', 'encryption'], where);
    const name = text(item.name, `${where}.name`);
    if (!CLUSTER_NAME.test(name)) {
      throw invalid(`${where}.name`, 'must be 1 to 64 letters, digits, - or _, starting with a letter');
    }
    if (names.has(name)) throw invalid(`${where}.name`, `repeats the name ${name}`);
    names.add(name);
    const cluster: SeedCluster = { name };
    if (item.datastore_version !== undefined)
      cluster.datastore_version = text(item.datastore_version, `${where}.datastore_version`);
    if (item.guest_agent_version !== undefined)
      cluster.guest_agent_version = text(item.guest_agent_version, `${where}.guest_agent_version`);
    if (item.encryption !== undefined) {
      const enc = item.encryption;
      const at = `${where}.encryption`;
      if (!isObject(enc)) throw invalid(at, 'must be an object');
      onlyKeys(enc, ['key', 'crypt_algorithm', 'last_rotate_key_time'], at);
      const key = text(enc.key, `${at}.key`);
      const spec = specs.get(key);
      if (spec === undefined) throw invalid(`${at}.key`, `names no key of this document (${key})`);
      const algorithm = oneOf(
        enc.crypt_algorithm ?? 'generalCipher',
        CRYPT_ALGORITHMS,
        `${at}.crypt_algorithm`,
      );
      if (KEY_SPEC_FOR_ALGORITHM[algorithm] !== spec) {
        throw invalid(
          `${at}.crypt_algorithm`,
          `${algorithm} needs a ${KEY_SPEC_FOR_ALGORITHM[algorithm]} key; ${key} is ${spec}`,
        );
      }
      cluster.encryption = { key, crypt_algorithm: algorithm };
      if (enc.last_rotate_key_time !== undefined) {
        const time = text(enc.last_rotate_key_time, `${at}.last_rotate_key_time`);
        if (parseRotateTime(time) === null) {
          throw invalid(`${at}.last_rotate_key_time`, 'must be a UTC time YYYY-MM-DD HH:mm:ss');
        }
        cluster.encryption.last_rotate_key_time = time;
      }
    }
    doc.clusters.push(cluster);
  });
  // KMS refuses to schedule the deletion of a key that protects a cluster: say so before creating anything.
  doc.keys.forEach((key, i) => {
    if (key.state !== 'pending_deletion') return;
    const j = doc.clusters.findIndex((cluster) => cluster.encryption?.key === key.alias);
    if (j >= 0) {
      throw invalid(
        `keys[${i}].state`,
        `cannot be pending_deletion: ${key.alias} protects clusters[${j}] (${doc.clusters[j]!.name})`,
      );
    }
  });
  return doc;
}

/**
 * Refuses a checked document whose names are already taken in its project, before anything is created:
 * a seed either creates all it declares or nothing (keys and clusters are created one by one, so a
 * clash found half-way would leave the first half behind).
 */
export function refuseSeedConflicts(
  doc: SeedDocument,
  taken: { aliases: ReadonlySet<string>; clusterNames: ReadonlySet<string> },
): void {
  doc.keys.forEach((key, i) => {
    if (taken.aliases.has(key.alias)) {
      throw invalid(
        `keys[${i}].alias`,
        `is taken: the project already has a key ${key.alias} (reset it first)`,
      );
    }
  });
  doc.clusters.forEach((cluster, i) => {
    if (taken.clusterNames.has(cluster.name)) {
      throw invalid(
        `clusters[${i}].name`,
        `is taken: the project already has a cluster ${cluster.name} (reset it first)`,
      );
    }
  });
}
