/**
 * Per-action permissions. Action names follow the contract (`dws:cluster:getEncryptInfo`, ...); KMS
 * and audit names are ours (`kms:cmk:create`, `dws:audit:list`, ...). Patterns may use `*` as a wildcard
 * for any run of characters (`dws:cluster:*`, `*`). A matching `deny` always wins over `allow`.
 *
 * `ACTIONS` is the catalogue of every name a route checks: the authentication hook refuses to register
 * a route whose action is not listed, and the identities file may only name listed actions (a typo in
 * a policy is a start-up error, not a silent refusal later).
 */
export interface Policy {
  allow: readonly string[];
  deny?: readonly string[];
}

export type AccessLevel = 'Read' | 'List' | 'Write';

export interface ActionInfo {
  name: string;
  access: AccessLevel;
  /** The operation(s) the action allows. */
  operation: string;
  /** True for names the public contract does not define (this project chose them). */
  ours: boolean;
}

function action(name: string, access: AccessLevel, operation: string, ours = false): ActionInfo {
  return { name, access, operation, ours };
}

export const ACTIONS: readonly ActionInfo[] = [
  action('dws:cluster:getEncryptInfo', 'Read', 'ShowClusterEncryptInfo'),
  action('dws:cluster:encrypt', 'Write', 'EncryptCluster'),
  action('dws:cluster:rotateKey', 'Write', 'RotateKey'),
  action('dws:service:listJobDetail', 'List', 'ListJobDetails'),
  action('dws:openAPICluster:create', 'Write', 'CreateCluster'),
  action('dws:openAPICluster:list', 'List', 'ListClusters'),
  action('dws:openAPICluster:getDetail', 'Read', 'ShowClusterDetail'),
  action('dws:openAPICluster:delete', 'Write', 'DeleteCluster'),
  action('dws:audit:list', 'List', 'ListAuditEvents', true),
  action('kms:cmk:create', 'Write', 'create-key', true),
  action('kms:cmk:get', 'Read', 'describe-key', true),
  action('kms:cmk:list', 'List', 'list-keys', true),
  action('kms:cmk:enable', 'Write', 'enable-key', true),
  action('kms:cmk:disable', 'Write', 'disable-key', true),
  action('kms:cmk:scheduleDeletion', 'Write', 'schedule-key-deletion', true),
  action('kms:cmk:cancelDeletion', 'Write', 'cancel-key-deletion', true),
  action('kms:dek:create', 'Write', 'create-datakey', true),
  action('kms:dek:encrypt', 'Write', 'encrypt-datakey', true),
  action('kms:dek:decrypt', 'Write', 'decrypt-datakey', true),
  // The emulator control API (/_dws/); `dws:emulator:*` grants them all.
  action('dws:emulator:reset', 'Write', 'EmulatorReset', true),
  action('dws:emulator:getState', 'Read', 'EmulatorExportState', true),
  action('dws:emulator:setState', 'Write', 'EmulatorImportState', true),
  action('dws:emulator:seed', 'Write', 'EmulatorSeed', true),
  action('dws:emulator:listFaults', 'List', 'EmulatorListFaults', true),
  action('dws:emulator:addFault', 'Write', 'EmulatorAddFault', true),
  action('dws:emulator:deleteFault', 'Write', 'EmulatorClearFaults, EmulatorDeleteFault', true),
  action('dws:emulator:completeJobs', 'Write', 'EmulatorCompleteJobs', true),
];

const ACTION_NAMES: ReadonlySet<string> = new Set(ACTIONS.map((a) => a.name));

export function isKnownAction(name: string): boolean {
  return ACTION_NAMES.has(name);
}

export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*' || pattern === action) return true;
  if (!pattern.includes('*')) return false;
  // Wildcards only; every other character is literal.
  const parts = pattern.split('*');
  let position = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === 0) {
      if (!action.startsWith(part)) return false;
      position = part.length;
    } else if (i === parts.length - 1) {
      return action.length - part.length >= position && action.endsWith(part);
    } else {
      const found = action.indexOf(part, position);
      if (found < 0) return false;
      position = found + part.length;
    }
  }
  return position === action.length;
}

export function isAllowed(policy: Policy, action: string): boolean {
  if (policy.deny?.some((p) => actionMatches(p, action))) return false;
  return policy.allow.some((p) => actionMatches(p, action));
}

const PATTERN = /^[A-Za-z0-9:*]{1,128}$/;

/**
 * Why `pattern` cannot be used in a policy, or null when it can: letters, digits, `:` and `*` only,
 * and it must name (or, with wildcards, match) at least one action of the catalogue.
 */
export function patternProblem(pattern: string): string | null {
  if (!PATTERN.test(pattern)) return 'may hold only letters, digits, ":" and "*" (1 to 128 characters)';
  if (pattern.includes('*')) {
    return ACTIONS.some((a) => actionMatches(pattern, a.name)) ? null : 'matches no known action';
  }
  return ACTION_NAMES.has(pattern) ? null : 'is not a known action';
}
