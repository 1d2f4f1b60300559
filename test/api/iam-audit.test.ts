/**
 * The audit trail: GET /v1/{project_id}/audit-events (permission dws:audit:list), newest first with
 * markers; who did what (user, account, access key), token issue audited on success and failure, and
 * no secret in any record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import {
  ACME,
  BETA,
  identitiesFixture,
  passwordAuthBody,
  requestToken,
  tokenCall,
  tokenFor,
  USERS,
} from '../helpers/iam.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

const EVENT_KEYS = [
  'access_key',
  'action',
  'caller_request_id',
  'detail',
  'domain_id',
  'id',
  'request_id',
  'resource_id',
  'resource_type',
  'result',
  'time',
  'user',
];

for (const store of stores()) {
  describe(`audit events (${store})`, () => {
    let ts: TestServer;
    const p1 = ACME.p1.id;

    before(async () => {
      ts = await startTestServer({ store, iamFile: identitiesFixture() });
    });
    after(() => ts.close({ removeData: true }));

    async function allEvents(projectId = p1, as: { ak: string; sk: string } = USERS.admin): Promise<any[]> {
      const res = await ts.callAs(as, 'GET', `/v1/${projectId}/audit-events`, undefined, {
        query: { limit: '1000' },
      });
      assert.equal(res.status, 200, res.text);
      return res.body.events;
    }

    test('a signed write is recorded with user, account, access key, action, resource, result and request id', async () => {
      const created = await ts.callAs(USERS.admin, 'POST', `/v2/${p1}/clusters`, clusterBody('audited-1'));
      assert.equal(created.status, 200, created.text);
      const res = await ts.callAs(USERS.admin, 'GET', `/v1/${p1}/audit-events`, undefined, {
        query: { limit: '1' },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['events', 'next_marker']);
      const [event] = res.body.events;
      assert.deepEqual(Object.keys(event).sort(), EVENT_KEYS);
      assert.equal(typeof event.id, 'string');
      assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(event.user, 'admin');
      assert.equal(event.domain_id, ACME.domainId);
      assert.equal(event.access_key, USERS.admin.ak);
      assert.equal(event.action, 'dws:openAPICluster:create');
      assert.equal(event.resource_type, 'cluster');
      assert.equal(event.resource_id, created.body.cluster.id);
      assert.equal(event.result, 'success');
      assert.equal(event.request_id, created.headers.get('x-request-id'));
      assert.equal(event.caller_request_id, null);
      assert.equal(typeof event.detail, 'object');
    });

    test("the trail keeps the server's request id; a caller's X-Request-Id is kept apart, never in its place", async () => {
      const forged = 'r-looks-like-another-request';
      const created = await ts.callAs(USERS.admin, 'POST', `/v2/${p1}/clusters`, clusterBody('audited-rid'), {
        headers: { 'X-Request-Id': forged },
      });
      assert.equal(created.status, 200, created.text);
      const serverId = created.headers.get('x-request-id');
      assert.ok(serverId && serverId !== forged, 'the answer carries the server’s own id');
      const event = (await allEvents()).find((e) => e.resource_id === created.body.cluster.id);
      assert.equal(event.request_id, serverId);
      assert.equal(event.caller_request_id, forged);
      const wrong = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'operator',
          password: 'Wrong-Pw-rid',
          domainName: ACME.name,
          projectId: p1,
        }),
        { 'X-Request-Id': forged },
      );
      assert.equal(wrong.status, 401);
      const failure = (await allEvents()).find((e) => e.request_id === wrong.headers.get('x-request-id'));
      assert.ok(failure, 'the token failure is found by the server’s id');
      assert.equal(failure.caller_request_id, forged);
    });

    test('token issue is audited, success and failure, without the password', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.operator, p1);
      const wrong = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'operator',
          password: 'Wrong-Passw0rd!',
          domainName: ACME.name,
          projectId: p1,
        }),
      );
      assert.equal(wrong.status, 401);
      const stranger = await requestToken(
        ts.baseUrl,
        passwordAuthBody({
          user: 'stranger',
          password: 'Stranger-Pw-1',
          domainName: ACME.name,
          projectId: p1,
        }),
      );
      assert.equal(stranger.status, 401);

      const events = (await allEvents()).filter((e) => e.action === 'iam:token:create');
      const success = events.find((e) => e.result === 'success' && e.user === 'operator');
      assert.ok(success, JSON.stringify(events));
      assert.equal(success.domain_id, ACME.domainId);
      assert.equal(success.access_key, null);
      assert.equal(success.resource_type, 'token');
      assert.match(success.resource_id, /^[0-9a-f-]{36}$/, 'the token id, not the token');
      assert.ok(success.detail.expires_at, 'success.detail.expires_at');
      const failure = events.find((e) => e.result === 'failure' && e.user === 'operator');
      assert.ok(failure, 'a wrong password for a real user of the project is on the project’s trail');
      assert.equal(failure.detail.error_code, 'IAM.0401');
      assert.equal(failure.request_id, wrong.headers.get('x-request-id'));
      assert.ok(!events.some((e) => e.user === 'stranger'), 'an unknown user is attributed to no project');

      const rows = await ts.server.database.db.selectFrom('audit_events').selectAll().execute();
      const everything = JSON.stringify(rows);
      for (const secret of [
        USERS.operator.password,
        'Wrong-Passw0rd!',
        'Stranger-Pw-1',
        token,
        token.slice(5),
      ]) {
        assert.ok(!everything.includes(secret), 'no password or token in the audit table');
      }
    });

    test('a token-authenticated write records the user and account, no access key', async () => {
      const token = await tokenFor(ts.baseUrl, USERS.admin, p1);
      const created = await tokenCall(
        ts.baseUrl,
        token,
        'POST',
        `/v2/${p1}/clusters`,
        clusterBody('audited-token'),
      );
      assert.equal(created.status, 200, created.text);
      const event = (await allEvents()).find((e) => e.resource_id === created.body.cluster.id);
      assert.equal(event.user, 'admin');
      assert.equal(event.domain_id, ACME.domainId);
      assert.equal(event.access_key, null);
      // The trail is readable with the token too.
      const res = await tokenCall(ts.baseUrl, token, 'GET', `/v1/${p1}/audit-events?limit=5`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.events.length, 5);
    });

    test('pages: newest first, next_marker until the end, each event once', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-key`, {
          key_alias: `audit-page-${i}`,
        });
        assert.equal(res.status, 200, res.text);
      }
      const all = await allEvents();
      assert.ok(all.length >= 6, 'all.length >= 6');
      const ids = all.map((e) => Number(e.id));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
        'newest first',
      );
      const seen: string[] = [];
      let marker: string | null = null;
      do {
        const query: Record<string, string> = { limit: '2', ...(marker ? { marker } : {}) };
        const res = await ts.callAs(USERS.admin, 'GET', `/v1/${p1}/audit-events`, undefined, { query });
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.events.length <= 2, 'res.body.events.length <= 2');
        seen.push(...res.body.events.map((e: any) => e.id));
        marker = res.body.next_marker;
      } while (marker !== null);
      assert.deepEqual(
        seen,
        all.map((e) => e.id),
      );
      const last = await ts.callAs(USERS.admin, 'GET', `/v1/${p1}/audit-events`, undefined, {
        query: { marker: all[all.length - 1].id },
      });
      assert.deepEqual(last.body, { events: [], next_marker: null });
    });

    test('the official SDK client reads the trail page by page (the documented way, no curl)', async () => {
      const credentials = new BasicCredentials()
        .withAk(USERS.admin.ak)
        .withSk(USERS.admin.sk)
        .withProjectId(p1);
      const client = new HcClient(new DefaultHttpClient({}, [ts.baseUrl]))
        .withEndpoints([ts.baseUrl])
        .withCredential(credentials);
      const page = (marker?: string): Promise<any> =>
        client.sendRequest({
          method: 'GET',
          url: '/v1/{project_id}/audit-events',
          contentType: 'application/json',
          pathParams: { project_id: p1 },
          queryParams: { limit: 2, ...(marker ? { marker } : {}) },
          headers: {},
        } as never);
      const first = await page();
      assert.equal(first.events.length, 2);
      assert.ok(first.next_marker, 'first.next_marker');
      const second = await page(first.next_marker);
      assert.ok(
        Number(second.events[0].id) < Number(first.events[1].id),
        'Number(second.events[0].id) < Number(first.events[1].id)',
      );
    });

    test('bad limit or marker is 400', async () => {
      for (const query of <Record<string, string>[]>[
        { limit: '0' },
        { limit: '1001' },
        { limit: 'ten' },
        { marker: 'abc' },
        { limit: '-1' },
      ]) {
        const res = await ts.callAs(USERS.admin, 'GET', `/v1/${p1}/audit-events`, undefined, { query });
        assert.equal(res.status, 400, `${JSON.stringify(query)}: ${res.text}`);
        assert.equal(res.body.error_code, 'DWS.0001');
      }
    });

    test('each project has its own trail; another account cannot read it', async () => {
      const beta = await ts.callAs(
        USERS.betaAdmin,
        'POST',
        `/v2/${BETA.p1.id}/clusters`,
        clusterBody('beta-audited'),
      );
      assert.equal(beta.status, 200, beta.text);
      const acmeEvents = await allEvents();
      assert.ok(
        !acmeEvents.some((e) => e.resource_id === beta.body.cluster.id),
        '!acmeEvents.some((e) => e.resource_id === beta.body.cluster.id)',
      );
      assert.ok(
        acmeEvents.every((e) => e.domain_id === ACME.domainId || e.domain_id === null),
        'acmeEvents.every((e) => e.domain_id === ACME.domainId || e.domain_id === null)',
      );
      const betaEvents = await allEvents(BETA.p1.id, USERS.betaAdmin);
      assert.deepEqual(
        betaEvents.map((e) => e.resource_id),
        [beta.body.cluster.id],
      );
      const denied = await ts.callAs(USERS.betaAdmin, 'GET', `/v1/${p1}/audit-events`);
      assert.equal(denied.status, 403);
      assert.equal((await allEvents(ACME.p2.id)).length, 0, 'nothing happened in acme’s second project');
    });

    test('no secret reaches an audit record (db_password, SKs, key material)', async () => {
      const key = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-key`, {
        key_alias: 'audit-dek',
      });
      const dek = await ts.callAs(USERS.admin, 'POST', `/v1.0/${p1}/kms/create-datakey`, {
        key_id: key.body.key_info.key_id,
        datakey_length: '256',
      });
      assert.equal(dek.status, 200, dek.text);
      const rows = JSON.stringify(
        await ts.server.database.db.selectFrom('audit_events').selectAll().execute(),
      );
      const dbPassword = clusterBody('x').cluster.db_password as string;
      for (const secret of [dbPassword, USERS.admin.sk, USERS.betaAdmin.sk, dek.body.plain_text]) {
        assert.ok(!rows.includes(secret), 'secret found in audit_events');
      }
    });
  });
}
