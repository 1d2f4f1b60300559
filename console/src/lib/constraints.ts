/**
 * The seed's constraints for converting an ordinary cluster into an encrypted one, checked in the
 * browser so the console can say why a cluster cannot be converted before anyone clicks. The server
 * checks the same rules again; the minimums and the version comparison are the server's own
 * (src/domain), so the two cannot drift.
 */
import { MIN_CLUSTER_VERSION, MIN_GUEST_AGENT_VERSION } from '../../../src/domain/clusters.js';
import { compareVersions, parseVersion } from '../../../src/domain/versions.js';

export { MIN_CLUSTER_VERSION, MIN_GUEST_AGENT_VERSION };

export interface ConstraintFailure {
  /** The ClusterDetail field the constraint reads. */
  field: 'version' | 'guest_agent_version';
  /** Short name for a table cell: "Cluster version" or "guestAgent version". */
  label: string;
  /** The cluster's value, or null when it does not report one. */
  actual: string | null;
  minimum: string;
  /** One sentence saying what is wrong and what is needed. */
  reason: string;
  /** The same in a few words, for a table cell: "guestAgent 8.3.0.100 is below 8.3.0.200". */
  short: string;
}

export interface VersionFacts {
  version?: string | null;
  guest_agent_version?: string | null;
}

function check(
  field: ConstraintFailure['field'],
  label: string,
  actual: string | null | undefined,
  minimum: string,
): ConstraintFailure | null {
  const value = typeof actual === 'string' && actual.trim() !== '' ? actual.trim() : null;
  if (value === null) {
    return {
      field,
      label,
      actual: null,
      minimum,
      reason: `The cluster does not report its ${label}; converting needs ${minimum} or later.`,
      short: `${label} unknown (needs ${minimum})`,
    };
  }
  const parsed = parseVersion(value);
  if (parsed === null) {
    return {
      field,
      label,
      actual: value,
      minimum,
      reason: `${label} ${value} is not a dotted version; converting needs ${minimum} or later.`,
      short: `${label} ${value} is not a version`,
    };
  }
  if (compareVersions(parsed, parseVersion(minimum)!) < 0) {
    return {
      field,
      label,
      actual: value,
      minimum,
      reason: `${label} ${value} is below ${minimum}; converting needs ${minimum} or later.`,
      short: `${label} ${value} is below ${minimum}`,
    };
  }
  return null;
}

/**
 * Why a cluster cannot be converted to an encrypted one, in the order the seed lists the
 * constraints (cluster version, then guestAgent version); empty when both are met.
 */
export function encryptionConstraintFailures(cluster: VersionFacts): ConstraintFailure[] {
  const failures: ConstraintFailure[] = [];
  const version = check('version', 'Cluster version', cluster.version, MIN_CLUSTER_VERSION);
  if (version) failures.push(version);
  const agent = check(
    'guest_agent_version',
    'guestAgent version',
    cluster.guest_agent_version,
    MIN_GUEST_AGENT_VERSION,
  );
  if (agent) failures.push(agent);
  return failures;
}
