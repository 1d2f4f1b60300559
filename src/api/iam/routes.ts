/**
 * The IAM surface: `POST /v3/auth/tokens` (Keystone v3 password method, project scope; public, the
 * password authenticates) and `GET /v1/{project_id}/audit-events` (ours, permission dws:audit:list).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors, ServiceError } from '../../domain/errors.js';
import type { AuditTrail } from '../../services/audit.js';
import type { IamService } from '../../services/iam.js';
import type { IdentityProvider } from '../../services/identity.js';
import { actorOf } from '../auth.js';
import { errorResponses, ProjectParams } from '../common-schemas.js';
import { declareSurface } from '../errors.js';
import { requestIds } from '../request-log.js';
import { AuditEventList, AuditQuery, TokenRequestBody, TokenResponse, TokenRevoked } from './schemas.js';
import { auditPageView, passwordAuthInput, tokenView } from './views.js';

export interface IamRoutesOptions {
  iam: IamService;
  audit: AuditTrail;
  /** Token revocation. */
  identities: IdentityProvider;
}

export const iamRoutes: FastifyPluginAsyncTypebox<IamRoutesOptions> = async (
  app,
  { iam, audit, identities },
) => {
  declareSurface(app, 'IAM', ['/v3/*']);
  app.post(
    '/v3/auth/tokens',
    {
      config: { public: true },
      schema: {
        operationId: 'KeystoneCreateUserTokenByPassword',
        tags: ['iam'],
        body: TokenRequestBody,
        response: { 201: TokenResponse, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const issued = await iam.issueToken(passwordAuthInput(request.body), requestIds(request));
      reply.code(201).header('X-Subject-Token', issued.token);
      return tokenView(issued);
    },
  );

  // Keystone's token revocation: X-Auth-Token authenticates (a token, as in Keystone and the cloud's IAM),
  // X-Subject-Token names the token to revoke, of the same user. 204 without a body.
  app.delete(
    '/v3/auth/tokens',
    {
      config: { public: true },
      schema: {
        operationId: 'KeystoneRevokeToken',
        tags: ['iam'],
        response: { 204: TokenRevoked, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const callerToken = request.headers['x-auth-token'];
      const subjectToken = request.headers['x-subject-token'];
      if (typeof callerToken !== 'string' || callerToken === '') throw new ServiceError(Errors.AUTH_MISSING);
      if (typeof subjectToken !== 'string' || subjectToken === '') {
        throw new ServiceError(
          Errors.INVALID_PARAMETER,
          'The X-Subject-Token header names the token to revoke.',
        );
      }
      await identities.revokeToken(callerToken, subjectToken);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/:project_id/audit-events',
    {
      // Ours, beside the DWS routes' paths: its errors read as DWS ones.
      config: { action: 'dws:audit:list', surface: 'DWS' },
      schema: {
        operationId: 'ListAuditEvents',
        tags: ['iam'],
        params: ProjectParams,
        querystring: AuditQuery,
        response: { 200: AuditEventList, ...errorResponses() },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const marker = request.query.marker === undefined ? undefined : Number(request.query.marker);
      const page = await audit.list(actorOf(request), {
        limit,
        ...(marker !== undefined ? { marker } : {}),
      });
      return auditPageView(page);
    },
  );
};
