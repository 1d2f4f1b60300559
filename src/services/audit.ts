import { insertAuditEvent } from '../store/audit.js';
import type { Db } from '../store/database.js';
import type { Actor } from './actor.js';

export interface AuditEntry {
  action: string;
  resourceType: 'cluster' | 'key' | 'job' | 'token' | 'credential';
  resourceId: string | null;
  result: 'success' | 'failure' | 'accepted';
  /** Short, non-secret facts (states, key ids, error codes); never key material or credentials. */
  detail?: Record<string, unknown>;
}

/** Records one state change in the same transaction as the change itself. */
export async function recordAudit(db: Db, actor: Actor, entry: AuditEntry, now: number): Promise<void> {
  await insertAuditEvent(db, {
    at: now,
    request_id: actor.requestId ?? null,
    caller_request_id: actor.callerRequestId ?? null,
    domain_id: actor.domainId || null,
    project_id: actor.projectId,
    user_name: actor.userName,
    access_key: actor.accessKey ?? null,
    action: entry.action,
    resource_type: entry.resourceType,
    resource_id: entry.resourceId,
    result: entry.result,
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
  });
}
