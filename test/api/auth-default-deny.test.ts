/** A project-scoped route that forgets its permission name is refused at start-up, not served open. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerAuthentication } from '../../src/api/auth.js';
import { StaticIdentityProvider } from '../../src/services/identity.js';

test('registering a project-scoped route without an action or public flag throws', async () => {
  const app = Fastify();
  registerAuthentication(app, { identities: new StaticIdentityProvider(), windowMs: 900_000 });
  assert.throws(() => app.get('/v1/:project_id/forgotten', async () => ({})), /declares no action/);
  assert.doesNotThrow(() => app.get('/v1/:project_id/open', { config: { public: true } }, async () => ({})));
  assert.doesNotThrow(() => app.get('/healthz-like', async () => ({})));
  await app.close();
});
