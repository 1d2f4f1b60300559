/**
 * The seed's constraints for converting an ordinary cluster into an encrypted one, checked in the
 * browser so the console can say why a cluster cannot be converted before anyone clicks. The server
 * checks the same rules again; this copy exists only to explain them early.
 *
 * Versions are dotted numbers compared numerically, part by part (8.10.0 > 8.9.0, 8.3.0.1000 >
 * 8.3.0.200); a missing part counts as 0 (8.0 == 8.0.0).
 */

export const MIN_CLUSTER_VERSION = '8.0.0';
export const MIN_GUEST_AGENT_VERSION = '8.3.0.200';

const VERSION_PATTERN = /^\d{1,9}(\.\d{1,9}){0,5}$/;

/** The numeric parts of a dotted version, or null when the text is not one. */
export function parseVersion(text: string | null | undefined): number[] | null {
  if (typeof text !== 'string') return null;
  const trimmed = text.trim();
  if (!VERSION_PATTERN.test(trimmed)) return null;
  return trimmed.split('.').map(Number);
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`; null when either is not a version. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | null {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left || !right) return null;
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

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
  const order = compareVersions(value, minimum);
  if (order === null) {
    return {
      field,
      label,
      actual: value,
      minimum,
      reason: `${label} ${value} is not a dotted version; converting needs ${minimum} or later.`,
      short: `${label} ${value} is not a version`,
    };
  }
  if (order < 0) {
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
