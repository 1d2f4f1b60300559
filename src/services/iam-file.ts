/**
 * Reads the identities file named by DWS_IAM_FILE at start-up. Any problem (unreadable file, bad
 * JSON, a field that fails validation) is a ConfigError naming the file and the field path, so the
 * service stops with exit code 2 before it opens the store. Messages never contain secret values.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { IdentitiesError, type IdentitiesSpec, validateIdentities } from '../domain/identities.js';

export function loadIdentitiesFile(path: string): IdentitiesSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
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
