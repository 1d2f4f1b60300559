/** The authentication hook refuses, at start-up, a route whose permission name is not in the catalogue. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerAuthentication } from '../../src/api/auth.js';
import { StaticIdentityProvider } from '../../src/services/identity.js';

function app() {
  const instance = Fastify({ logger: false });
  registerAuthentication(instance, { identities: new StaticIdentityProvider(), windowMs: 900_000 });
  return instance;
}

test('a route checking an unknown permission name fails to register, naming it', async () => {
  const instance = app();
  await assert.rejects(async () => {
    await instance.register(async (scope) => {
      scope.get('/v1/:project_id/things', { config: { action: 'dws:thing:get' } }, async () => ({}));
    });
    await instance.ready();
  }, /checks dws:thing:get, which is not in ACTIONS/);
  await instance.close();
});

test('known names and public routes register', async () => {
  const instance = app();
  await instance.register(async (scope) => {
    scope.get('/v1/:project_id/audit-events', { config: { action: 'dws:audit:list' } }, async () => ({}));
    scope.get('/healthz', { config: { public: true } }, async () => ({}));
  });
  await instance.ready();
  await instance.close();
});
