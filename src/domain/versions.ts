/**
 * Dotted version numbers (8.3.0.200), compared numerically part by part: 8.10.0 > 8.9.0,
 * 8.3.0.1000 > 8.3.0.200, and a missing part counts as 0 (8.0 == 8.0.0).
 */
export type Version = readonly number[];

const VERSION_PATTERN = /^\d{1,9}(\.\d{1,9}){0,5}$/;

export function parseVersion(text: string): Version | null {
  if (!VERSION_PATTERN.test(text)) return null;
  return text.split('.').map(Number);
}

export function compareVersions(a: Version, b: Version): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

export function isAtLeast(version: string, minimum: string): boolean {
  const v = parseVersion(version);
  const m = parseVersion(minimum);
  if (!v || !m) return false;
  return compareVersions(v, m) >= 0;
}
