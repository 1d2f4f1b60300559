import { Errors, ServiceError } from './errors.js';
import { type KeySpec, KeyState } from './keys.js';
import { isAtLeast, parseVersion } from './versions.js';

/** The seed's constraints for converting an ordinary cluster into an encrypted one. */
export const MIN_CLUSTER_VERSION = '8.0.0';
export const MIN_GUEST_AGENT_VERSION = '8.3.0.200';
/** Used when a create request has no `guest_agent_version` (our documented extension). */
export const DEFAULT_GUEST_AGENT_VERSION = '8.3.0.200';
/** The datastore version of a cluster created through POST /v1.0 (its CreateClusterInfo names none). */
export const DEFAULT_CLUSTER_VERSION = '9.1.0';

export type ClusterStatus = 'CREATING' | 'AVAILABLE' | 'UNAVAILABLE' | 'DELETING';
export type EncryptionState = 'plain' | 'converting' | 'encrypted';
export type CryptAlgorithm = 'generalCipher' | 'SMcompatible';

export const CRYPT_ALGORITHMS: readonly CryptAlgorithm[] = ['generalCipher', 'SMcompatible'];

/** Which master key spec each algorithm needs: AES for generalCipher, SM4 for SMcompatible. */
export const KEY_SPEC_FOR_ALGORITHM: Readonly<Record<CryptAlgorithm, KeySpec>> = {
  generalCipher: 'AES_256',
  SMcompatible: 'SM4',
};

/** The parts of a cluster the encryption rules look at. */
export interface ClusterFacts {
  status: ClusterStatus;
  encryptionState: EncryptionState;
  version: string;
  guestAgentVersion: string;
}

/** The parts of a KMS key the encryption rules look at. */
export interface MasterKeyFacts {
  alias: string;
  spec: KeySpec;
  state: KeyState;
}

export function assertValidVersion(version: string, field: string): void {
  if (!parseVersion(version)) {
    throw new ServiceError(
      Errors.INVALID_VERSION,
      `${field} '${version}' is not a version: use dotted numbers such as 8.3.0.200.`,
    );
  }
}

/** Constraint failures of a cluster, in the order the seed lists them; empty when it can be converted. */
export function versionConstraintFailures(
  cluster: Pick<ClusterFacts, 'version' | 'guestAgentVersion'>,
): ServiceError[] {
  const failures: ServiceError[] = [];
  if (!isAtLeast(cluster.version, MIN_CLUSTER_VERSION)) {
    failures.push(
      new ServiceError(
        Errors.CLUSTER_VERSION_TOO_OLD,
        `The cluster version is ${cluster.version}; converting to an encrypted cluster needs ${MIN_CLUSTER_VERSION} or later.`,
      ),
    );
  }
  if (!isAtLeast(cluster.guestAgentVersion, MIN_GUEST_AGENT_VERSION)) {
    failures.push(
      new ServiceError(
        Errors.GUEST_AGENT_TOO_OLD,
        `The guestAgent version is ${cluster.guestAgentVersion}; converting to an encrypted cluster needs ${MIN_GUEST_AGENT_VERSION} or later.`,
      ),
    );
  }
  return failures;
}

/** Checks that a master key may protect a cluster under `algorithm`; throws the specific refusal. */
export function assertMasterKeyFits(
  key: MasterKeyFacts,
  algorithm: CryptAlgorithm,
  masterKeyName?: string | null,
): void {
  if (key.state !== KeyState.ENABLED) throw new ServiceError(Errors.MASTER_KEY_NOT_ENABLED);
  const needed = KEY_SPEC_FOR_ALGORITHM[algorithm];
  if (key.spec !== needed) {
    throw new ServiceError(
      Errors.MASTER_KEY_SPEC_MISMATCH,
      `crypt_algorithm ${algorithm} needs a ${needed} master key; the key is ${key.spec}.`,
    );
  }
  if (masterKeyName != null && masterKeyName !== key.alias) {
    throw new ServiceError(
      Errors.MASTER_KEY_NAME_MISMATCH,
      `master_key_name '${masterKeyName}' is not the alias of the master key.`,
    );
  }
}

/** Whether a conversion may start; throws the specific refusal (state first, then versions). */
export function assertCanStartConversion(cluster: ClusterFacts): void {
  if (cluster.encryptionState === 'encrypted') throw new ServiceError(Errors.CLUSTER_ALREADY_ENCRYPTED);
  if (cluster.encryptionState === 'converting') throw new ServiceError(Errors.CLUSTER_CONVERSION_IN_PROGRESS);
  if (cluster.status !== 'AVAILABLE') {
    throw new ServiceError(
      Errors.CLUSTER_NOT_AVAILABLE,
      `The cluster is ${cluster.status}; only an AVAILABLE cluster can be converted.`,
    );
  }
  const [first] = versionConstraintFailures(cluster);
  if (first) throw first;
}

export function assertCanRotate(cluster: ClusterFacts): void {
  if (cluster.encryptionState === 'converting') throw new ServiceError(Errors.CLUSTER_CONVERSION_IN_PROGRESS);
  if (cluster.encryptionState !== 'encrypted') throw new ServiceError(Errors.CLUSTER_NOT_ENCRYPTED);
  if (cluster.status !== 'AVAILABLE') {
    throw new ServiceError(
      Errors.CLUSTER_NOT_AVAILABLE,
      `The cluster is ${cluster.status}; only an AVAILABLE cluster can rotate keys.`,
    );
  }
}

export function assertCanDelete(cluster: ClusterFacts): void {
  if (cluster.encryptionState === 'converting') {
    throw new ServiceError(
      Errors.CLUSTER_CONVERSION_IN_PROGRESS,
      'The cluster cannot be deleted while its encryption conversion runs.',
    );
  }
  if (cluster.status === 'DELETING') {
    throw new ServiceError(Errors.CLUSTER_BUSY, 'The cluster is already being deleted.');
  }
}

/** The enterprise project of clusters created without one ("default" in the reference). */
export const DEFAULT_ENTERPRISE_PROJECT_ID = '0';
/** List filter value that matches clusters of every enterprise project. */
export const ALL_ENTERPRISE_PROJECTS = 'all_granted_eps';
/** What a list filter may be: `0`, `all_granted_eps`, or an enterprise project id (a UUID). */
export const ENTERPRISE_PROJECT_FILTER_PATTERN =
  '^(0|all_granted_eps|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$';

/** Whether a cluster of enterprise project `clusterEps` (undefined: the default) passes a list filter. */
export function matchesEnterpriseProject(
  clusterEps: string | undefined,
  filter: string | undefined,
): boolean {
  if (filter === undefined || filter === ALL_ENTERPRISE_PROJECTS) return true;
  return (clusterEps ?? DEFAULT_ENTERPRISE_PROJECT_ID) === filter;
}
