/**
 * Per-action permissions. Action names follow the contract (`dws:cluster:getEncryptInfo`, ...); KMS
 * names are ours (`kms:cmk:create`, ...). Patterns may use `*` as a wildcard for any run of characters
 * (`dws:cluster:*`, `*`). A matching `deny` always wins over `allow`.
 */
export interface Policy {
  allow: readonly string[];
  deny?: readonly string[];
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
