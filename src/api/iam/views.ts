/** The IAM surface's wire bodies to service inputs, and service results to wire bodies. */
import { formatIamTime, formatIsoTime } from '../../domain/time.js';
import type { AuditPage } from '../../services/audit.js';
import type { IssuedToken, PasswordAuthInput } from '../../services/iam.js';
import type { AuditEventList, TokenRequestBody, TokenResponse } from './schemas.js';

/** The Keystone v3 password-method request as token issue reads it. */
export function passwordAuthInput({ auth }: TokenRequestBody): PasswordAuthInput {
  const { user } = auth.identity.password;
  const project = auth.scope?.project;
  return {
    methods: auth.identity.methods,
    user: {
      password: user.password,
      ...(user.id !== undefined ? { id: user.id } : {}),
      ...(user.name !== undefined ? { name: user.name } : {}),
      ...(user.domain?.id !== undefined ? { domainId: user.domain.id } : {}),
      ...(user.domain?.name !== undefined ? { domainName: user.domain.name } : {}),
    },
    ...(project
      ? {
          scope: {
            ...(project.id !== undefined ? { projectId: project.id } : {}),
            ...(project.name !== undefined ? { projectName: project.name } : {}),
          },
        }
      : {}),
  };
}

export function tokenView(issued: IssuedToken): TokenResponse {
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

export function auditPageView(page: AuditPage): AuditEventList {
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
