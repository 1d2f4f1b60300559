/** Human-readable output of the CLI: aligned tables, key/value blocks, a progress bar. No I/O of its own. */

export type Cell = string | number | boolean | null | undefined;

function text(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

/** Columns aligned on the widest cell; the header in upper case. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((row) => row.map(text));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join('\n');
}

/** `label   value` lines, labels aligned. */
export function fields(entries: Array<[string, Cell]>): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${text(value)}`).join('\n');
}

const KEY_STATES: Record<string, string> = {
  '1': 'pending activation',
  '2': 'enabled',
  '3': 'disabled',
  '4': 'pending deletion',
  '5': 'pending import',
};

/** KMS key states are digits on the wire; people read names. */
export function keyStateName(state: string): string {
  return KEY_STATES[state] ?? state;
}

/** Accepts a state name (`enabled`, `pending-deletion`) or its digit; returns the digit. */
export function keyStateCode(input: string): string | undefined {
  if (KEY_STATES[input]) return input;
  const wanted = input.toLowerCase().replace(/[-_]/g, ' ');
  return Object.entries(KEY_STATES).find(([, name]) => name === wanted)?.[0];
}

/** KMS dates are epoch milliseconds as strings. */
export function kmsDate(value: string): string {
  if (!value) return '';
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) return value;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `[##########----------]  50%  RUNNING` */
export function progressBar(percent: number, status: string, width = 30): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const done = Math.round((p / 100) * width);
  return `[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${String(p).padStart(3)}%  ${status}`;
}

export function percentOf(progress: string): number {
  const n = Number.parseFloat(progress);
  return Number.isFinite(n) ? n : 0;
}
