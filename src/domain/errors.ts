/**
 * The one error catalogue of the product. Every refusal the service can answer is an entry here; the
 * API layer renders it as `{"error_code", "error_msg"}` in exactly one place (src/api/errors.ts), and
 * docs/errors.md lists the same table (a test keeps the two in step).
 *
 * `surface` fixes the code's prefix for errors that belong to one service. Generic errors (validation,
 * authentication, ...) have none and take the surface the route declares (src/api/errors.ts,
 * `declareSurface`): the same refusal reads `DWS.0101` on a cluster route and `KMS.0101` on a KMS route.
 * `renderCode` is the only place a code is written.
 */
export type Surface = 'DWS' | 'KMS' | 'IAM' | 'APIGW';

export interface ErrorDef {
  readonly status: number;
  /** Four digits; rendered as `<surface>.<code>`. */
  readonly code: string;
  readonly surface?: Surface;
  readonly message: string;
}

function def(status: number, code: string, message: string, surface?: Surface): ErrorDef {
  return surface ? { status, code, message, surface } : { status, code, message };
}

export const Errors = {
  // Request shape (any surface)
  INVALID_PARAMETER: def(400, '0001', 'Invalid request parameter.'),
  MALFORMED_JSON: def(400, '0002', 'The request body is not valid JSON.'),
  BODY_TOO_LARGE: def(413, '0003', 'The request body exceeds the size limit.'),
  UNSUPPORTED_MEDIA_TYPE: def(400, '0004', 'Unsupported Content-Type; send application/json.'),
  INVALID_PROJECT_ID: def(400, '0005', 'The project id must be 32 lowercase hexadecimal characters.'),
  INVALID_RESOURCE_ID: def(400, '0006', 'The resource id must be a UUID.'),
  ROUTE_NOT_FOUND: def(404, '0007', 'No such API.'),
  HEADERS_TOO_LARGE: def(400, '0008', 'The request headers are too large.'),
  REQUEST_TIMEOUT: def(408, '0009', 'The request was not received in time; the connection is closed.'),
  MALFORMED_REQUEST: def(400, '0010', 'The request is not valid HTTP; the connection is closed.'),
  CLIENT_TOKEN_INVALID: def(
    400,
    '0011',
    'X-Client-Token must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -.',
  ),
  CLIENT_TOKEN_REUSED: def(
    400,
    '0012',
    'X-Client-Token was already used with a different request; send a new token for a new request.',
  ),
  CLIENT_TOKEN_IN_PROGRESS: def(
    409,
    '0013',
    'A request with this X-Client-Token is still being processed; retry later for its answer.',
  ),

  // Authentication and authorization (any surface)
  AUTH_MISSING: def(
    401,
    '0101',
    'Authentication required: sign the request (SDK-HMAC-SHA256) or send X-Auth-Token.',
  ),
  AUTH_MALFORMED: def(401, '0102', 'The Authorization header is malformed.'),
  AUTH_SIGNATURE: def(401, '0103', 'The request signature does not match, or the access key is unknown.'),
  AUTH_DATE: def(401, '0104', 'X-Sdk-Date is missing, malformed, or more than 15 minutes from server time.'),
  AUTH_CONTENT_HASH: def(401, '0105', 'X-Sdk-Content-Sha256 does not match the request body.'),
  AUTH_TOKEN: def(401, '0106', 'The token is invalid or has expired.'),
  METRICS_TOKEN_REQUIRED: def(401, '0107', 'GET /metrics needs Authorization: Bearer <DWS_METRICS_TOKEN>.'),
  PROJECT_FORBIDDEN: def(403, '0201', 'The caller has no access to this project.'),
  ACTION_FORBIDDEN: def(403, '0202', 'The caller lacks the permission for this action.'),

  // Service state (any surface)
  INTERNAL: def(500, '0500', 'Internal server error.'),
  STORE_UNAVAILABLE: def(
    503,
    '0503',
    'The service is temporarily unavailable: the store cannot be reached or written.',
  ),
  SHUTTING_DOWN: def(503, '0504', 'The service is shutting down; retry against another instance.'),
  TOO_MANY_JOBS: def(503, '0505', 'Too many jobs are running; retry later.'),
  STORE_BUSY: def(
    503,
    '0506',
    'The service is busy: the store did not free a connection or a lock in time; retry shortly.',
  ),
  // Never seen by a client (it has gone); named in the request log and audit-free: nothing was committed.
  CLIENT_CLOSED_REQUEST: def(
    499,
    '0499',
    'The client closed the connection before the answer; nothing was committed.',
  ),

  // Request throttling, answered the way the cloud's API gateway does (APIGW.0308, 429, Retry-After)
  THROTTLED: def(
    429,
    '0308',
    'The throttling threshold has been reached: too many requests from this access key; retry after the time in Retry-After.',
    'APIGW',
  ),

  // DWS resources and rules
  CLUSTER_NOT_FOUND: def(404, '0301', 'The cluster does not exist.', 'DWS'),
  JOB_NOT_FOUND: def(404, '0302', 'The job does not exist.', 'DWS'),
  CLUSTER_NAME_EXISTS: def(400, '0303', 'A cluster with this name already exists in the project.', 'DWS'),
  CLUSTER_NOT_AVAILABLE: def(400, '0401', 'The cluster is not AVAILABLE.', 'DWS'),
  CLUSTER_ALREADY_ENCRYPTED: def(400, '0402', 'The cluster is already encrypted.', 'DWS'),
  CLUSTER_CONVERSION_IN_PROGRESS: def(
    400,
    '0403',
    'An encryption conversion of this cluster is in progress.',
    'DWS',
  ),
  CLUSTER_VERSION_TOO_OLD: def(400, '0404', 'The cluster version is below 8.0.0.', 'DWS'),
  GUEST_AGENT_TOO_OLD: def(400, '0405', 'The cluster guestAgent version is below 8.3.0.200.', 'DWS'),
  CLUSTER_NOT_ENCRYPTED: def(400, '0406', 'The cluster is not encrypted.', 'DWS'),
  MASTER_KEY_NOT_FOUND: def(400, '0407', 'The master key does not exist in this project.', 'DWS'),
  MASTER_KEY_NOT_ENABLED: def(400, '0408', 'The master key is not enabled.', 'DWS'),
  MASTER_KEY_SPEC_MISMATCH: def(400, '0409', 'The master key spec does not suit the algorithm.', 'DWS'),
  MASTER_KEY_NAME_MISMATCH: def(
    400,
    '0410',
    'master_key_name does not match the alias of the master key.',
    'DWS',
  ),
  CLUSTER_BUSY: def(400, '0411', 'The cluster is being changed by another operation; retry later.', 'DWS'),
  INVALID_VERSION: def(400, '0412', 'A version must be dotted numbers, such as 8.3.0.200.', 'DWS'),
  MASTER_KEY_REQUIRED: def(
    400,
    '0413',
    'master_key_id and crypt_algorithm are required to create an encrypted cluster.',
    'DWS',
  ),

  NODE_QUOTA_EXCEEDED: def(
    400,
    '0414',
    'The project has reached its node quota (DWS_QUOTA_NODES): delete a cluster first.',
    'DWS',
  ),
  JOB_QUOTA_EXCEEDED: def(
    400,
    '0415',
    'The project has reached its quota of unfinished jobs (DWS_QUOTA_ACTIVE_JOBS); retry when one finishes.',
    'DWS',
  ),

  // KMS
  KEY_NOT_FOUND: def(404, '0301', 'The key does not exist.', 'KMS'),
  KEY_ALIAS_EXISTS: def(400, '0302', 'A key with this alias already exists in the project.', 'KMS'),
  KEY_DISABLED: def(400, '0303', 'The key is disabled.', 'KMS'),
  KEY_PENDING_DELETION: def(400, '0304', 'The key is pending deletion.', 'KMS'),
  KEY_STATE_CONFLICT: def(400, '0305', 'The key state does not allow this operation.', 'KMS'),
  CIPHERTEXT_INVALID: def(
    400,
    '0306',
    'The ciphertext cannot be decrypted with this key and context.',
    'KMS',
  ),
  DIGEST_MISMATCH: def(
    400,
    '0307',
    'plain_text does not end with the digest of the data key (SHA-256 under an AES_256 master key, SM3 under an SM4 one).',
    'KMS',
  ),
  KEY_SPEC_UNSUPPORTED: def(400, '0308', 'The key spec is not supported.', 'KMS'),
  KEY_QUOTA_EXCEEDED: def(
    400,
    '0309',
    'The project has reached its key quota (DWS_QUOTA_KEYS): schedule a key for deletion first.',
    'KMS',
  ),

  // IAM
  IAM_BAD_CREDENTIALS: def(401, '0401', 'The user name, account or password is wrong.', 'IAM'),
  IAM_PROJECT_NOT_FOUND: def(401, '0402', 'The scope project does not exist in the account.', 'IAM'),
  IAM_TOKEN_NOT_FOUND: def(
    404,
    '0404',
    'The token named by X-Subject-Token does not exist, has expired or was revoked.',
    'IAM',
  ),
  IAM_USER_LOCKED: def(
    429,
    '0403',
    'Too many failed logins: the user is locked for a while; retry after the time in Retry-After.',
    'IAM',
  ),
} as const satisfies Record<string, ErrorDef>;

/**
 * A refusal with a catalogue entry; `detail` replaces the default message (never put secrets in it).
 * `retryAfterSeconds` becomes the answer's Retry-After header (throttling, lockout).
 */
export class ServiceError extends Error {
  readonly def: ErrorDef;
  readonly retryAfterSeconds: number | undefined;
  /** More fields of the error body beside error_code and error_msg (never secrets). */
  readonly extra: Readonly<Record<string, string>> | undefined;
  constructor(
    def: ErrorDef,
    detail?: string,
    options: { retryAfterSeconds?: number; extra?: Readonly<Record<string, string>> } = {},
  ) {
    super(detail ?? def.message);
    this.name = 'ServiceError';
    this.def = def;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.extra = options.extra;
  }
}

export function renderCode(def: ErrorDef, routeSurface: Surface): string {
  return `${def.surface ?? routeSurface}.${def.code}`;
}
