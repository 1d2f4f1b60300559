/** The append-only audit trail of every state change. */
import type { Db } from './database.js';
import type { AuditEventRow, NewAuditEvent } from './schema.js';

export async function insertAuditEvent(db: Db, event: NewAuditEvent): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

export interface AuditFilter {
  limit: number;
  /** Return events with an id lower than this (newest first paging). */
  before?: number;
  action?: string;
  resourceId?: string;
}

export async function listAuditEvents(
  db: Db,
  projectId: string,
  filter: AuditFilter,
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll().where('project_id', '=', projectId);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId);
  return query.orderBy('id', 'desc').limit(filter.limit).execute();
}
