/**
 * Pre-signed requests for the load generators: every request carries its own SDK-HMAC-SHA256
 * signature, made by the official Huawei Cloud signer (`AKSKSigner.sign`), for several clusters ×
 * many signing times inside the ±15-minute window, so no cache can answer for the signature check.
 */
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { formatSdkDate } from '../../src/crypto/signing-canonical.js';

export interface SignedRequest {
  method: string;
  path: string;
  /** Header name → value, exactly as sent (the Host header included). */
  headers: Record<string, string>;
  body?: string;
}

export interface Credentials {
  ak: string;
  sk: string;
}

/** Signs one request with the official signer, as the SDK's HTTP client does. */
export function officialSign(
  host: string,
  method: string,
  path: string,
  credentials: Credentials,
  options: { body?: unknown; date?: Date; headers?: Record<string, string> } = {},
): SignedRequest {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    ...(options.date ? { 'X-Sdk-Date': formatSdkDate(options.date) } : {}),
    ...options.headers,
  };
  const request = {
    endpoint: `http://${host}${path}`,
    method,
    headers: { ...headers },
    queryParams: {},
    data: options.body,
  };
  const credential = new BasicCredentials().withAk(credentials.ak).withSk(credentials.sk);
  const auth = AKSKSigner.sign(request, credential) as Record<string, string>;
  return {
    method,
    path,
    headers: { Host: host, ...request.headers, ...auth },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  };
}

/**
 * `clusters.length × times` distinct signed GETs of encrypt-info, signing times spread one second
 * apart around `center` (so all stay inside the window for several minutes), interleaved so that
 * consecutive requests differ in both cluster and time.
 */
export function presignEncryptInfo(
  host: string,
  projectId: string,
  clusterIds: readonly string[],
  times: number,
  credentials: Credentials,
  center = Date.now(),
): SignedRequest[] {
  const out: SignedRequest[] = [];
  const first = center - Math.floor(times / 2) * 1000;
  for (let t = 0; t < times; t++) {
    const date = new Date(first + t * 1000);
    for (const id of clusterIds) {
      out.push(
        officialSign(host, 'GET', `/v1/${projectId}/clusters/${id}/encrypt-info`, credentials, { date }),
      );
    }
  }
  // Deterministic shuffle (xorshift), so the load generator does not walk the clusters in order.
  let seed = 0x9e3779b9;
  for (let i = out.length - 1; i > 0; i--) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const j = (seed >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The raw HTTP/1.1 bytes of a request (what wrk sends verbatim). */
export function rawRequest(request: SignedRequest): string {
  let text = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(request.headers)) text += `${name}: ${value}\r\n`;
  const body = request.body ?? '';
  if (body !== '') text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${text}\r\n${body}`;
}

/** Sends a signed request with fetch (for setup and checks, not for load). */
export async function send(
  baseUrl: string,
  request: SignedRequest,
): Promise<{ status: number; text: string; body: any }> {
  const headers = { ...request.headers };
  delete headers.Host;
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const text = await response.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}
