/** Service results to wire bodies of the IAM surface. */
import type { Static } from '@sinclair/typebox';
import { formatIamTime, formatIsoTime } from '../../domain/time.js';
import type { AuditPage } from '../../services/audit.js';
import type { IssuedToken } from '../../services/iam.js';
import type { AuditEventList, TokenResponse } from './schemas.js';

export function tokenView(issued: IssuedToken): Static<typeof TokenResponse> {
  const domain = { id: issued.account.domainId, name: issued.account.name };
  return {
    token: {
      expires_at: formatIamTime(issued.expiresAt),
      issued_at: formatIamTime(issued.issuedAt),
      methods: ['password'],
      user: { id: issued.user.id, name: issued.user.name, domain, password_expires_at: '' },
      project: { id: issued.project.id, name: issued.project.name, domain },
      catalog: [],
      roles: [],
    },
  };
}

export function auditPageView(page: AuditPage): Static<typeof AuditEventList> {
  return {
    events: page.events.map((e) => ({
      id: e.id,
      time: formatIsoTime(e.at),
      user: e.user,
      domain_id: e.domainId,
      access_key: e.accessKey,
      action: e.action,
      resource_type: e.resourceType,
      resource_id: e.resourceId,
      result: e.result,
      request_id: e.requestId,
      caller_request_id: e.callerRequestId,
      detail: e.detail,
    })),
    next_marker: page.nextMarker,
  };
}
