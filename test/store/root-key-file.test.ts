import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { loadOrCreateRootKeyFile } from '../../src/store/root-key-file.js';

const posix = process.platform !== 'win32';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dws-root-key-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('creates root.key (0600, base64 of 32 bytes) on first load, then reuses it', () => {
  const dataDir = join(dir, 'nested', 'data'); // created if missing
  const first = loadOrCreateRootKeyFile(dataDir);
  assert.equal(first.created, true);
  assert.equal(first.key.length, 32);
  const path = join(dataDir, 'root.key');
  if (posix) assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(readFileSync(path, 'utf8').trim(), first.key.toString('base64'));
  assert.deepEqual(readdirSync(dataDir), ['root.key'], 'no temp file left behind');

  const second = loadOrCreateRootKeyFile(dataDir);
  assert.equal(second.created, false);
  assert.deepEqual(second.key, first.key);
});

test('rejects a file of the wrong length without printing its content', () => {
  const path = join(dir, 'root.key');
  const content = Buffer.alloc(16, 7).toString('base64');
  writeFileSync(path, content, { mode: 0o600 });
  assert.throws(
    () => loadOrCreateRootKeyFile(dir),
    (err: unknown) =>
      err instanceof Error && /invalid.*32 bytes/.test(err.message) && !err.message.includes(content),
  );
  assert.equal(readFileSync(path, 'utf8'), content, 'a bad file is never overwritten');
});

test('rejects garbage and an empty file', () => {
  const path = join(dir, 'root.key');
  for (const content of ['', 'not base64 at all!', `${Buffer.alloc(32).toString('base64')}x`]) {
    writeFileSync(path, content, { mode: 0o600 });
    assert.throws(() => loadOrCreateRootKeyFile(dir), /invalid/);
  }
});

test('refuses a root.key readable by group or others and tells how to fix it', { skip: !posix }, () => {
  const { key } = loadOrCreateRootKeyFile(dir);
  const path = join(dir, 'root.key');
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    chmodSync(path, mode);
    assert.throws(() => loadOrCreateRootKeyFile(dir), /chmod 600/);
  }
  chmodSync(path, 0o600);
  assert.deepEqual(loadOrCreateRootKeyFile(dir).key, key);
  chmodSync(path, 0o400); // narrower than 0600 is fine
  assert.deepEqual(loadOrCreateRootKeyFile(dir).key, key);
});

test('refuses a symlinked root.key', { skip: !posix }, () => {
  const target = join(dir, 'elsewhere');
  writeFileSync(target, Buffer.alloc(32, 1).toString('base64'), { mode: 0o600 });
  symlinkSync(target, join(dir, 'root.key'));
  assert.throws(() => loadOrCreateRootKeyFile(dir), /not a regular file/);
});
