/** The wire's two time formats (UTC), produced in one place. */

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function parts(ms: number): [string, string] {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return [date, time];
}

/** `YYYY-MM-DD HH:mm:ss`, as in rotate_key_time and last_rotate_key_time. */
export function formatRotateTime(ms: number): string {
  const [date, time] = parts(ms);
  return `${date} ${time}`;
}

/** `YYYY-MM-DDTHH:mm:ss`, as in job begin_time and end_time. */
export function formatJobTime(ms: number): string {
  const [date, time] = parts(ms);
  return `${date}T${time}`;
}

/** ISO 8601 `YYYY-MM-DDThh:mm:ssZ` (no fraction), the reference's form of cluster `created`/`updated`. */
export function formatClusterTime(ms: number): string {
  const [date, time] = parts(ms);
  return `${date}T${time}Z`;
}

/** ISO 8601 with milliseconds and Z, for audit event times and token expiry. */
export function formatIsoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Keystone's `YYYY-MM-DDTHH:mm:ss.ffffffZ` (microseconds), for token `issued_at` and `expires_at`. */
export function formatIamTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

const ROTATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Epoch milliseconds of a `YYYY-MM-DD HH:mm:ss` UTC time, or null when it is not a real time. */
export function parseRotateTime(value: string): number | null {
  const m = ROTATE_TIME.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const at = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(at);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return at;
}
