/**
 * The OpenAPI 3 reference, generated from the route schemas by @fastify/swagger:
 * - `GET /openapi.json`: the document; `GET /docs`: Swagger UI, its assets served from node_modules (no CDN).
 * - Every operation (a route with a `schema.operationId`) carries its permission name as
 *   `x-permission` and in its description, and the security schemes it accepts; public operations
 *   (ops endpoints) carry `x-public: true` and no security.
 * - Routes without an operationId (Swagger UI's own files, the console's assets) are left out.
 * Call `registerOpenApi` BEFORE the route plugins: @fastify/swagger collects routes as they are added.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { packageVersion } from '../../package-info.js';

const DESCRIPTION = [
  'Self-hosted, wire-compatible GaussDB(DWS) cluster-encryption API with its KMS subset.',
  '',
  'Every operation except the `ops` ones is authenticated: sign the request with **SDK-HMAC-SHA256**',
  '(`Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` with `X-Sdk-Date`), as the',
  'official Huawei Cloud SDKs do, or send an IAM token in `X-Auth-Token`. The permission each operation',
  'checks is in its description and in `x-permission`. Every 4xx/5xx answer is an `ErrorBody`',
  '(`{"error_code": "DWS.NNNN", "error_msg": "..."}`, `KMS.NNNN` on KMS routes); see docs/errors.md.',
  '',
  "Swagger UI's *Try it out* cannot compute signatures: use the `dws-encryption` CLI or an SDK to call",
  'authenticated operations.',
].join('\n');

interface RouteLike {
  config?: { action?: string; public?: boolean } | undefined;
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'dws-encryption API', version: packageVersion(), description: DESCRIPTION },
      tags: [
        { name: 'dws', description: 'GaussDB(DWS): cluster encryption, jobs and the clusters they need' },
        { name: 'kms', description: 'KMS subset: master keys and data keys' },
        { name: 'ops', description: 'Health, readiness and metrics (no signature)' },
        {
          name: 'emulator',
          description:
            'Ours, under /_dws/: reset, state snapshots, seeding, fault rules and finishing jobs for tests (docs/testing.md). Off with DWS_EMULATOR_API=off.',
        },
      ],
      components: {
        securitySchemes: {
          sdkHmacSha256: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'SDK-HMAC-SHA256 signature over the canonical request (with X-Sdk-Date; X-Project-Id recommended).',
          },
          iamToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'IAM token' },
        },
      },
    },
    // Schemas added with app.addSchema keep their $id as their name (ErrorBody, not def-0).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      if (!schema?.operationId) return { schema: { ...schema, hide: true }, url };
      const { action, public: isPublic } = (route as RouteLike).config ?? {};
      if (action) {
        const permission = `Permission: \`${action}\`.`;
        return {
          schema: {
            ...schema,
            description: schema.description ? `${permission}\n\n${schema.description}` : permission,
            'x-permission': action,
            security: [{ sdkHmacSha256: [] }, { iamToken: [] }],
          } as typeof schema,
          url,
        };
      }
      return {
        schema: {
          ...schema,
          description: [isPublic ? 'Public: no signature needed.' : '', schema.description ?? '']
            .filter(Boolean)
            .join('\n\n'),
          'x-public': true,
          security: [],
        } as typeof schema,
        url,
      };
    },
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(app.swagger()),
  );

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
    // Everything comes from this origin: Swagger UI's files are served from node_modules.
    staticCSP: {
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'img-src': "'self' data:",
      'font-src': "'self' data:",
      'connect-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'self'",
      'frame-ancestors': "'self'",
    },
  });
}
