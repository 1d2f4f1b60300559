/**
 * Serves the browser console (built by Vite into dist/console) under /console/:
 * - `/console` redirects to `/console/`;
 * - files that exist are served as they are (hashed assets cached for a year, the rest revalidated);
 * - any other `/console/<page>` path without a file extension answers index.html (the console routes
 *   in the browser); a missing asset (`/console/assets/x.js`) is an ordinary 404.
 * No authentication here: the console's own API calls are authenticated like any client's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { packageRoot } from '../../package-info.js';

export interface ConsolePluginOptions {
  /** The folder holding the built console (index.html, assets/). */
  root: string;
}

const PREFIX = '/console';

/** The console talks only to its own origin; nothing is inline, nothing comes from elsewhere. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** `dist/console` of this package (works from `src/` through tsx and from `dist/src/`). */
export function resolveConsoleRoot(fromUrl: string = import.meta.url): string {
  return join(packageRoot(fromUrl), 'dist', 'console');
}

/** A path under /console/ that names a file (its last segment has an extension), not a console page. */
function isAssetPath(relative: string): boolean {
  const last = relative.slice(relative.lastIndexOf('/') + 1);
  return /\.[A-Za-z0-9]+$/.test(last);
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Console not built</title>
<p>The web console has not been built. Run <code>npm run build</code> (or <code>npm run build:console</code>) and reload.</p>`;

export async function consolePlugin(app: FastifyInstance, opts: ConsolePluginOptions): Promise<void> {
  const root = opts.root;
  const indexFile = join(root, 'index.html');
  // Everything lives in its own encapsulated context, so neither the reply decorators of
  // @fastify/static nor the headers hook below reach other routes.
  await app.register(
    async (scope) => {
      await scope.register(fastifyStatic, {
        root,
        serve: false,
        cacheControl: false,
        dotfiles: 'deny',
        setHeaders(res, path) {
          // Vite puts content hashes in every file name under assets/: they never change.
          res.setHeader(
            'Cache-Control',
            path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      });

      scope.addHook('onSend', async (_request, reply, payload) => {
        reply.header('Content-Security-Policy', CONSOLE_CSP);
        reply.header('X-Content-Type-Options', 'nosniff');
        reply.header('Referrer-Policy', 'no-referrer');
        reply.header('X-Frame-Options', 'DENY');
        return payload;
      });

      const sendIndex = (reply: FastifyReply) => {
        if (!existsSync(indexFile)) {
          return reply
            .code(503)
            .header('Cache-Control', 'no-store')
            .type('text/html; charset=utf-8')
            .send(NOT_BUILT);
        }
        return reply.header('Cache-Control', 'no-cache').sendFile('index.html');
      };

      // `/console` (no slash): to `/console/`, keeping any query. An app created with
      // ignoreTrailingSlash also routes `/console/` here: that one gets the page (no redirect loop).
      scope.get('/', { prefixTrailingSlash: 'no-slash', config: { public: true } }, (request, reply) => {
        const url = request.raw.url ?? PREFIX;
        const query = url.indexOf('?');
        const path = query < 0 ? url : url.slice(0, query);
        if (path.endsWith('/')) return sendIndex(reply);
        return reply.redirect(`${PREFIX}/${query < 0 ? '' : url.slice(query)}`, 301);
      });

      scope.get<{ Params: { '*': string } }>('/*', { config: { public: true } }, (request, reply) => {
        const relative = request.params['*'] ?? '';
        if (relative === '' || relative === 'index.html' || !isAssetPath(relative)) return sendIndex(reply);
        return reply.sendFile(relative);
      });
    },
    { prefix: PREFIX },
  );
}
