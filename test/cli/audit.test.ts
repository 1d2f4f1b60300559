/**
 * `dws-encryption audit list` and `dws-encryption hash-password` as a user runs them (in this process,
 * see test/helpers/cli.ts) against a real test server with an identities file (an admin with every
 * permission, an auditor without dws:audit:list).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parsePasswordHash, verifyPassword } from '../../src/crypto/password.js';
import { runCli } from '../helpers/cli.js';
import { ACME, identitiesFixture, USERS } from '../helpers/iam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('dws-encryption audit list', () => {
  let ts: TestServer;
  const envOf = (user: { ak: string; sk: string }) => ({
    HUAWEICLOUD_SDK_AK: user.ak,
    HUAWEICLOUD_SDK_SK: user.sk,
    HUAWEICLOUD_SDK_PROJECT_ID: ACME.p1.id,
    DWS_ENDPOINT: ts.baseUrl,
  });
  const run = (...args: string[]) => runCli(args, { env: envOf(USERS.admin) });
  const json = async (...args: string[]) => {
    const result = await run(...args, '--json');
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  before(async () => {
    ts = await startTestServer({ iamFile: identitiesFixture() });
  });
  after(() => ts.close({ removeData: true }));

  test('shows the writes just made, newest first, as a table and as the API JSON; --all follows the markers', async () => {
    const keyId = (await json('keys', 'create', 'audit-cli-key')).key_info.key_id as string;
    const clusterId = (await json('clusters', 'create', 'audit-cli-cluster')).cluster.id as string;

    const text = await run('audit', 'list');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME\s+USER\s+ACTION\s+RESOURCE\s+RESULT\s+REQUEST ID$/);
    assert.match(
      text.stdout,
      new RegExp(
        `^\\S+Z\\s+admin\\s+dws:openAPICluster:create\\s+cluster ${clusterId}\\s+success\\s+\\S+$`,
        'm',
      ),
    );
    assert.match(text.stdout, new RegExp(`\\s+admin\\s+kms:cmk:create\\s+key ${keyId}\\s+success\\s`, 'm'));
    const clusterLine = lines.findIndex((l) => l.includes(clusterId));
    const keyLine = lines.findIndex((l) => l.includes(keyId));
    assert.ok(clusterLine > 0 && keyLine > clusterLine, 'newest first');
    assert.equal(text.stderr, '');

    const page = await json('audit', 'list');
    assert.deepEqual(Object.keys(page).sort(), ['events', 'next_marker']);
    assert.equal(page.next_marker, null);
    const actions = page.events.map((e: { action: string }) => e.action);
    assert.ok(actions.includes('kms:cmk:create'), actions.join(', '));
    assert.ok(actions.includes('dws:openAPICluster:create'), actions.join(', '));
    const event = page.events.find((e: { resource_id: string }) => e.resource_id === clusterId);
    assert.equal(event.user, 'admin');
    assert.equal(event.access_key, USERS.admin.ak);
    assert.equal(event.domain_id, ACME.domainId);
    assert.match(event.request_id, /\S/);

    // One event a page: a hint to the next page on stderr; --all collects every page.
    const first = await run('audit', 'list', '--limit', '1');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trimEnd().split('\n').length, 2);
    const firstJson = await json('audit', 'list', '--limit', '1');
    assert.equal(firstJson.events.length, 1);
    assert.match(first.stderr, new RegExp(`--marker ${firstJson.next_marker}\\b`));
    const second = await json('audit', 'list', '--limit', '1', '--marker', firstJson.next_marker);
    assert.deepEqual(second.events, page.events.slice(1, 2));
    const all = await json('audit', 'list', '--all', '--limit', '1');
    assert.deepEqual(all, page);
  });

  test('a caller without dws:audit:list exits 1 with the code on stderr; a bad flag exits 2', async () => {
    const forbidden = await runCli(['audit', 'list'], { env: envOf(USERS.auditor) });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /^[A-Z]+\.0202: .*dws:audit:list/m);
    assert.equal(forbidden.stdout, '');

    assert.equal((await run('audit', 'list', '--limit', '0')).code, 2);
    assert.equal((await run('audit', 'list', '--limit', '1001')).code, 2);
    assert.equal((await run('audit', 'list', '--marker', 'abc')).code, 2);
  });
});

describe('dws-encryption hash-password', () => {
  test('prints a scrypt hash of the piped password that the server verifies', async () => {
    const password = 'Pässw0rd with spaces!';
    const result = await runCli(['hash-password', '--cost', '1024'], { stdin: `${password}\n` });
    assert.equal(result.code, 0, result.stderr);
    const encoded = result.stdout.trim();
    assert.match(encoded, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    const stored = parsePasswordHash(encoded);
    assert.equal(await verifyPassword(password, stored), true);
    assert.equal(await verifyPassword(`${password}\n`, stored), false, 'one trailing newline is dropped');
    assert.equal(await verifyPassword('another', stored), false);

    const byDefault = await runCli(['hash-password'], { stdin: password });
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.match(byDefault.stdout, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword(password, parsePasswordHash(byDefault.stdout.trim())), true);
  });

  test('an empty password exits 1, a bad --cost exits 2', async () => {
    const empty = await runCli(['hash-password'], { stdin: '\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /empty/);
    assert.equal(empty.stdout, '');
    const cost = await runCli(['hash-password', '--cost', '1000'], { stdin: 'pw' });
    assert.equal(cost.code, 2);
    assert.match(cost.stderr, /--cost/);
  });
});
