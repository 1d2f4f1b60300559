import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertCanDelete,
  assertCanRotate,
  assertCanStartConversion,
  assertMasterKeyFits,
  type ClusterFacts,
  versionConstraintFailures,
} from '../../src/domain/clusters.js';
import { Errors, ServiceError } from '../../src/domain/errors.js';
import { KeyState } from '../../src/domain/keys.js';

const ready: ClusterFacts = {
  status: 'AVAILABLE',
  encryptionState: 'plain',
  version: '9.1.0',
  guestAgentVersion: '8.3.0.200',
};

function refusal(fn: () => void): ServiceError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ServiceError, `expected a ServiceError, got ${error}`);
    return error;
  }
  assert.fail('expected a refusal');
}

test('a plain AVAILABLE cluster at the minimum versions may be converted', () => {
  assert.doesNotThrow(() => assertCanStartConversion(ready));
  assert.doesNotThrow(() => assertCanStartConversion({ ...ready, version: '8.0.0' }));
});

test('conversion refusals name the failed constraint and the version found', () => {
  const old = refusal(() => assertCanStartConversion({ ...ready, version: '7.2.1' }));
  assert.equal(old.def, Errors.CLUSTER_VERSION_TOO_OLD);
  assert.match(old.message, /7\.2\.1/);
  assert.match(old.message, /8\.0\.0/);
  const agent = refusal(() => assertCanStartConversion({ ...ready, guestAgentVersion: '8.3.0.199' }));
  assert.equal(agent.def, Errors.GUEST_AGENT_TOO_OLD);
  assert.match(agent.message, /8\.3\.0\.199/);
  assert.deepEqual(
    versionConstraintFailures({ version: '7.0.0', guestAgentVersion: '8.2.0' }).map((e) => e.def),
    [Errors.CLUSTER_VERSION_TOO_OLD, Errors.GUEST_AGENT_TOO_OLD],
  );
});

test('state refusals: encrypted, converting, not AVAILABLE', () => {
  assert.equal(
    refusal(() => assertCanStartConversion({ ...ready, encryptionState: 'encrypted' })).def,
    Errors.CLUSTER_ALREADY_ENCRYPTED,
  );
  assert.equal(
    refusal(() => assertCanStartConversion({ ...ready, encryptionState: 'converting' })).def,
    Errors.CLUSTER_CONVERSION_IN_PROGRESS,
  );
  assert.equal(
    refusal(() => assertCanStartConversion({ ...ready, status: 'CREATING' })).def,
    Errors.CLUSTER_NOT_AVAILABLE,
  );
});

test('rotation needs an encrypted AVAILABLE cluster', () => {
  assert.doesNotThrow(() => assertCanRotate({ ...ready, encryptionState: 'encrypted' }));
  assert.equal(refusal(() => assertCanRotate(ready)).def, Errors.CLUSTER_NOT_ENCRYPTED);
  assert.equal(
    refusal(() => assertCanRotate({ ...ready, encryptionState: 'converting' })).def,
    Errors.CLUSTER_CONVERSION_IN_PROGRESS,
  );
  assert.equal(
    refusal(() => assertCanRotate({ ...ready, encryptionState: 'encrypted', status: 'UNAVAILABLE' })).def,
    Errors.CLUSTER_NOT_AVAILABLE,
  );
});

test('a cluster cannot be deleted while it converts', () => {
  assert.doesNotThrow(() => assertCanDelete(ready));
  assert.equal(
    refusal(() => assertCanDelete({ ...ready, encryptionState: 'converting' })).def,
    Errors.CLUSTER_CONVERSION_IN_PROGRESS,
  );
});

test('the algorithm decides the master key spec; the key must be enabled and the name must be its alias', () => {
  const aes = { alias: 'aes-key', spec: 'AES_256', state: KeyState.ENABLED } as const;
  const sm4 = { alias: 'sm4-key', spec: 'SM4', state: KeyState.ENABLED } as const;
  assert.doesNotThrow(() => assertMasterKeyFits(aes, 'generalCipher'));
  assert.doesNotThrow(() => assertMasterKeyFits(sm4, 'SMcompatible', 'sm4-key'));
  assert.equal(refusal(() => assertMasterKeyFits(aes, 'SMcompatible')).def, Errors.MASTER_KEY_SPEC_MISMATCH);
  assert.equal(refusal(() => assertMasterKeyFits(sm4, 'generalCipher')).def, Errors.MASTER_KEY_SPEC_MISMATCH);
  assert.equal(
    refusal(() => assertMasterKeyFits({ ...aes, state: KeyState.DISABLED }, 'generalCipher')).def,
    Errors.MASTER_KEY_NOT_ENABLED,
  );
  assert.equal(
    refusal(() => assertMasterKeyFits(aes, 'generalCipher', 'other')).def,
    Errors.MASTER_KEY_NAME_MISMATCH,
  );
  assert.doesNotThrow(() => assertMasterKeyFits(aes, 'generalCipher', null));
});
