// Loads the root key from `<dataDir>/root.key` (base64, mode 0600), creating it on first start.
// The root key seals every master key in the database: losing or overwriting it loses all data, so
// creation never clobbers an existing file, and a readable-by-others file is refused rather than used.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { generateRootKey, parseRootKey } from '../crypto/root-key.js';

export const ROOT_KEY_FILE = 'root.key';

// POSIX permission bits are meaningless on Windows (stat reports 0666 there), so the check is skipped.
const CHECK_MODE = process.platform !== 'win32';

export function loadOrCreateRootKeyFile(dataDir: string): { key: Buffer; created: boolean } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, ROOT_KEY_FILE);
  const existing = readRootKeyFile(path);
  if (existing) return { key: existing, created: false };

  const key = generateRootKey();
  // Write a private temp file ('wx': never reuse someone else's file), fsync it, then publish it with
  // link(): unlike rename(), link() fails with EEXIST if another process created root.key meanwhile, so a
  // concurrent first start can never replace a key that is already in use.
  const tmp = join(dataDir, `.${ROOT_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let created = true;
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false; // lost the race: use the winner's key
  } finally {
    unlinkSync(tmp);
  }
  if (!created) return { key: readRootKeyFile(path)!, created: false };
  syncDir(dataDir);
  return { key, created: true };
}

/** The key in `path`, or undefined if the file does not exist. Throws on an unsafe or invalid file. */
function readRootKeyFile(path: string): Buffer | undefined {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!stat.isFile()) throw new Error(`root key file ${path} is not a regular file (symlinks are refused)`);
  if (CHECK_MODE && (stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(
      `root key file ${path} has mode ${mode} and is accessible by group or others; fix with: chmod 600 ${path}`,
    );
  }
  try {
    return parseRootKey(readFileSync(path, 'utf8'));
  } catch (err) {
    // parseRootKey's message never contains the value, so it is safe to pass on.
    throw new Error(`root key file ${path} is invalid: ${(err as Error).message}`);
  }
}

// Make the new directory entry durable, so a crash right after first start cannot lose the key while
// the database already holds master keys sealed under it. Not supported everywhere (e.g. Windows).
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
