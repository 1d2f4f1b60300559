/**
 * Fault rules (POST /_dws/faults, docs/testing.md): every field is checked and a refusal names it;
 * the defaults a faulted answer takes (the real code and message of its status, on its surface).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Errors, ServiceError } from '../../src/domain/errors.js';
import { faultAnswer, parseFaultRule } from '../../src/domain/faults.js';

const OPERATIONS = new Set(['ShowClusterEncryptInfo', 'EncryptCluster', 'RotateKey', 'CreateKey']);
const parse = (body: unknown) => parseFaultRule(body, OPERATIONS);

/** The message of the 400 a rule body gets. */
function refusal(body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    assert.ok(error instanceof ServiceError, String(error));
    assert.equal(error.def.status, 400);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

describe('parseFaultRule', () => {
  test('every field is kept as given', () => {
    const rule = {
      operation: 'ShowClusterEncryptInfo',
      project_id: '0123456789abcdef0123456789abcdef',
      cluster_id: '7d85f602-a948-4a30-afd4-e84f47471c15',
      probability: 0.25,
      count: 3,
      latency_ms: 150,
      error: { status: 503, error_code: 'DWS.0503', error_msg: 'Try later.' },
    };
    assert.deepEqual(parse(rule), rule);
    assert.deepEqual(parse({ operation: '*' }), { operation: '*' });
  });

  test('a job fault: only on EncryptCluster, never with an error, defaults filled in', () => {
    assert.deepEqual(parse({ operation: 'EncryptCluster', job: {} }).job, {
      fail_at_percent: 0,
      failed_code: 'EncryptCluster-fail:DWS.0500',
      failed_detail: 'DWS.0500:The conversion failed.',
    });
    assert.deepEqual(
      parse({
        operation: 'EncryptCluster',
        job: { fail_at_percent: 40, failed_code: 'X:DWS.0599', failed_detail: 'DWS.0599:disk full' },
      }).job,
      { fail_at_percent: 40, failed_code: 'X:DWS.0599', failed_detail: 'DWS.0599:disk full' },
    );
    assert.match(
      refusal({ operation: 'RotateKey', job: {} }),
      /^job is only for the operation EncryptCluster/,
    );
    assert.match(
      refusal({ operation: 'EncryptCluster', job: {}, error: { status: 500 } }),
      /^job cannot be combined with error/,
    );
  });

  const BAD: [string, unknown, RegExp][] = [
    ['not an object', [], /^body must be a JSON object/],
    ['an unknown field', { operation: '*', when: 'now' }, /^when is not a known field/],
    ['no operation', {}, /^operation must be a non-empty string/],
    [
      'an unknown operation',
      { operation: 'DropDatabase' },
      /^operation must be "\*" or an operationId .*RotateKey/,
    ],
    [
      'a project id not 32 hex',
      { operation: '*', project_id: 'ABC' },
      /^project_id must be 32 lowercase hex/,
    ],
    ['a cluster id not a UUID', { operation: '*', cluster_id: 'c1' }, /^cluster_id must be a UUID/],
    [
      'a probability above 1',
      { operation: '*', probability: 1.5 },
      /^probability must be a number from 0 to 1/,
    ],
    ['a probability as text', { operation: '*', probability: '0.5' }, /^probability must be a number/],
    ['a count of 0', { operation: '*', count: 0 }, /^count must be an integer from 1 to/],
    ['a fractional count', { operation: '*', count: 1.5 }, /^count must be an integer/],
    [
      'a negative latency',
      { operation: '*', latency_ms: -1 },
      /^latency_ms must be an integer from 0 to 60000/,
    ],
    ['a latency over a minute', { operation: '*', latency_ms: 60_001 }, /^latency_ms must be an integer/],
    ['an error that is not an object', { operation: '*', error: 503 }, /^error must be an object/],
    [
      'an error without status',
      { operation: '*', error: {} },
      /^error\.status must be an integer from 400 to 599/,
    ],
    ['a 2xx error', { operation: '*', error: { status: 200 } }, /^error\.status must be an integer from 400/],
    [
      'an unknown error field',
      { operation: '*', error: { status: 500, retry: 1 } },
      /^error\.retry is not a known field/,
    ],
    [
      'a malformed error code',
      { operation: '*', error: { status: 500, error_code: '0503' } },
      /^error\.error_code must be like DWS\.0503/,
    ],
    [
      'an empty error message',
      { operation: '*', error: { status: 500, error_msg: '' } },
      /^error\.error_msg must be a non-empty string/,
    ],
    ['a job that is not an object', { operation: 'EncryptCluster', job: 40 }, /^job must be an object/],
    [
      'fail_at_percent 100',
      { operation: 'EncryptCluster', job: { fail_at_percent: 100 } },
      /^job\.fail_at_percent must be an integer from 0 to 99/,
    ],
    [
      'an unknown job field',
      { operation: 'EncryptCluster', job: { at: 1 } },
      /^job\.at is not a known field/,
    ],
    [
      'an empty failed_code',
      { operation: 'EncryptCluster', job: { failed_code: '' } },
      /^job\.failed_code must be a non-empty string/,
    ],
    [
      'an empty failed_detail',
      { operation: 'EncryptCluster', job: { failed_detail: '' } },
      /^job\.failed_detail must be a non-empty string/,
    ],
  ];
  for (const [name, body, message] of BAD) {
    test(`refuses ${name}, naming the field`, () => assert.match(refusal(body), message));
  }
});

describe('faultAnswer', () => {
  test('a missing code or message takes the real one of that status, on the route surface', () => {
    assert.deepEqual(faultAnswer(undefined, 'DWS'), {
      status: 500,
      error_code: 'DWS.0500',
      error_msg: 'Internal server error.',
    });
    // 503: the code and message of the real 503 (the store unreachable), as docs/testing.md says.
    assert.deepEqual(faultAnswer({ status: 503 }, 'KMS'), {
      status: 503,
      error_code: 'KMS.0503',
      error_msg: Errors.STORE_UNAVAILABLE.message,
    });
    assert.equal(faultAnswer({ status: 502 }, 'KMS').error_code, 'KMS.0500');
    assert.equal(faultAnswer({ status: 409 }, 'DWS').error_code, 'DWS.0001');
    assert.deepEqual(faultAnswer({ status: 429, error_code: 'DWS.0429', error_msg: 'Slow down.' }, 'DWS'), {
      status: 429,
      error_code: 'DWS.0429',
      error_msg: 'Slow down.',
    });
  });
});
