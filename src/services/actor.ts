/** Who is acting: every service call takes one, so scope (account, project) is always explicit. */
export interface Actor {
  domainId: string;
  projectId: string;
  userName: string;
  /** The access key of a signed request; undefined for token callers and internal work. */
  accessKey?: string;
  /** The server's id of the request that acts. */
  requestId?: string;
  /** The caller's own X-Request-Id (unsigned, so only a hint for correlation). */
  callerRequestId?: string;
}

/** The identity the job runner acts as when it finishes work a user started. */
export function systemActor(projectId: string, requestId?: string): Actor {
  return { domainId: '', projectId, userName: 'system:job-runner', ...(requestId ? { requestId } : {}) };
}
