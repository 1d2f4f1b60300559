/** The Fastify plugin that serves the built console at /console/ (src/api/console/plugin.ts). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { CONSOLE_CSP, consolePlugin, resolveConsoleRoot } from '../../src/api/console/plugin.js';

const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

async function appWith(
  root: string,
  options: { routerOptions?: { ignoreTrailingSlash?: boolean } } = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ...options });
  await app.register(consolePlugin, { root });
  app.get('/v1.0/health', async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('console plugin', () => {
  let root: string;
  let app: FastifyInstance;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'dws-console-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1);');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = await appWith(root);
  });

  after(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('redirects /console to /console/, keeping the query', async () => {
    const plain = await app.inject('/console');
    assert.equal(plain.statusCode, 301);
    assert.equal(plain.headers.location, '/console/');
    const withQuery = await app.inject('/console?x=1');
    assert.equal(withQuery.headers.location, '/console/?x=1');
  });

  it('serves index.html at /console/ and for every console page (SPA fallback)', async () => {
    for (const url of [
      '/console/',
      '/console/index.html',
      '/console/clusters',
      '/console/keys',
      '/console/jobs/5d2c1b0a-1111-4222-8333-944455556666',
    ]) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/, url);
      assert.equal(res.body, '<!doctype html><title>console</title>', url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    }
  });

  it('serves hashed assets with a long cache lifetime, other files revalidated', async () => {
    const js = await app.inject('/console/assets/index-abc123.js');
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const icon = await app.inject('/console/favicon.svg');
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], 'no-cache');
    const head = await app.inject({ method: 'HEAD', url: '/console/assets/index-abc123.js' });
    assert.equal(head.statusCode, 200);
  });

  it('answers 404 for a missing asset instead of the page', async () => {
    const res = await app.inject('/console/assets/missing.js');
    assert.equal(res.statusCode, 404);
  });

  it('never serves files outside its root', async () => {
    for (const url of [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/assets/..%2f..%2fpackage.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json',
      '/console/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      const res = await app.inject(url);
      const page = res.statusCode === 200 && res.body === '<!doctype html><title>console</title>';
      assert.ok(page || res.statusCode === 404 || res.statusCode === 403, `${url}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /dws-encryption|root:/, url);
    }
  });

  it('leaves other routes alone (no console headers, no decorators leaking)', async () => {
    const res = await app.inject('/v1.0/health');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-security-policy'], undefined);
    assert.equal((await app.inject('/consolex')).statusCode, 404);
    assert.equal(app.hasReplyDecorator('sendFile'), false);
  });

  it('says how to build the console when it has not been built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dws-console-empty-'));
    const bare = await appWith(empty);
    try {
      const res = await bare.inject('/console/clusters');
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /npm run build/);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('does not loop when the app ignores trailing slashes', async () => {
    const loose = await appWith(root, { routerOptions: { ignoreTrailingSlash: true } });
    try {
      const redirect = await loose.inject('/console');
      assert.equal(redirect.statusCode, 301);
      assert.equal(redirect.headers.location, '/console/');
      const page = await loose.inject('/console/');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<title>console<\/title>/);
    } finally {
      await loose.close();
    }
  });

  it('finds dist/console of the package from src/ and from dist/src/', () => {
    const expected = join(PACKAGE_ROOT, 'dist', 'console');
    assert.equal(resolveConsoleRoot(), expected);
    const compiled = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'api', 'console', 'plugin.js')).href;
    assert.equal(resolveConsoleRoot(compiled), expected);
  });
});
