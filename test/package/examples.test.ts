/**
 * docs/testing.md's complete examples (examples/testing/) run as a user runs them: the node:test one with
 * `node --test`, the vitest one with `vitest run`, both importing `dws-encryption/testing` (the package's
 * own exports map, i.e. the built dist/). The document shows each file verbatim.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureBuilt, PACKAGE_ROOT } from '../helpers/build.js';

const run = promisify(execFile);
/** The environment of a test run of its own (without this runner's NODE_TEST_CONTEXT, which would swallow its report). */
const { NODE_TEST_CONTEXT: _inherited, ...ownEnv } = process.env;
const EXAMPLES = join(PACKAGE_ROOT, 'examples', 'testing');

before(() => ensureBuilt());

test('docs/testing.md shows both examples verbatim', () => {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'testing.md'), 'utf8');
  for (const file of ['node-test.test.mjs', 'vitest.test.mjs']) {
    assert.ok(
      doc.includes(readFileSync(join(EXAMPLES, file), 'utf8').trim()),
      `docs/testing.md shows ${file}`,
    );
  }
});

test('the node:test example passes', { timeout: 300_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--test', '--test-reporter=spec', 'node-test.test.mjs'], {
    cwd: EXAMPLES,
    timeout: 240_000,
    env: ownEnv,
  });
  assert.match(stdout, /pass 3/);
  assert.match(stdout, /fail 0/);
});

test('the vitest example passes', { timeout: 300_000 }, async () => {
  const vitest = join(PACKAGE_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const { stdout } = await run(process.execPath, [vitest, 'run', '--root', EXAMPLES, 'vitest.test.mjs'], {
    cwd: EXAMPLES,
    timeout: 240_000,
    env: { ...ownEnv, NO_COLOR: '1', CI: 'true' },
  });
  assert.match(stdout, /Tests\s+3 passed/);
});
