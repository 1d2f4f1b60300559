/**
 * Readiness of the store, for the ops endpoints (`/readyz`): a round trip to the database and a check
 * that every migration is applied, bounded by a timeout so that a probe never hangs on a dead server.
 * Liveness (`/healthz`) must NOT call this: an instance whose database is away is alive and recovers by
 * itself when the database comes back; restarting it would not help.
 */
import type { Database } from './database.js';
import { migrationsApplied } from './migrations.js';

export interface StoreReadiness {
  ready: boolean;
  store: 'sqlite' | 'postgres';
  /** Round-trip time of the check. */
  latencyMs: number;
  /** Why the store is not ready (no secrets, no connection strings). */
  reason?: string;
}

export async function checkStoreReadiness(database: Database, timeoutMs = 2_000): Promise<StoreReadiness> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await database.ping();
        if (!(await migrationsApplied(database.db, database.dialect))) throw new Error('migrations pending');
      })(),
      timeout,
    ]);
    return { ready: true, store: database.dialect, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      ready: false,
      store: database.dialect,
      latencyMs: Math.round(performance.now() - started),
      reason: error instanceof Error && error.message ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
