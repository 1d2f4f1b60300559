import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  ACTIONS,
  actionMatches,
  isAllowed,
  isKnownAction,
  patternProblem,
} from '../../src/domain/permissions.js';

test('exact names, * alone, and wildcards anywhere', () => {
  assert.ok(
    actionMatches('dws:cluster:encrypt', 'dws:cluster:encrypt'),
    "actionMatches('dws:cluster:encrypt', 'dws:cluster:encrypt')",
  );
  assert.ok(
    !actionMatches('dws:cluster:encrypt', 'dws:cluster:encryptX'),
    "!actionMatches('dws:cluster:encrypt', 'dws:cluster:encryptX')",
  );
  assert.ok(actionMatches('*', 'kms:dek:create'), "actionMatches('*', 'kms:dek:create')");
  assert.ok(
    actionMatches('dws:cluster:*', 'dws:cluster:rotateKey'),
    "actionMatches('dws:cluster:*', 'dws:cluster:rotateKey')",
  );
  assert.ok(
    !actionMatches('dws:cluster:*', 'dws:openAPICluster:list'),
    "!actionMatches('dws:cluster:*', 'dws:openAPICluster:list')",
  );
  assert.ok(
    actionMatches('dws:*:list', 'dws:openAPICluster:list'),
    "actionMatches('dws:*:list', 'dws:openAPICluster:list')",
  );
  assert.ok(actionMatches('dws:*:list', 'dws:audit:list'), "actionMatches('dws:*:list', 'dws:audit:list')");
  assert.ok(
    !actionMatches('dws:*:list', 'dws:openAPICluster:listX'),
    "!actionMatches('dws:*:list', 'dws:openAPICluster:listX')",
  );
  assert.ok(
    actionMatches('*:get*', 'dws:cluster:getEncryptInfo'),
    "actionMatches('*:get*', 'dws:cluster:getEncryptInfo')",
  );
  assert.ok(actionMatches('*:get*', 'kms:cmk:get'), "actionMatches('*:get*', 'kms:cmk:get')");
  assert.ok(actionMatches('kms:*:*', 'kms:dek:decrypt'), "actionMatches('kms:*:*', 'kms:dek:decrypt')");
  assert.ok(!actionMatches('kms:*', 'dws:cluster:encrypt'), "!actionMatches('kms:*', 'dws:cluster:encrypt')");
  assert.ok(actionMatches('a*a', 'aa'), "actionMatches('a*a', 'aa')");
  assert.ok(!actionMatches('a*a*a', 'aa'), "!actionMatches('a*a*a', 'aa')");
  assert.ok(actionMatches('**', 'x'), "actionMatches('**', 'x')");
  // Every character but * is literal (no regular-expression surprises).
  assert.ok(
    !actionMatches('dws.cluster.*', 'dws:cluster:encrypt'),
    "!actionMatches('dws.cluster.*', 'dws:cluster:encrypt')",
  );
});

test('deny wins over allow; nothing is allowed by default', () => {
  const readOnly = { allow: ['dws:cluster:getEncryptInfo', 'dws:openAPICluster:list'] };
  assert.ok(
    isAllowed(readOnly, 'dws:cluster:getEncryptInfo'),
    "isAllowed(readOnly, 'dws:cluster:getEncryptInfo')",
  );
  assert.ok(!isAllowed(readOnly, 'dws:cluster:rotateKey'), "!isAllowed(readOnly, 'dws:cluster:rotateKey')");
  assert.ok(
    !isAllowed({ allow: [] }, 'dws:cluster:getEncryptInfo'),
    "!isAllowed({ allow: [] }, 'dws:cluster:getEncryptInfo')",
  );
  const allButKms = { allow: ['*'], deny: ['kms:*'] };
  assert.ok(isAllowed(allButKms, 'dws:cluster:encrypt'), "isAllowed(allButKms, 'dws:cluster:encrypt')");
  assert.ok(!isAllowed(allButKms, 'kms:cmk:create'), "!isAllowed(allButKms, 'kms:cmk:create')");
  const noDelete = { allow: ['dws:*'], deny: ['dws:openAPICluster:delete'] };
  assert.ok(
    isAllowed(noDelete, 'dws:openAPICluster:create'),
    "isAllowed(noDelete, 'dws:openAPICluster:create')",
  );
  assert.ok(
    !isAllowed(noDelete, 'dws:openAPICluster:delete'),
    "!isAllowed(noDelete, 'dws:openAPICluster:delete')",
  );
  assert.ok(
    !isAllowed({ allow: ['dws:cluster:encrypt'], deny: ['*'] }, 'dws:cluster:encrypt'),
    "!isAllowed({ allow: ['dws:cluster:encrypt'], deny: ['*'] }, 'dws:cluster:encrypt')",
  );
});

test('the catalogue holds every contract name and our KMS and audit names, once each', () => {
  const names = ACTIONS.map((a) => a.name);
  assert.equal(new Set(names).size, names.length);
  for (const name of [
    'dws:cluster:getEncryptInfo',
    'dws:cluster:encrypt',
    'dws:cluster:rotateKey',
    'dws:service:listJobDetail',
    'dws:openAPICluster:create',
    'dws:openAPICluster:list',
    'dws:openAPICluster:getDetail',
    'dws:openAPICluster:delete',
    'dws:audit:list',
    'kms:cmk:create',
    'kms:cmk:get',
    'kms:cmk:list',
    'kms:cmk:enable',
    'kms:cmk:disable',
    'kms:cmk:scheduleDeletion',
    'kms:cmk:cancelDeletion',
    'kms:dek:create',
    'kms:dek:encrypt',
    'kms:dek:decrypt',
  ]) {
    assert.ok(isKnownAction(name), name);
  }
  assert.ok(
    ACTIONS.filter((a) => a.name.startsWith('kms:')).every((a) => a.ours),
    'KMS names are ours',
  );
  assert.ok(!isKnownAction('dws:cluster:encypt'), "!isKnownAction('dws:cluster:encypt')");
});

test('policy patterns: syntax, and they must name or match a known action', () => {
  assert.equal(patternProblem('*'), null);
  assert.equal(patternProblem('dws:cluster:*'), null);
  assert.equal(patternProblem('kms:dek:create'), null);
  assert.match(patternProblem('dws:cluster:encypt') ?? '', /not a known action/);
  assert.match(patternProblem('iam:*') ?? '', /matches no known action/);
  assert.match(patternProblem('dws:cluster:encrypt ') ?? '', /only letters/);
  assert.match(patternProblem('') ?? '', /only letters/);
  assert.match(patternProblem('dws:.*') ?? '', /only letters/);
});

test('docs/iam.md lists every permission name with its access level', () => {
  const doc = readFileSync(new URL('../../docs/iam.md', import.meta.url), 'utf8');
  for (const action of ACTIONS) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${action.name}\``));
    assert.ok(row, `docs/iam.md has no row for ${action.name}`);
    const [, name, access] = row.split('|').map((cell) => cell.trim());
    assert.equal(name, `\`${action.name}\`${action.ours ? ' (ours)' : ''}`);
    assert.equal(access, action.access, action.name);
  }
});
