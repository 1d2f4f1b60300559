/**
 * Tokens are bound to the credential state they were issued from: a password or access-key change, or a
 * removal followed by a new declaration of the same user, kills them at the next start, while a plain
 * restart keeps them. DELETE /v3/auth/tokens revokes one (Keystone: X-Auth-Token authenticates,
 * X-Subject-Token names the token; 204).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ACME, identitiesFixture, tokenCall, tokenFor, USERS } from '../helpers/iam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

type Fixture = ReturnType<typeof identitiesFixture> & { accounts: any[] };

function fixture(edit: (doc: Fixture) => void = () => {}): Fixture {
  const doc = structuredClone(identitiesFixture()) as Fixture;
  edit(doc);
  return doc;
}

const userOf = (doc: Fixture, name: string) =>
  (doc.accounts[0].users as { name: string; password?: string; credentials: { sk: string }[] }[]).find(
    (u) => u.name === name,
  )!;

for (const store of stores()) {
  describe(`tokens bound to the credential state (${store})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dws-token-binding-'));
    const p1 = ACME.p1.id;
    let ts: TestServer | undefined;

    async function restart(iamFile: Fixture): Promise<TestServer> {
      await ts?.close();
      ts = await startTestServer({ store, dataDir, iamFile });
      return ts;
    }
    const works = async (token: string) =>
      (await tokenCall(ts!.baseUrl, token, 'GET', `/v1.0/${p1}/clusters`)).status;

    after(async () => {
      await ts?.close({ removeData: true });
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('a plain restart keeps tokens; a password change kills the old ones', async () => {
      await restart(fixture());
      const admin = await tokenFor(ts!.baseUrl, USERS.admin, p1);
      const operator = await tokenFor(ts!.baseUrl, USERS.operator, p1);
      await restart(fixture());
      assert.equal(await works(admin), 200, 'same file, same credentials: the token lives on');
      assert.equal(await works(operator), 200);

      await restart(fixture((d) => (userOf(d, 'admin').password = 'a-new-Passw0rd!')));
      assert.equal(await works(admin), 401, 'issued under the old password');
      assert.equal(await works(operator), 200, 'another user is untouched');
      const fresh = await tokenFor(ts!.baseUrl, { name: 'admin', password: 'a-new-Passw0rd!' }, p1);
      assert.equal(await works(fresh), 200);
    });

    test('an access-key change kills the user’s tokens too', async () => {
      const operator = await tokenFor(ts!.baseUrl, USERS.operator, p1);
      await restart(
        fixture((d) => {
          userOf(d, 'admin').password = 'a-new-Passw0rd!';
          userOf(d, 'operator').credentials[0]!.sk = 'a-rotated-operator-secret-key-0000000001';
        }),
      );
      assert.equal(await works(operator), 401);
    });

    test('a user removed and declared again (identical) does not get its old tokens back', async () => {
      const same = fixture((d) => {
        userOf(d, 'admin').password = 'a-new-Passw0rd!';
        userOf(d, 'operator').credentials[0]!.sk = 'a-rotated-operator-secret-key-0000000001';
      });
      await restart(same);
      const operator = await tokenFor(ts!.baseUrl, USERS.operator, p1);
      assert.equal(await works(operator), 200);
      await restart(
        fixture((d) => {
          Object.assign(d, structuredClone(same));
          d.accounts[0].users = d.accounts[0].users.filter((u: { name: string }) => u.name !== 'operator');
        }),
      );
      assert.equal(await works(operator), 401, 'the user is gone');
      await restart(same);
      assert.equal(await works(operator), 401, 'declared again: a new version, the old token stays dead');
      assert.equal(await works(await tokenFor(ts!.baseUrl, USERS.operator, p1)), 200);
    });
  });
}

describe('DELETE /v3/auth/tokens', () => {
  let ts: TestServer;
  const p1 = ACME.p1.id;
  const revoke = (headers: Record<string, string>) =>
    fetch(`${ts.baseUrl}/v3/auth/tokens`, { method: 'DELETE', headers });

  before(async () => {
    ts = await startTestServer({ iamFile: identitiesFixture() });
  });
  after(() => ts.close({ removeData: true }));

  test('a token revokes itself (204), then is refused everywhere', async () => {
    const token = await tokenFor(ts.baseUrl, USERS.operator, p1);
    const res = await revoke({ 'X-Auth-Token': token, 'X-Subject-Token': token });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.equal((await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${p1}/clusters`)).status, 401);
    const again = await revoke({ 'X-Auth-Token': token, 'X-Subject-Token': token });
    assert.equal(again.status, 401);
    assert.equal(((await again.json()) as { error_code: string }).error_code, 'IAM.0106');
  });

  test('a user revokes another of its own tokens; not another user’s (403); unknown subject 404', async () => {
    const first = await tokenFor(ts.baseUrl, USERS.operator, p1);
    const second = await tokenFor(ts.baseUrl, USERS.operator, ACME.p2.id);
    const admin = await tokenFor(ts.baseUrl, USERS.admin, p1);
    const forbidden = await revoke({ 'X-Auth-Token': admin, 'X-Subject-Token': first });
    assert.equal(forbidden.status, 403);
    assert.equal(((await forbidden.json()) as { error_code: string }).error_code, 'IAM.0202');
    assert.equal((await tokenCall(ts.baseUrl, first, 'GET', `/v1.0/${p1}/clusters`)).status, 200);

    assert.equal((await revoke({ 'X-Auth-Token': first, 'X-Subject-Token': second })).status, 204);
    assert.equal((await tokenCall(ts.baseUrl, second, 'GET', `/v1.0/${ACME.p2.id}/clusters`)).status, 401);
    assert.equal((await tokenCall(ts.baseUrl, first, 'GET', `/v1.0/${p1}/clusters`)).status, 200);

    const unknown = await revoke({ 'X-Auth-Token': first, 'X-Subject-Token': `dwst_${'x'.repeat(43)}` });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error_code: string }).error_code, 'IAM.0404');
  });

  test('headers: X-Subject-Token is required (400), X-Auth-Token too (401)', async () => {
    const token = await tokenFor(ts.baseUrl, USERS.operator, p1);
    const noSubject = await revoke({ 'X-Auth-Token': token });
    assert.equal(noSubject.status, 400);
    assert.equal(((await noSubject.json()) as { error_code: string }).error_code, 'IAM.0001');
    const noAuth = await revoke({ 'X-Subject-Token': token });
    assert.equal(noAuth.status, 401);
    assert.equal(((await noAuth.json()) as { error_code: string }).error_code, 'IAM.0101');
    assert.equal((await tokenCall(ts.baseUrl, token, 'GET', `/v1.0/${p1}/clusters`)).status, 200);
  });
});
