/**
 * The console's one way to call the service: same-origin fetch, authenticated with the session's
 * token (X-Auth-Token) or signed in the browser (SDK-HMAC-SHA256), errors turned into ApiError with
 * the wire's error_code and error_msg.
 */
import type { Session } from './session.js';
import { signRequest } from './signer.js';
import type { ApiErrorBody } from './types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined | null>;
  body?: unknown;
  /** Extra headers (not signed specially: every header sent is signed). */
  headers?: Record<string, string>;
}

export interface RawResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

/** Drops undefined, null and empty parameters; stringifies the rest. */
export function cleanQuery(query: RequestOptions['query']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    out[name] = String(value);
  }
  return out;
}

/** `?a=1&b=2` (sorted names, percent-encoded) or '' for no parameters: the query the browser sends. */
export function encodeQuery(query: Record<string, string>): string {
  const names = Object.keys(query).sort();
  if (names.length === 0) return '';
  return `?${names.map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(query[name] ?? '')}`).join('&')}`;
}

async function toApiError(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id');
  let body: ApiErrorBody | null = null;
  const text = await response.text().catch(() => '');
  try {
    body = text ? (JSON.parse(text) as ApiErrorBody) : null;
  } catch {
    body = null;
  }
  const code = body?.error_code ?? `HTTP ${response.status}`;
  const message = body?.error_msg ?? (response.statusText || 'The service answered with an error.');
  return new ApiError(response.status, code, message, requestId);
}

/** Sends one request without any authentication (used for IAM sign-in). */
export async function rawRequest<T>(
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<RawResponse<T>> {
  const query = cleanQuery(options.query);
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(path + encodeQuery(query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The service cannot be reached (${(error as Error).message}).`, null);
  }
  if (!response.ok) throw await toApiError(response);
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(
        response.status,
        'BAD_RESPONSE',
        'The service answered with something that is not JSON.',
        null,
      );
    }
  }
  return { status: response.status, headers: response.headers, data: data as T };
}

export type UnauthorizedListener = (error: ApiError) => void;

export class ApiClient {
  readonly session: Session;
  private readonly onUnauthorized: UnauthorizedListener | undefined;
  /** The host the browser sends in `Host`; injectable for tests. */
  private readonly host: string;

  constructor(
    session: Session,
    onUnauthorized?: UnauthorizedListener,
    host = globalThis.location?.host ?? '',
  ) {
    this.session = session;
    this.onUnauthorized = onUnauthorized;
    this.host = host;
  }

  get projectId(): string {
    return this.session.projectId;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const query = cleanQuery(options.query);
    let body: string | undefined;
    const headers: Record<string, string> = { 'X-Project-Id': this.session.projectId, ...options.headers };
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    let response = await this.send(method, path, query, headers, body);
    if (
      !response.ok &&
      response.status === 401 &&
      this.session.kind === 'aksk' &&
      this.adoptServerClock(response)
    ) {
      // The signature was refused for its date: sign again with the server's clock, once.
      response = await this.send(method, path, query, headers, body);
    }
    if (!response.ok) {
      const error = await toApiError(response);
      if (response.status === 401) this.onUnauthorized?.(error);
      throw error;
    }
    const text = await response.text();
    if (!text) return null as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        response.status,
        'BAD_RESPONSE',
        'The service answered with something that is not JSON.',
        null,
      );
    }
  }

  /** Milliseconds to add to this browser's clock to get the server's (X-Sdk-Date must be within 15 min). */
  clockOffsetMs = 0;

  private async send(
    method: string,
    path: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Response> {
    let sendHeaders: Record<string, string>;
    if (this.session.kind === 'token') {
      sendHeaders = { ...headers, 'X-Auth-Token': this.session.token };
    } else {
      const signed = await signRequest({
        method,
        path,
        query,
        headers: { ...headers, host: this.host },
        body,
        ak: this.session.ak,
        key: this.session.key,
        date: new Date(Date.now() + this.clockOffsetMs),
      });
      sendHeaders = signed.headers;
    }
    try {
      return await fetch(path + encodeQuery(query), {
        method,
        headers: sendHeaders,
        body,
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, 'NETWORK', `The service cannot be reached (${(error as Error).message}).`, null);
    }
  }

  /**
   * After a 401, when this browser's clock is more than a minute away from the server's `Date`
   * header, remember the difference and say so (the request is then worth signing again).
   */
  private adoptServerClock(response: Response): boolean {
    const serverTime = Date.parse(response.headers.get('date') ?? '');
    if (!Number.isFinite(serverTime)) return false;
    const offset = serverTime - Date.now();
    if (Math.abs(offset - this.clockOffsetMs) < 60_000) return false;
    this.clockOffsetMs = offset;
    return true;
  }
}
