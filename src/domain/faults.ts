/**
 * Fault rules of the emulator control API (POST /_dws/faults): which calls fail (or slow down) on
 * purpose, how, and how often. Validation names the offending field; nothing here does I/O.
 */
import { Errors, ServiceError } from './errors.js';

/** How a conversion started under a job fault ends. */
export interface JobFault {
  /** The job fails once its progress reaches this percentage (0-99). */
  fail_at_percent: number;
  failed_code: string;
  failed_detail: string;
}

export interface FaultError {
  status: number;
  /** Default: the code a real answer of this status carries (`DWS.0503`, `KMS.0500`, ...). */
  error_code?: string;
  error_msg?: string;
}

export interface FaultRuleInput {
  operation: string;
  project_id?: string;
  cluster_id?: string;
  probability?: number;
  count?: number;
  latency_ms?: number;
  error?: FaultError;
  job?: JobFault;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  probability: number;
  /** Calls the rule has answered (faulted or delayed) so far. */
  hits: number;
  /** How many more calls the rule answers; undefined: no limit. */
  remaining?: number;
}

/** The operation whose rules may carry `job`. */
export const JOB_FAULT_OPERATION = 'EncryptCluster';
export const ANY_OPERATION = '*';
const MAX_LATENCY_MS = 60_000;

function invalid(field: string, problem: string): ServiceError {
  return new ServiceError(Errors.INVALID_PARAMETER, `${field} ${problem}.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(`${where}${key}`, 'is not a known field');
  }
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function string(value: unknown, field: string, pattern?: RegExp, shape?: string): string {
  if (typeof value !== 'string' || value === '' || value.length > 512) {
    throw invalid(field, 'must be a non-empty string of at most 512 characters');
  }
  if (pattern && !pattern.test(value)) throw invalid(field, `must be ${shape}`);
  return value;
}

/**
 * A checked rule from a request body. `operations`: the operationIds a rule may name (besides `*`).
 * Without `error`, `latency_ms` or `job` a rule answers 500 with the internal-error code.
 */
export function parseFaultRule(body: unknown, operations: ReadonlySet<string>): FaultRuleInput {
  if (!isObject(body)) throw invalid('body', 'must be a JSON object');
  checkKeys(
    body,
    ['operation', 'project_id', 'cluster_id', 'probability', 'count', 'latency_ms', 'error', 'job'],
    '',
  );
  const operation = string(body.operation, 'operation');
  if (operation !== ANY_OPERATION && !operations.has(operation)) {
    throw invalid(
      'operation',
      `must be "*" or an operationId of /openapi.json (${[...operations].sort().join(', ')})`,
    );
  }
  const rule: FaultRuleInput = { operation };
  if (body.project_id !== undefined) {
    rule.project_id = string(
      body.project_id,
      'project_id',
      /^[0-9a-f]{32}$/,
      '32 lowercase hexadecimal characters',
    );
  }
  if (body.cluster_id !== undefined) {
    rule.cluster_id = string(body.cluster_id, 'cluster_id', /^[0-9a-fA-F-]{36}$/, 'a UUID');
  }
  if (body.probability !== undefined) {
    if (typeof body.probability !== 'number' || !(body.probability >= 0 && body.probability <= 1)) {
      throw invalid('probability', 'must be a number from 0 to 1');
    }
    rule.probability = body.probability;
  }
  if (body.count !== undefined) rule.count = integer(body.count, 'count', 1, 1_000_000);
  if (body.latency_ms !== undefined)
    rule.latency_ms = integer(body.latency_ms, 'latency_ms', 0, MAX_LATENCY_MS);
  if (body.error !== undefined && body.job !== undefined) {
    throw invalid('job', 'cannot be combined with error (a job fault lets the call succeed)');
  }
  if (body.error !== undefined) {
    const error = body.error;
    if (!isObject(error)) throw invalid('error', 'must be an object');
    checkKeys(error, ['status', 'error_code', 'error_msg'], 'error.');
    rule.error = {
      status: integer(error.status, 'error.status', 400, 599),
      ...(error.error_code !== undefined
        ? {
            error_code: string(
              error.error_code,
              'error.error_code',
              /^[A-Za-z]+\.[A-Za-z0-9]+$/,
              'like DWS.0503',
            ),
          }
        : {}),
      ...(error.error_msg !== undefined ? { error_msg: string(error.error_msg, 'error.error_msg') } : {}),
    };
  }
  if (body.job !== undefined) {
    if (operation !== JOB_FAULT_OPERATION) {
      throw invalid(
        'job',
        `is only for the operation ${JOB_FAULT_OPERATION} (it fails the conversion started)`,
      );
    }
    const job = body.job;
    if (!isObject(job)) throw invalid('job', 'must be an object');
    checkKeys(job, ['fail_at_percent', 'failed_code', 'failed_detail'], 'job.');
    const failedCode =
      job.failed_code === undefined
        ? 'EncryptCluster-fail:DWS.0500'
        : string(job.failed_code, 'job.failed_code');
    rule.job = {
      fail_at_percent:
        job.fail_at_percent === undefined ? 0 : integer(job.fail_at_percent, 'job.fail_at_percent', 0, 99),
      failed_code: failedCode,
      failed_detail:
        job.failed_detail === undefined
          ? 'DWS.0500:The conversion failed.'
          : string(job.failed_detail, 'job.failed_detail'),
    };
  }
  return rule;
}

/** The status and body of a faulted answer; a missing code or message takes a real one of that status. */
export function faultAnswer(error: FaultError | undefined, surface: string): Required<FaultError> {
  const status = error?.status ?? 500;
  const fallback =
    status === 503
      ? { code: Errors.STORE_UNAVAILABLE.code, msg: Errors.STORE_UNAVAILABLE.message }
      : status >= 500
        ? { code: Errors.INTERNAL.code, msg: Errors.INTERNAL.message }
        : { code: Errors.INVALID_PARAMETER.code, msg: Errors.INVALID_PARAMETER.message };
  return {
    status,
    error_code: error?.error_code || `${surface}.${fallback.code}`,
    error_msg: error?.error_msg || fallback.msg,
  };
}
