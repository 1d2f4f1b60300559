/** TypeBox schemas of the IAM surface: token issue (Keystone v3, password method) and the audit trail. */
import { type Static, Type } from '@sinclair/typebox';
import { IntegerLike, Nullable } from '../common-schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 255 });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const DomainRef = Type.Object({ id: Type.Optional(Id), name: Type.Optional(Name) });

export const TokenRequestBody = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: 8 }),
      password: Type.Object({
        user: Type.Object({
          id: Type.Optional(Id),
          name: Type.Optional(Name),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
          domain: Type.Optional(DomainRef),
        }),
      }),
    }),
    scope: Type.Optional(
      Type.Object({
        project: Type.Optional(
          Type.Object({ id: Type.Optional(Id), name: Type.Optional(Name), domain: Type.Optional(DomainRef) }),
        ),
      }),
    ),
  }),
});
export type TokenRequestBody = Static<typeof TokenRequestBody>;

const DomainView = Type.Object({ id: Type.String(), name: Type.String() });

export const TokenResponse = Type.Object({
  token: Type.Object({
    expires_at: Type.String(),
    issued_at: Type.String(),
    methods: Type.Array(Type.String()),
    user: Type.Object({
      id: Type.String(),
      name: Type.String(),
      domain: DomainView,
      password_expires_at: Type.String({ description: 'Empty: the password does not expire.' }),
    }),
    project: Type.Object({ id: Type.String(), name: Type.String(), domain: DomainView }),
    catalog: Type.Array(Type.Unknown()),
    roles: Type.Array(Type.Unknown()),
  }),
});
export type TokenResponse = Static<typeof TokenResponse>;

/** The most audit events one page holds. */
export const MAX_AUDIT_PAGE = 1000;

export const AuditQuery = Type.Object({
  limit: Type.Optional(
    IntegerLike(1, MAX_AUDIT_PAGE, { description: `1 to ${MAX_AUDIT_PAGE} (default 100)` }),
  ),
  marker: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,18}$', description: 'next_marker of the previous page' }),
  ),
});
export type AuditQuery = Static<typeof AuditQuery>;

const NullableString = Nullable(Type.String());

export const AuditEvent = Type.Object({
  id: Type.String(),
  time: Type.String({ description: 'ISO 8601, UTC' }),
  user: NullableString,
  domain_id: NullableString,
  access_key: NullableString,
  action: Type.String(),
  resource_type: Type.String(),
  resource_id: NullableString,
  result: Type.String(),
  request_id: NullableString,
  caller_request_id: NullableString,
  detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
});
export type AuditEvent = Static<typeof AuditEvent>;

export const AuditEventList = Type.Object({
  events: Type.Array(AuditEvent),
  next_marker: NullableString,
});
export type AuditEventList = Static<typeof AuditEventList>;

/** Keystone's revocation answers 204 without a body. */
export const TokenRevoked = Type.Null({ description: 'The token is revoked; no body.' });
