/**
 * docs/compatibility.md against /openapi.json: every cloud operation the service serves (tags dws, kms,
 * iam; not the ops routes nor the emulator's /_dws/ control routes) is a row marked implemented, and
 * every row marked implemented is served with that method and path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CLOUD_TAGS = new Set(['dws', 'kms', 'iam']);
const IMPLEMENTED = new Set(['yes', 'partly', 'extension']);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

interface Row {
  service: string;
  operation: string;
  method: string;
  path: string;
  implemented: string;
}

/** The rows of the operations table: `| Service | Operation | Method | Path | Implemented | Fields |`. */
function tableRows(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((l) => /^\|\s*Service\s*\|\s*Operation\s*\|\s*Method\s*\|/.test(l));
  assert.ok(header >= 0, 'docs/compatibility.md has the operations table');
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((c) => c.trim());
    const [, service, operation, method, path, implemented] = cells;
    rows.push({
      service: service!,
      operation: operation!,
      method: method!.toLowerCase(),
      path: path!.replace(/`/g, ''),
      implemented: implemented!,
    });
  }
  return rows;
}

describe('docs/compatibility.md matches /openapi.json', () => {
  let ts: TestServer;
  let served: Set<string>;
  const rows = tableRows(readFileSync(new URL('../../docs/compatibility.md', import.meta.url), 'utf8'));

  before(async () => {
    ts = await startTestServer();
    const doc = (await (await fetch(`${ts.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    served = new Set();
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.startsWith('/_dws/')) continue;
      for (const method of METHODS) {
        const op = item[method];
        if (op && (op.tags ?? []).some((t) => CLOUD_TAGS.has(t))) served.add(`${method} ${path}`);
      }
    }
  });
  after(() => ts.close({ removeData: true }));

  test('the table is well formed', () => {
    assert.ok(rows.length >= 20, `${rows.length} rows`);
    for (const row of rows) {
      assert.ok(['DWS', 'KMS', 'IAM'].includes(row.service), `service of ${row.operation}`);
      assert.ok(METHODS.includes(row.method), `method of ${row.operation}: ${row.method}`);
      assert.ok(row.path.startsWith('/'), `path of ${row.operation}: ${row.path}`);
      assert.ok(
        IMPLEMENTED.has(row.implemented) || row.implemented === 'no',
        `${row.operation}: ${row.implemented}`,
      );
    }
  });

  test('every cloud operation served has a row marked implemented (add yours to the table)', () => {
    assert.ok(served.size >= 20, `${served.size} cloud operations served`);
    const documented = new Set(
      rows.filter((r) => IMPLEMENTED.has(r.implemented)).map((r) => `${r.method} ${r.path}`),
    );
    const missing = [...served].filter((op) => !documented.has(op));
    assert.deepEqual(missing, [], 'served but not marked implemented in docs/compatibility.md');
  });

  test('every row marked implemented is served, and no row marked no is', () => {
    for (const row of rows) {
      const op = `${row.method} ${row.path}`;
      if (IMPLEMENTED.has(row.implemented))
        assert.ok(served.has(op), `${row.operation}: ${op} is not served`);
      else assert.ok(!served.has(op), `${row.operation}: ${op} is served but marked no`);
    }
  });
});
