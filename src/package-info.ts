/**
 * This package's root folder and version, found by walking up from a module to the package.json named
 * dws-encryption: works from `src/` (tsx) and from `dist/src/` (tsc) alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'dws-encryption';

interface Manifest {
  name?: string;
  version?: string;
}

function findPackage(fromUrl: string): { root: string; manifest: Manifest } | undefined {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      try {
        const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
        if (manifest.name === PACKAGE_NAME) return { root: dir, manifest };
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function packageRoot(fromUrl: string = import.meta.url): string {
  const found = findPackage(fromUrl);
  if (!found) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${fromUrl}`);
  return found.root;
}

export function packageVersion(): string {
  return findPackage(import.meta.url)?.manifest.version ?? '0.0.0';
}
