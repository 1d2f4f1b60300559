/**
 * Password-guessing lockout for token issue, as the cloud's IAM login policy words it: after
 * `maxFailures` wrong passwords within `windowMs`, the user is locked for `lockMs`; while locked an
 * attempt is refused before any password is checked (no scrypt, no store write).
 *
 * Attempts in flight count against the limit too, so parallel guesses cannot run more than
 * `maxFailures` password checks before the lock. A correct password clears the count.
 *
 * Keys: a declared user's id (bounded by the directory), or the name an attempt gave for an unknown
 * user, so that an unknown name locks exactly like a real one (the answer tells nothing about which
 * names exist); unknown names are kept in a bounded map, oldest dropped first. State is per instance.
 */

export interface LockoutPolicy {
  /** Wrong passwords within the window that lock the user (the cloud's range: 3-10). */
  maxFailures: number;
  /** The window failures are counted in (the cloud's range: 15-60 minutes). */
  windowMs: number;
  /** How long the lock lasts (the cloud's range: 15-1440 minutes). */
  lockMs: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

/** Unknown names remembered at most (each a few dozen bytes). */
const MAX_UNKNOWN_NAMES = 10_000;

interface AttemptState {
  /** Times of the failures still inside the window, oldest first. */
  failures: number[];
  inFlight: number;
  lockedUntil: number;
}

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export class LoginLockout {
  private readonly users = new Map<string, AttemptState>();
  private readonly unknownNames = new Map<string, AttemptState>();

  constructor(readonly policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY) {}

  /** Forgets every failure and lock (the emulator's reset: a clean state). */
  clear(): void {
    this.users.clear();
    this.unknownNames.clear();
  }

  /** Whether a password may be checked now; when allowed, `finish` must follow. */
  begin(key: LockoutKey, now: number): AttemptVerdict {
    const state = this.state(key);
    if (now < state.lockedUntil) return { allowed: false, retryAfterMs: state.lockedUntil - now };
    this.dropOld(state, now);
    if (state.failures.length + state.inFlight >= this.policy.maxFailures) {
      // Enough guesses are already being checked to reach the lock: wait for their outcome.
      return { allowed: false, retryAfterMs: 1_000 };
    }
    state.inFlight++;
    return { allowed: true };
  }

  /** Records the outcome of an allowed attempt; true when this failure started a lock. */
  finish(key: LockoutKey, ok: boolean, now: number): boolean {
    const state = this.state(key);
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (ok) {
      state.failures = [];
      return false;
    }
    this.dropOld(state, now);
    state.failures.push(now);
    if (state.failures.length < this.policy.maxFailures) return false;
    state.failures = [];
    state.lockedUntil = now + this.policy.lockMs;
    return true;
  }

  private dropOld(state: AttemptState, now: number): void {
    const from = now - this.policy.windowMs;
    while (state.failures.length > 0 && state.failures[0]! <= from) state.failures.shift();
  }

  private state(key: LockoutKey): AttemptState {
    const map = key.known ? this.users : this.unknownNames;
    let state = map.get(key.id);
    if (state === undefined) {
      state = { failures: [], inFlight: 0, lockedUntil: 0 };
      map.set(key.id, state);
      if (!key.known && map.size > MAX_UNKNOWN_NAMES) {
        const oldest = map.keys().next().value as string;
        map.delete(oldest);
      }
    }
    return state;
  }
}

/** A declared user (`known`, by id) or the identity an attempt named for a user that does not exist. */
export interface LockoutKey {
  known: boolean;
  id: string;
}
