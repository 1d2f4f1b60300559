import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Errors, ServiceError } from '../../src/domain/errors.js';
import { canTransition, isFinal, progressAt } from '../../src/domain/jobs.js';
import { isValidAlias, KeyState, keyTransition } from '../../src/domain/keys.js';

test('key state machine', () => {
  assert.equal(keyTransition(KeyState.ENABLED, 'disable'), KeyState.DISABLED);
  assert.equal(keyTransition(KeyState.DISABLED, 'enable'), KeyState.ENABLED);
  assert.equal(keyTransition(KeyState.ENABLED, 'enable'), KeyState.ENABLED, 'enable is idempotent');
  assert.equal(keyTransition(KeyState.DISABLED, 'scheduleDeletion'), KeyState.PENDING_DELETION);
  assert.equal(keyTransition(KeyState.PENDING_DELETION, 'cancelDeletion'), KeyState.DISABLED);
  assert.equal(keyTransition(KeyState.ENABLED, 'wrap'), KeyState.ENABLED);
  const refused = (state: KeyState, action: Parameters<typeof keyTransition>[1]) => {
    try {
      keyTransition(state, action);
    } catch (error) {
      assert.ok(error instanceof ServiceError, 'error instanceof ServiceError');
      return error.def;
    }
    assert.fail(`${action} from ${state} should be refused`);
  };
  assert.equal(refused(KeyState.DISABLED, 'wrap'), Errors.KEY_DISABLED);
  assert.equal(refused(KeyState.PENDING_DELETION, 'unwrap'), Errors.KEY_PENDING_DELETION);
  assert.equal(refused(KeyState.PENDING_DELETION, 'enable'), Errors.KEY_PENDING_DELETION);
  assert.equal(refused(KeyState.ENABLED, 'cancelDeletion'), Errors.KEY_STATE_CONFLICT);
});

test('key aliases follow the contract pattern and may not end in /default', () => {
  for (const ok of ['a', 'key-1', 'team/app:key_2', 'x'.repeat(255)])
    assert.equal(isValidAlias(ok), true, ok);
  for (const bad of ['', 'has space', 'ü', 'x'.repeat(256), 'alias/default', 'a.b'])
    assert.equal(isValidAlias(bad), false, bad);
});

test('job transitions and progress', () => {
  assert.equal(canTransition('INIT', 'RUNNING'), true);
  assert.equal(canTransition('RUNNING', 'SUCCESS'), true);
  assert.equal(canTransition('SUCCESS', 'RUNNING'), false);
  assert.equal(canTransition('FAIL', 'SUCCESS'), false);
  assert.equal(isFinal('SUCCESS'), true);
  assert.equal(isFinal('RUNNING'), false);
  assert.equal(progressAt(0, 1000), 0);
  assert.equal(progressAt(500, 1000), 50);
  assert.equal(progressAt(5000, 1000), 99, 'never 100% before the job has finished');
});
