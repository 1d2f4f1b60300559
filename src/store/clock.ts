/**
 * Time from the store's clock. Instances on one PostgreSQL database must agree on time for leases and
 * due dates: an instance whose own clock runs ahead would take leases early (and finish conversions
 * early). So the lease conditions are evaluated by the database itself (`DB_NOW_MS` in its statements),
 * and the times an instance writes (due dates, progress, lease renewals) come from `StoreClock`: the
 * process clock corrected by its offset from the database's, sampled at start and every few seconds.
 * SQLite has one process and one clock: its offset is 0.
 */
import { sql } from 'kysely';
import type { Database } from './types.js';

/** The database's time in epoch milliseconds, as an SQL expression (PostgreSQL). */
export const DB_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** How often the offset from the database clock is sampled again. */
export const CLOCK_SAMPLE_MS = 5_000;

export class StoreClock {
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly database: Database,
    private readonly local: () => number,
  ) {}

  /** A clock for `database`, its first sample taken (PostgreSQL; SQLite needs none). */
  static async start(database: Database, local: () => number = Date.now): Promise<StoreClock> {
    const clock = new StoreClock(database, local);
    if (database.dialect === 'postgres') {
      // A failed first sample leaves the process clock (offset 0) until the next one succeeds.
      await clock.sample().catch(() => {});
      clock.timer = setInterval(() => void clock.sample().catch(() => {}), CLOCK_SAMPLE_MS);
      clock.timer.unref();
    }
    return clock;
  }

  /** Epoch milliseconds by the database's clock. */
  readonly now = (): number => this.local() + this.offsetMs;

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const before = this.local();
    const row = await sql<{ ms: number }>`SELECT ${DB_NOW_MS} AS ms`.execute(this.database.db);
    const after = this.local();
    const ms = Number(row.rows[0]?.ms);
    // The database read its clock somewhere in the round trip: its middle is the best guess.
    if (Number.isFinite(ms)) this.offsetMs = ms - Math.round((before + after) / 2);
  }
}
