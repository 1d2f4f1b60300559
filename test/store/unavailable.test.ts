/** What the store's errors mean: unreachable (503 STORE_UNAVAILABLE) or merely busy (503 STORE_BUSY). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStoreBusy, isStoreUnavailable } from '../../src/store/unavailable.js';

function coded(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

test('waiting for a pooled connection, a lock or a deadlock victim is busy, not unavailable', () => {
  for (const error of [
    new Error('timeout exceeded when trying to connect'),
    coded('SQLITE_BUSY'),
    coded('55P03'),
    coded('40P01'),
    coded('40001'),
  ]) {
    assert.equal(isStoreBusy(error), true, error.message);
    assert.equal(isStoreUnavailable(error), false, error.message);
  }
});

test('a refused, dropped or timed-out connection is unavailable, not busy', () => {
  for (const error of [
    coded('ECONNREFUSED'),
    coded('57P01'),
    new Error('Connection terminated due to connection timeout'),
    coded('SQLITE_FULL'),
  ]) {
    assert.equal(isStoreUnavailable(error), true, error.message);
    assert.equal(isStoreBusy(error), false, error.message);
  }
  assert.equal(isStoreBusy(new Error('anything else')), false);
});
