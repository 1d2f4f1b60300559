/** Small pure helpers that turn wire values into words for people. */
import { FINAL_JOB_STATUSES } from '../../../src/domain/jobs.js';

export const KEY_STATE_WORDS: Readonly<Record<string, string>> = {
  '1': 'Pending activation',
  '2': 'Enabled',
  '3': 'Disabled',
  '4': 'Pending deletion',
  '5': 'Pending import',
};

export function keyStateWord(state: string | null | undefined): string {
  if (state == null) return 'Unknown';
  return KEY_STATE_WORDS[state] ?? `Unknown (${state})`;
}

export const ALGORITHM_LABELS: Readonly<Record<string, string>> = {
  generalCipher: 'generalCipher (AES)',
  SMcompatible: 'SMcompatible (SM4)',
};

/** The cipher behind each crypt_algorithm, for a table's second line. */
export const ALGORITHM_CIPHERS: Readonly<Record<string, string>> = {
  generalCipher: 'AES',
  SMcompatible: 'SM4',
};

/** The master key spec each crypt_algorithm needs. */
export const KEY_SPEC_FOR_ALGORITHM: Readonly<Record<string, string>> = {
  generalCipher: 'AES_256',
  SMcompatible: 'SM4',
};

/** "45%" -> 45; clamps to 0..100; null when the text carries no number. */
export function parseProgress(progress: string | null | undefined): number | null {
  if (progress == null) return null;
  const match = /(\d+(?:\.\d+)?)/.exec(String(progress));
  if (!match) return null;
  return Math.max(0, Math.min(100, Math.round(Number(match[1]))));
}

/** A job's wire status is a string: compared as one. */
const FINAL_STATUSES: ReadonlySet<string> = FINAL_JOB_STATUSES;

export function isJobFinal(status: string | null | undefined): boolean {
  return status != null && FINAL_STATUSES.has(status);
}

/** KMS creation_date / scheduled_deletion_date are epoch milliseconds as strings. */
export function formatEpochMs(value: string | number | null | undefined): string {
  if (value == null || value === '') return '—';
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) return String(value);
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Wire times are UTC without a zone (`2025-05-14 08:02:59`, `2025-05-14T08:02:59`). */
export function formatWireTime(value: string | null | undefined): string {
  if (value == null || value === '') return '—';
  return `${value.replace('T', ' ')} UTC`;
}

/** ISO 8601 (`2025-05-14T08:02:59.123Z`) as `2025-05-14 08:02:59 UTC`; other text unchanged. */
export function formatIsoTime(value: string | null | undefined): string {
  if (value == null || value === '') return '—';
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return value;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function shortId(id: string | null | undefined): string {
  if (!id) return '—';
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}
