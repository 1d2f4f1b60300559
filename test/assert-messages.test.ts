/**
 * Every `assert.ok(value)` and `assert(value)` of the tests carries a message. Without one, a failing
 * assertion makes node 20 read the test's source to print the expression, and on a TypeScript file run
 * through tsx that search re-parses the rest of the file again and again: a large file then spins for
 * minutes instead of reporting the failure (seen on test/testing/start-dws.test.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const TEST_ROOT = fileURLToPath(new URL('.', import.meta.url));

function testSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return testSources(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** `file:line` of each call of assert.ok / assert with its value only. */
function assertionsWithoutMessage(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const callee = node.expression.getText(source);
      if (callee === 'assert.ok' || callee === 'assert') {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push(`${file}:${line + 1}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test('the check finds an assertion without a message, and passes one with a message', () => {
  assert.deepEqual(assertionsWithoutMessage('a.ts', 'assert.ok(x);\nassert(y);\nassert.ok(z, "z");'), [
    'a.ts:1',
    'a.ts:2',
  ]);
});

test('every assert.ok / assert call of the tests has a message', () => {
  const offenders = testSources(TEST_ROOT).flatMap((file) =>
    assertionsWithoutMessage(relative(join(TEST_ROOT, '..'), file), readFileSync(file, 'utf8')),
  );
  assert.deepEqual(offenders, [], `give these a message: ${offenders.join(', ')}`);
});
