/**
 * Which call a fault rule answers (FaultRules.take): its operation or "*", its project, its cluster,
 * its probability (drawn per matching call), its count (then used up, still listed), first rule first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultRules } from '../../src/services/faults.js';

const P1 = '11'.repeat(16);
const P2 = '22'.repeat(16);
const C1 = '7d85f602-a948-4a30-afd4-e84f47471c15';
const C2 = '8f2f6c5b-b3d6-4cf9-ac8d-0225b3339b9d';

test('operation, "*", project_id and cluster_id select the calls', () => {
  const rules = new FaultRules();
  const byOperation = rules.add({ operation: 'RotateKey' });
  assert.equal(rules.take({ operation: 'ShowClusterEncryptInfo', projectId: P1 }), undefined);
  assert.equal(rules.take({ operation: 'RotateKey', projectId: P1 })?.id, byOperation.id);
  rules.clear();

  const byProject = rules.add({ operation: '*', project_id: P1 });
  assert.equal(rules.take({ operation: 'CreateKey', projectId: P2 }), undefined);
  assert.equal(rules.take({ operation: 'CreateKey' }), undefined, 'a call without a project');
  assert.equal(rules.take({ operation: 'CreateKey', projectId: P1 })?.id, byProject.id);
  assert.equal(rules.take({ operation: 'ListClusters', projectId: P1 })?.id, byProject.id, '"*": any');
  rules.clear();

  const byCluster = rules.add({ operation: 'ShowClusterEncryptInfo', cluster_id: C1.toUpperCase() });
  assert.equal(rules.take({ operation: 'ShowClusterEncryptInfo', projectId: P1, clusterId: C2 }), undefined);
  assert.equal(rules.take({ operation: 'ShowClusterEncryptInfo', projectId: P1 }), undefined);
  assert.equal(
    rules.take({ operation: 'ShowClusterEncryptInfo', projectId: P1, clusterId: C1 })?.id,
    byCluster.id,
    'ids compare without case',
  );
});

test('count: the rule answers that many calls, then stays listed, used up', () => {
  const rules = new FaultRules();
  const rule = rules.add({ operation: '*', count: 2 });
  assert.equal(rule.remaining, 2);
  assert.equal(rules.activeCount, 1);
  assert.ok(rules.take({ operation: 'RotateKey' }), "rules.take({ operation: 'RotateKey' })");
  assert.ok(rules.take({ operation: 'RotateKey' }), "rules.take({ operation: 'RotateKey' })");
  assert.equal(rules.take({ operation: 'RotateKey' }), undefined);
  assert.deepEqual(
    rules.list().map((r) => [r.id, r.hits, r.remaining]),
    [[rule.id, 2, 0]],
  );
  assert.equal(rules.activeCount, 0);
  const unlimited = rules.add({ operation: '*' });
  for (let i = 0; i < 5; i++) assert.equal(rules.take({ operation: 'RotateKey' })?.id, unlimited.id);
  assert.equal(rules.list()[1]?.remaining, undefined);
  assert.equal(rules.list()[1]?.hits, 5);
});

test('probability: drawn per matching call; a call it spares goes on to the next rule', () => {
  const draws = [0.1, 0.9, 0.5, 0.49];
  const rules = new FaultRules(() => {
    const next = draws.shift();
    assert.ok(next !== undefined, 'drawn only for a matching rule below probability 1');
    return next;
  });
  const half = rules.add({ operation: 'RotateKey', probability: 0.5 });
  const always = rules.add({ operation: 'RotateKey' });
  assert.equal(half.probability, 0.5);
  assert.equal(always.probability, 1, 'default 1');
  assert.equal(rules.take({ operation: 'CreateKey' }), undefined, 'no draw for a call it does not match');
  assert.equal(rules.take({ operation: 'RotateKey' })?.id, half.id); // 0.1 < 0.5
  assert.equal(rules.take({ operation: 'RotateKey' })?.id, always.id); // 0.9: spared
  assert.equal(rules.take({ operation: 'RotateKey' })?.id, always.id); // 0.5: spared (not below)
  assert.equal(rules.take({ operation: 'RotateKey' })?.id, half.id); // 0.49
  assert.deepEqual(
    rules.list().map((r) => r.hits),
    [2, 2],
  );
  const never = new FaultRules(() => 0);
  never.add({ operation: '*', probability: 0 });
  assert.equal(never.take({ operation: 'RotateKey' }), undefined, 'probability 0 never answers');
});

test('remove and clear', () => {
  const rules = new FaultRules();
  const a = rules.add({ operation: '*' });
  const b = rules.add({ operation: 'RotateKey' });
  assert.equal(rules.remove(a.id), true);
  assert.equal(rules.remove(a.id), false);
  assert.deepEqual(
    rules.list().map((r) => r.id),
    [b.id],
  );
  rules.clear();
  assert.deepEqual(rules.list(), []);
  assert.equal(rules.take({ operation: 'RotateKey' }), undefined);
});
