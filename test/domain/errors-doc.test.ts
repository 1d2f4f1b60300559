import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Errors } from '../../src/domain/errors.js';

test('docs/errors.md lists every code of the catalogue with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [name, def] of Object.entries(Errors)) {
    const code = def.surface ? `${def.surface}.${def.code}` : `*.${def.code}`;
    const row = doc.split('\n').find((line) => line.includes(`\`${name}\``));
    assert.ok(row, `docs/errors.md has no row for ${name}`);
    const [, docCode, docStatus] = row.split('|').map((cell) => cell.trim());
    assert.equal(docCode, code, `code of ${name}`);
    assert.equal(docStatus, String(def.status), `status of ${name}`);
  }
});

test('no two catalogue entries share a rendered code', () => {
  const seen = new Map<string, string>();
  for (const [name, def] of Object.entries(Errors)) {
    const surfaces = def.surface ? [def.surface] : ['DWS', 'KMS', 'IAM'];
    for (const surface of surfaces) {
      const code = `${surface}.${def.code}`;
      assert.equal(seen.get(code), undefined, `${name} and ${seen.get(code)} both render ${code}`);
      seen.set(code, name);
    }
  }
});
