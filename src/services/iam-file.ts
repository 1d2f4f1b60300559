/**
 * Reads the identities file named by DWS_IAM_FILE at start-up. Any problem (unreadable file, bad
 * JSON, a field that fails validation) is a ConfigError naming the file and the field path, so the
 * service stops with exit code 2 before it opens the store. Messages never contain secret values.
 */
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { IdentitiesError, type IdentitiesSpec, validateIdentities } from '../domain/identities.js';

/**
 * The file grants access and holds secrets: writable by others (anyone could grant themselves every
 * permission) it is refused; readable by others (anyone could read the SKs) it is accepted with a
 * warning through `warn`.
 */
export function loadIdentitiesFile(path: string, warn: (message: string) => void = () => {}): IdentitiesSpec {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    const shown = mode.toString(8).padStart(4, '0');
    if (process.platform !== 'win32' && (mode & 0o002) !== 0) {
      throw new ConfigError(
        `DWS_IAM_FILE ${path} is writable by others (mode ${shown}): anyone on this machine could grant themselves access; fix with: chmod 600 ${path}`,
      );
    }
    if (process.platform !== 'win32' && (mode & 0o004) !== 0) {
      warn(
        `DWS_IAM_FILE ${path} is readable by others (mode ${shown}) and holds secret keys and passwords; fix with: chmod 600 ${path}`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(`DWS_IAM_FILE ${path} cannot be read (${code})`);
  }
  return parseIdentities(text, path);
}

/** Parses and validates the file's text; `source` names it in messages. */
export function parseIdentities(text: string, source: string): IdentitiesSpec {
  let document: unknown;
  try {
    document = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    // JSON.parse messages quote a few characters around the error, which may be part of a secret:
    // only the position is reported.
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    const where = position !== undefined ? ` at ${lineColumn(text, Number(position))}` : '';
    throw new ConfigError(`DWS_IAM_FILE ${source} is not valid JSON${where}`);
  }
  try {
    return validateIdentities(document);
  } catch (error) {
    if (error instanceof IdentitiesError) {
      throw new ConfigError(
        `DWS_IAM_FILE ${source} is invalid:\n${error.issues.map((issue) => `  - ${issue}`).join('\n')}`,
      );
    }
    throw error;
  }
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
