/** What the store's errors mean: unreachable (503 STORE_UNAVAILABLE) or merely busy (503 STORE_BUSY). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreCallTimeout, TransactionSlotTimeout } from '../../src/store/postgres.js';
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

/**
 * Every "the store cannot be used" condition answers 503 (STORE_UNAVAILABLE or STORE_BUSY), one case per
 * class the service meets; test/scale/db-faults.test.ts checks the real server's errors end to end.
 */
const answered503: Array<[string, unknown]> = [
  ['08006 connection_failure', coded('08006')],
  ['08P01 protocol_violation', coded('08P01')],
  ['28000 pg_hba.conf rejects', coded('28000', 'pg_hba.conf rejects connection for host "127.0.0.1"')],
  ['28P01 password authentication failed', coded('28P01')],
  ['53300 too_many_connections', coded('53300')],
  ['53100 disk_full', coded('53100')],
  ['57014 query_canceled (statement_timeout)', coded('57014')],
  ['57P01 admin_shutdown', coded('57P01')],
  ['57P03 cannot_connect_now', coded('57P03')],
  ['57P04 database_dropped', coded('57P04')],
  ['55000 database not accepting connections', coded('55000')],
  ['55P03 lock_not_available (lock_timeout)', coded('55P03')],
  ['58030 io_error', coded('58030')],
  ['pool: connect timeout', new Error('timeout exceeded when trying to connect')],
  ['client: a new connection not opened in time', new Error('timeout expired')],
  ['pool: ended', new Error('Cannot use a pool after calling end on the pool')],
  ['pool: no transaction slot', new TransactionSlotTimeout(1000)],
  ['socket: ECONNREFUSED', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')],
  ['socket: ECONNRESET', coded('ECONNRESET')],
  ['socket: EPIPE', coded('EPIPE')],
  ['socket: terminated', new Error('Connection terminated unexpectedly')],
  ['socket: happy eyeballs', new AggregateError([coded('ECONNREFUSED')])],
  ['store call timeout', new StoreCallTimeout(1000)],
  ['SQLite full', coded('SQLITE_FULL', 'database or disk is full')],
  ['SQLite busy', coded('SQLITE_BUSY', 'database is locked')],
];

const notA503: Array<[string, unknown]> = [
  ['23505 unique_violation', coded('23505')],
  ['42P01 undefined_table (a bug)', coded('42P01')],
  ['22P02 invalid_text_representation', coded('22P02')],
  ['55006 object_in_use', coded('55006')],
  ['a plain bug', new TypeError('x is undefined')],
  ['null', null],
];

for (const [name, error] of answered503) {
  test(`answered 503: ${name}`, () => assert.equal(isStoreUnavailable(error) || isStoreBusy(error), true));
}
for (const [name, error] of notA503) {
  test(`not a store condition: ${name}`, () =>
    assert.equal(isStoreUnavailable(error) || isStoreBusy(error), false));
}
