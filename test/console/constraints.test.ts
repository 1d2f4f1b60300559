/** The console's client-side conversion check (console/src/lib/constraints.ts) and its small helpers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { passwordAuthBody } from '../../console/src/api/endpoints.js';
import {
  encryptionConstraintFailures,
  MIN_CLUSTER_VERSION,
  MIN_GUEST_AGENT_VERSION,
} from '../../console/src/lib/constraints.js';
import { encryptionView } from '../../console/src/lib/encryption-state.js';
import { keyStateWord, parseProgress } from '../../console/src/lib/format.js';
import { versionConstraintFailures } from '../../src/domain/clusters.js';

describe('console version constraints', () => {
  it('uses the seed minimums', () => {
    assert.equal(MIN_CLUSTER_VERSION, '8.0.0');
    assert.equal(MIN_GUEST_AGENT_VERSION, '8.3.0.200');
  });

  it('reads a version with surrounding blanks, and refuses what is not a dotted version', () => {
    assert.deepEqual(
      encryptionConstraintFailures({ version: ' 8.3.0 ', guest_agent_version: '8.3.0.200' }),
      [],
    );
    for (const bad of ['.', '8.', '.8', '8..0', 'v8.0', '8.0-beta', '1.2.3.4.5.6.7']) {
      const [failure] = encryptionConstraintFailures({ version: bad, guest_agent_version: '8.3.0.200' });
      assert.match(failure?.short ?? '', /is not a version/, bad);
    }
  });

  it('accepts a cluster meeting both constraints, including at the exact minimums', () => {
    assert.deepEqual(
      encryptionConstraintFailures({ version: '8.0.0', guest_agent_version: '8.3.0.200' }),
      [],
    );
    assert.deepEqual(
      encryptionConstraintFailures({ version: '9.1.0', guest_agent_version: '8.3.0.1000' }),
      [],
    );
    assert.deepEqual(encryptionConstraintFailures({ version: '8.10', guest_agent_version: '8.4' }), []);
  });

  it('names the cluster version when it is below 8.0.0', () => {
    const [failure, ...rest] = encryptionConstraintFailures({
      version: '7.9.9',
      guest_agent_version: '8.3.0.200',
    });
    assert.equal(rest.length, 0);
    assert.equal(failure?.field, 'version');
    assert.equal(failure?.actual, '7.9.9');
    assert.equal(failure?.minimum, '8.0.0');
    assert.match(failure!.reason, /Cluster version 7\.9\.9 is below 8\.0\.0/);
  });

  it('names the guestAgent version when it is below 8.3.0.200 (compared numerically)', () => {
    const failures = encryptionConstraintFailures({ version: '8.2.1', guest_agent_version: '8.3.0.99' });
    assert.deepEqual(
      failures.map((f) => f.field),
      ['guest_agent_version'],
    );
    assert.match(failures[0]!.reason, /guestAgent version 8\.3\.0\.99 is below 8\.3\.0\.200/);
    assert.equal(failures[0]!.short, 'guestAgent version 8.3.0.99 is below 8.3.0.200');
  });

  it('lists both failures in the order of the seed', () => {
    const failures = encryptionConstraintFailures({ version: '7.0', guest_agent_version: '8.2.9' });
    assert.deepEqual(
      failures.map((f) => f.field),
      ['version', 'guest_agent_version'],
    );
  });

  it('refuses, with a reason, a version that is missing or not dotted numbers', () => {
    const missing = encryptionConstraintFailures({ version: '8.1.0' });
    assert.equal(missing[0]?.field, 'guest_agent_version');
    assert.equal(missing[0]?.actual, null);
    assert.match(missing[0]!.reason, /does not report its guestAgent version/);
    const garbled = encryptionConstraintFailures({ version: 'eight', guest_agent_version: '8.3.0.200' });
    assert.match(garbled[0]!.reason, /not a dotted version/);
  });

  it('agrees with the server rule (src/domain) on generated versions', () => {
    const version = fc
      .array(fc.integer({ min: 0, max: 1200 }), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.join('.'));
    fc.assert(
      fc.property(version, version, (clusterVersion, agentVersion) => {
        const client = encryptionConstraintFailures({
          version: clusterVersion,
          guest_agent_version: agentVersion,
        });
        const server = versionConstraintFailures({
          version: clusterVersion,
          guestAgentVersion: agentVersion,
        });
        assert.equal(client.length, server.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('console helpers', () => {
  it('maps key_state to words', () => {
    assert.deepEqual(['1', '2', '3', '4', '5'].map(keyStateWord), [
      'Pending activation',
      'Enabled',
      'Disabled',
      'Pending deletion',
      'Pending import',
    ]);
    assert.equal(keyStateWord('9'), 'Unknown (9)');
  });

  it('reads job progress strings', () => {
    assert.equal(parseProgress('9%'), 9);
    assert.equal(parseProgress('100%'), 100);
    assert.equal(parseProgress('running'), null);
    assert.equal(parseProgress(null), null);
  });

  it('derives the encryption state shown in the clusters table', () => {
    const nulls = {
      id: null,
      cluster_id: null,
      master_key_id: null,
      master_key_name: null,
      last_rotate_key_time: null,
      crypt_algorithm: null,
    };
    const detail = { id: 'c', name: 'c', status: 'AVAILABLE', task_status: '' };
    assert.deepEqual(encryptionView(detail, nulls, undefined), { state: 'plain' });
    assert.deepEqual(encryptionView(detail, { ...nulls, master_key_id: 'k' }, undefined), {
      state: 'encrypted',
    });
    assert.deepEqual(encryptionView(detail, null, undefined), { state: 'unknown' });
    const running = { job_id: 'j', status: 'RUNNING', progress: '40%' };
    assert.deepEqual(encryptionView(detail, nulls, { jobId: 'j', action: 'encrypt', detail: running }), {
      state: 'converting',
      progress: 40,
      jobId: 'j',
    });
    const done = { ...running, status: 'SUCCESS', progress: '100%' };
    assert.deepEqual(
      encryptionView(
        detail,
        { ...nulls, master_key_id: 'k' },
        { jobId: 'j', action: 'encrypt', detail: done },
      ),
      { state: 'encrypted' },
    );
    // A conversion started elsewhere shows from the cluster's own task status.
    assert.deepEqual(encryptionView({ ...detail, task_status: 'ENCRYPTING' }, nulls, undefined), {
      state: 'converting',
      progress: null,
      jobId: null,
    });
  });

  it('builds the Keystone password body with a project id or a project name', () => {
    const base = { userName: ' alice ', domainName: 'acme', password: ' p w ' };
    const byId = passwordAuthBody({ ...base, project: '0123456789abcdef0123456789abcdef' }) as any;
    assert.deepEqual(byId, {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'alice', password: ' p w ', domain: { name: 'acme' } } },
        },
        scope: { project: { id: '0123456789abcdef0123456789abcdef' } },
      },
    });
    const byName = passwordAuthBody({ ...base, project: 'cn-north-4' }) as any;
    assert.deepEqual(byName.auth.scope, { project: { name: 'cn-north-4' } });
  });
});
