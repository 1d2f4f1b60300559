/** The token-issue lockout rules, on a clock the test moves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LOCKOUT_POLICY, LoginLockout } from '../../src/domain/login-lockout.js';

const MIN = 60_000;
const alice = { known: true, id: 'alice' };

function fail(lockout: LoginLockout, key: { known: boolean; id: string }, now: number): boolean {
  assert.deepEqual(lockout.begin(key, now), { allowed: true });
  return lockout.finish(key, false, now);
}

test('the 5th failure within 15 minutes locks for 15 minutes; the lock then ends', () => {
  const lockout = new LoginLockout();
  assert.deepEqual(DEFAULT_LOCKOUT_POLICY, { maxFailures: 5, windowMs: 15 * MIN, lockMs: 15 * MIN });
  for (let i = 0; i < 4; i++) assert.equal(fail(lockout, alice, i * MIN), false);
  assert.equal(fail(lockout, alice, 4 * MIN), true, 'the 5th failure starts the lock');
  assert.deepEqual(lockout.begin(alice, 4 * MIN + 1), { allowed: false, retryAfterMs: 15 * MIN - 1 });
  assert.equal(lockout.begin(alice, 19 * MIN - 1).allowed, false);
  assert.deepEqual(lockout.begin(alice, 19 * MIN), { allowed: true });
  lockout.finish(alice, true, 19 * MIN);
});

test('failures older than the window do not count; a success clears the count', () => {
  const lockout = new LoginLockout();
  for (let i = 0; i < 4; i++) fail(lockout, alice, i * MIN);
  // The first failure (t=0) leaves the window at t=15 min: four in the window again, not five.
  assert.equal(fail(lockout, alice, 15 * MIN), false);
  assert.equal(fail(lockout, alice, 15 * MIN + 1), true);

  const bob = { known: true, id: 'bob' };
  for (let i = 0; i < 4; i++) fail(lockout, bob, i);
  assert.deepEqual(lockout.begin(bob, 10), { allowed: true });
  lockout.finish(bob, true, 10);
  for (let i = 0; i < 4; i++) assert.equal(fail(lockout, bob, 20 + i), false, 'counting starts again');
});

test('guesses in flight count: parallel attempts cannot run more checks than the limit', () => {
  const lockout = new LoginLockout({ maxFailures: 3, windowMs: 15 * MIN, lockMs: 15 * MIN });
  const verdicts = Array.from({ length: 10 }, () => lockout.begin(alice, 0));
  assert.equal(verdicts.filter((v) => v.allowed).length, 3);
  assert.deepEqual(verdicts[3], { allowed: false, retryAfterMs: 1_000 });
  assert.equal(lockout.finish(alice, false, 1), false);
  assert.equal(lockout.finish(alice, false, 2), false);
  assert.equal(lockout.finish(alice, false, 3), true);
  assert.equal(lockout.begin(alice, 4).allowed, false);
});

test('an unknown name locks like a user does; unknown names are bounded, users are not', () => {
  const lockout = new LoginLockout();
  const ghost = { known: false, id: 'nobody\0acme' };
  for (let i = 0; i < 4; i++) fail(lockout, ghost, i);
  assert.equal(fail(lockout, ghost, 4), true);
  assert.equal(lockout.begin(ghost, 5).allowed, false);
  for (let i = 0; i < 4; i++) fail(lockout, alice, i);
  for (let i = 0; i < 20_000; i++) fail(lockout, { known: false, id: `n${i}` }, 10);
  assert.equal(lockout.begin(ghost, 11).allowed, true, 'the oldest unknown names were dropped');
  assert.equal(fail(lockout, alice, 12), true, 'a declared user’s count survives any number of names');
});
