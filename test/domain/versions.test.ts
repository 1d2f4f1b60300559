import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, isAtLeast, parseVersion } from '../../src/domain/versions.js';

test('versions compare numerically, part by part', () => {
  const table: [string, string, number][] = [
    ['8.10.0', '8.9.0', 1],
    ['8.9.0', '8.10.0', -1],
    ['8.3.0.1000', '8.3.0.200', 1],
    ['8.3.0.200', '8.3.0.200', 0],
    ['8.3.0.199', '8.3.0.200', -1],
    ['10.0.0', '8.0.0', 1],
    ['8.0', '8.0.0', 0],
    ['8', '8.0.0.0', 0],
    ['8.0.0.1', '8.0.0', 1],
    ['7.99.99', '8.0.0', -1],
    ['009.1.0', '9.1', 0],
  ];
  for (const [a, b, expected] of table) {
    assert.equal(compareVersions(parseVersion(a)!, parseVersion(b)!), expected, `${a} vs ${b}`);
  }
});

test('only dotted numbers are versions', () => {
  for (const bad of [
    '',
    '8.',
    '.8',
    '8..0',
    'v8.0.0',
    '8.0.0-beta',
    '8.0.0 ',
    'eight',
    '1.2.3.4.5.6.7',
    '1234567890.0',
  ]) {
    assert.equal(parseVersion(bad), null, bad);
  }
  assert.deepEqual(parseVersion('8.3.0.200'), [8, 3, 0, 200]);
});

test('isAtLeast applies the seed constraints', () => {
  assert.equal(isAtLeast('8.0.0', '8.0.0'), true);
  assert.equal(isAtLeast('7.9.9', '8.0.0'), false);
  assert.equal(isAtLeast('8.3.0.200', '8.3.0.200'), true);
  assert.equal(isAtLeast('8.3.0.100', '8.3.0.200'), false);
  assert.equal(isAtLeast('8.3.1', '8.3.0.200'), true);
  assert.equal(isAtLeast('garbage', '8.0.0'), false);
});
