/**
 * The seed document (POST /_dws/seed, DWS_SEED_FILE, docs/testing.md): defaults filled in, and every
 * refusal made before anything is created, naming the field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '../../src/domain/errors.js';
import { parseSeedDocument } from '../../src/domain/seed.js';

function refusal(body: unknown): string {
  try {
    parseSeedDocument(body);
  } catch (error) {
    assert.ok(error instanceof ServiceError, String(error));
    assert.equal(error.def.status, 400);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

/** A cluster with every field given: kept as it is. */
const C2 = {
  name: 'c2',
  datastore_version: '8.2.1',
  guest_agent_version: '8.3.0.300',
  encryption: {
    key: 'sm',
    crypt_algorithm: 'SMcompatible',
    last_rotate_key_time: '2026-01-02 03:04:05',
  },
} as const;

describe('parseSeedDocument', () => {
  test('defaults: AES_256 keys, enabled, generalCipher; every documented field kept', () => {
    assert.deepEqual(parseSeedDocument({}), { keys: [], clusters: [] });
    assert.deepEqual(
      parseSeedDocument({
        project_id: 'ab'.repeat(16),
        keys: [
          { alias: 'k1' },
          { alias: 'sm', spec: 'SM4', state: 'disabled' },
          { alias: 'old', state: 'pending_deletion' },
        ],
        clusters: [{ name: 'c1', encryption: { key: 'k1' } }, C2, { name: 'plain' }],
      }),
      {
        project_id: 'ab'.repeat(16),
        keys: [
          { alias: 'k1', spec: 'AES_256', state: 'enabled' },
          { alias: 'sm', spec: 'SM4', state: 'disabled' },
          { alias: 'old', spec: 'AES_256', state: 'pending_deletion' },
        ],
        clusters: [
          { name: 'c1', encryption: { key: 'k1', crypt_algorithm: 'generalCipher' } },
          C2,
          { name: 'plain' },
        ],
      },
    );
  });

  const BAD: [string, unknown, RegExp][] = [
    ['not an object', [], /^seed: document must be a JSON object/],
    ['an unknown field', { tables: {} }, /^seed: tables is not a known field/],
    ['a project id in capitals', { project_id: 'AB'.repeat(16) }, /^seed: project_id must be 32 lowercase/],
    ['keys not an array', { keys: {} }, /^seed: keys must be an array/],
    ['a key alias with a space', { keys: [{ alias: 'a b' }] }, /^seed: keys\[0\]\.alias must match/],
    [
      'a repeated alias',
      { keys: [{ alias: 'k' }, { alias: 'k' }] },
      /^seed: keys\[1\]\.alias repeats the alias k/,
    ],
    [
      'an unknown spec',
      { keys: [{ alias: 'k', spec: 'RSA_2048' }] },
      /^seed: keys\[0\]\.spec must be one of AES_256, SM4/,
    ],
    [
      'an unknown state',
      { keys: [{ alias: 'k', state: 'gone' }] },
      /^seed: keys\[0\]\.state must be one of enabled, disabled, pending_deletion/,
    ],
    [
      'a cluster name starting with a digit',
      { clusters: [{ name: '1c' }] },
      /^seed: clusters\[0\]\.name must be 1 to 64/,
    ],
    [
      'a repeated cluster name',
      { clusters: [{ name: 'c' }, { name: 'c' }] },
      /^seed: clusters\[1\]\.name repeats/,
    ],
    [
      'an empty version',
      { clusters: [{ name: 'c', datastore_version: '' }] },
      /^seed: clusters\[0\]\.datastore_version must be a non-empty/,
    ],
    [
      'a key of no document',
      { clusters: [{ name: 'c', encryption: { key: 'k9' } }] },
      /^seed: clusters\[0\]\.encryption\.key names no key of this document \(k9\)/,
    ],
    [
      'SMcompatible over an AES key',
      {
        keys: [{ alias: 'k' }],
        clusters: [{ name: 'c', encryption: { key: 'k', crypt_algorithm: 'SMcompatible' } }],
      },
      /^seed: clusters\[0\]\.encryption\.crypt_algorithm SMcompatible needs a SM4 key; k is AES_256/,
    ],
    [
      'a rotation time in ISO form',
      {
        keys: [{ alias: 'k' }],
        clusters: [{ name: 'c', encryption: { key: 'k', last_rotate_key_time: '2026-01-02T03:04:05Z' } }],
      },
      /^seed: clusters\[0\]\.encryption\.last_rotate_key_time must be a UTC time YYYY-MM-DD HH:mm:ss/,
    ],
    [
      'a key pending deletion that protects a cluster',
      {
        keys: [{ alias: 'k0' }, { alias: 'k1', state: 'pending_deletion' }],
        clusters: [{ name: 'plain' }, { name: 'c1', encryption: { key: 'k1' } }],
      },
      /^seed: keys\[1\]\.state cannot be pending_deletion: k1 protects clusters\[1\] \(c1\)/,
    ],
  ];
  for (const [name, body, message] of BAD) {
    test(`refuses ${name}, naming the field`, () => assert.match(refusal(body), message));
  }
});
