/**
 * The audit trail: every change is recorded through `recordAudit`, in the transaction of the change;
 * `AuditTrail` reads it back a page at a time (GET /v1/{project_id}/audit-events).
 */
import { insertAuditEvent, listAuditEvents } from '../store/audit.js';
import type { Database, Db } from '../store/database.js';
import type { AuditEventRow } from '../store/schema.js';
import type { Actor } from './actor.js';

/** Who an entry names: an actor, or (a refused token request) someone without a project yet. */
export type AuditActor = Omit<Actor, 'projectId'> & { projectId: string | null };

export interface AuditEntry {
  action: string;
  resourceType: 'cluster' | 'key' | 'job' | 'token' | 'credential' | 'user';
  resourceId: string | null;
  result: 'success' | 'failure' | 'accepted';
  /** Short, non-secret facts (states, key ids, error codes); never key material or credentials. */
  detail?: Record<string, unknown>;
}

/** Records one state change in the same transaction as the change itself. */
export async function recordAudit(db: Db, actor: AuditActor, entry: AuditEntry, now: number): Promise<void> {
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

export interface AuditEventView {
  id: string;
  at: number;
  user: string | null;
  domainId: string | null;
  accessKey: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  result: string;
  requestId: string | null;
  callerRequestId: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditPage {
  events: AuditEventView[];
  nextMarker: string | null;
}

export class AuditTrail {
  constructor(private readonly database: Database) {}

  /** One page of the project's audit trail, newest first; `marker` is the last id of the previous page. */
  async list(actor: Actor, page: { limit: number; marker?: number }): Promise<AuditPage> {
    const rows = await listAuditEvents(this.database.db, actor.projectId, {
      limit: page.limit + 1,
      ...(page.marker !== undefined ? { before: page.marker } : {}),
    });
    const more = rows.length > page.limit;
    const events = rows.slice(0, page.limit).map(auditView);
    return { events, nextMarker: more && events.length > 0 ? events[events.length - 1]!.id : null };
  }
}

function auditView(row: AuditEventRow): AuditEventView {
  let detail: Record<string, unknown> | null = null;
  if (row.detail) {
    try {
      const parsed: unknown = JSON.parse(row.detail);
      detail = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : { value: parsed };
    } catch {
      detail = { text: row.detail };
    }
  }
  return {
    id: String(row.id),
    at: Number(row.at),
    user: row.user_name,
    domainId: row.domain_id,
    accessKey: row.access_key,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    result: row.result,
    requestId: row.request_id,
    callerRequestId: row.caller_request_id,
    detail,
  };
}
