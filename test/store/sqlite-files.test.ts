/** The SQLite store's files (database, -wal, -shm) are readable by the service's user only. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite } from '../../src/store/database.js';

test('a new SQLite store and its journal files are created with mode 0600', {
  skip: process.platform === 'win32',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dws-sqlite-mode-'));
  const previous = process.umask(0o022); // the usual umask, under which SQLite alone makes 0644 files
  try {
    const database = await openSqlite(join(dir, 'store', 'dws.db'));
    try {
      await database.db
        .insertInto('audit_events')
        .values({ at: 1, action: 'x', resource_type: 'cluster', result: 'success' } as never)
        .execute();
      const files = readdirSync(join(dir, 'store'));
      assert.ok(files.includes('dws.db-wal'), files.join(', '));
      for (const file of files) {
        const mode = statSync(join(dir, 'store', file)).mode & 0o777;
        assert.equal(mode.toString(8), '600', file);
      }
    } finally {
      await database.close();
    }
  } finally {
    process.umask(previous);
    rmSync(dir, { recursive: true, force: true });
  }
});
