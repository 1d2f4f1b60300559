/** Authentication, the error format, and bad input: every refusal is a clear 4xx that changes nothing. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

function assertErrorFormat(
  res: { status: number; body: any; headers: Headers; text: string },
  status: number,
  code: string,
) {
  assert.equal(res.status, status, res.text);
  // A signature mismatch also answers what the server computed (signature debugging).
  const debug = res.body?.canonical_request !== undefined ? ['canonical_request', 'string_to_sign'] : [];
  assert.deepEqual(
    Object.keys(res.body ?? {}).sort(),
    ['error_code', 'error_msg', ...debug].sort(),
    res.text,
  );
  assert.equal(res.body.error_code, code, res.text);
  assert.ok(res.body.error_msg.length > 0, 'res.body.error_msg.length > 0');
  assert.ok(res.headers.get('x-request-id'), 'X-Request-Id on every answer');
}

for (const store of stores()) {
  describe(`requests (${store})`, () => {
    let ts: TestServer;
    let p: string;
    let clusterId: string;

    before(async () => {
      ts = await startTestServer({ store });
      p = ts.projectId;
      clusterId = (await ts.call('POST', `/v2/${p}/clusters`, clusterBody('requests-cluster'))).body.cluster
        .id;
    });
    after(() => ts.close({ removeData: true }));

    test('unsigned, badly signed, unknown-key and wrong-secret requests get 401', async () => {
      const url = `${ts.baseUrl}/v1/${p}/clusters/${clusterId}/encrypt-info`;
      const unsigned = await fetch(url);
      assertErrorFormat(
        { status: unsigned.status, body: await unsigned.json(), headers: unsigned.headers, text: '' },
        401,
        'DWS.0101',
      );
      const garbage = await fetch(url, { headers: { Authorization: 'Bearer nope' } });
      assertErrorFormat(
        { status: garbage.status, body: await garbage.json(), headers: garbage.headers, text: '' },
        401,
        'DWS.0102',
      );
      const wrongSecret = await ts.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`, undefined, {
        sk: 'not-the-secret',
      });
      assertErrorFormat(wrongSecret, 401, 'DWS.0103');
      const unknownKey = await ts.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`, undefined, {
        ak: 'UNKNOWNAK00000000000',
        sk: 'x',
      });
      assertErrorFormat(unknownKey, 401, 'DWS.0103');
      // Same status and code; the message tells an unknown key from a wrong signature (as the real gateway).
      assert.notEqual(unknownKey.body.error_msg, wrongSecret.body.error_msg);
      assert.equal(typeof wrongSecret.body.canonical_request, 'string');
      const old = await ts.call('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`, undefined, {
        headers: { 'X-Sdk-Date': '20200101T000000Z' },
      });
      assertErrorFormat(old, 401, 'DWS.0104');
      const kms = await fetch(`${ts.baseUrl}/v1.0/${p}/kms/list-keys`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(
        ((await kms.json()) as any).error_code,
        'KMS.0101',
        'KMS routes answer with the KMS prefix',
      );
    });

    test('another project answers 403; a malformed project id 400', async () => {
      const other = await ts.call('GET', `/v1/${'f'.repeat(32)}/clusters/${clusterId}/encrypt-info`);
      assertErrorFormat(other, 403, 'DWS.0201');
      const malformed = await ts.call('GET', `/v1/NOT-A-PROJECT/clusters/${clusterId}/encrypt-info`);
      assertErrorFormat(malformed, 400, 'DWS.0005');
    });

    test('malformed ids are refused with 400 before the store is asked; unknown ones get 404', async () => {
      assertErrorFormat(await ts.call('GET', `/v1/${p}/clusters/not-a-uuid/encrypt-info`), 400, 'DWS.0006');
      assertErrorFormat(await ts.call('GET', `/v1.0/${p}/job/12345`), 400, 'DWS.0006');
      assertErrorFormat(
        await ts.call(
          'GET',
          `/v1/${p}/clusters/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/encrypt-info`,
        ),
        404,
        'DWS.0301',
      );
      assertErrorFormat(
        await ts.call('GET', `/v1.0/${p}/job/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`),
        404,
        'DWS.0302',
      );
    });

    test('malformed JSON, wrong types, unknown enum values and missing fields get specific 400s', async () => {
      const encrypt = `/v2/${p}/clusters/${clusterId}/encrypt`;
      assertErrorFormat(
        await ts.call('POST', encrypt, undefined, { rawBody: '{"encrypt": ' }),
        400,
        'DWS.0002',
      );
      assertErrorFormat(await ts.call('POST', encrypt, { encrypt: 'yes' }), 400, 'DWS.0001');
      assertErrorFormat(await ts.call('POST', encrypt, {}), 400, 'DWS.0001');
      const wrongEnum = await ts.call('POST', encrypt, {
        encrypt: { master_key_id: clusterId, crypt_algorithm: 'AES' },
      });
      assertErrorFormat(wrongEnum, 400, 'DWS.0001');
      assert.equal(
        wrongEnum.body.error_msg,
        'body field encrypt.crypt_algorithm must be one of: generalCipher, SMcompatible.',
      );
      const missing = await ts.call('POST', `/v2/${p}/clusters`, { cluster: { name: 'missing-fields' } });
      assertErrorFormat(missing, 400, 'DWS.0001');
      assert.match(missing.body.error_msg, /required field/);
      const badType = await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('badtype', { num_node: 'three' }),
      );
      assertErrorFormat(badType, 400, 'DWS.0001');
      assert.match(badType.body.error_msg, /num_node/);
      const badVersion = await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('badversion', { datastore_version: '8.x' }),
      );
      assertErrorFormat(badVersion, 400, 'DWS.0412');
      const list = await ts.call('GET', `/v1.0/${p}/clusters`);
      assert.equal(list.body.count, 1, 'no refused request created anything');
    });

    test('bodies over 1 MiB get 413', async () => {
      const big = JSON.stringify({ cluster: { name: 'x'.repeat(1024 * 1024 + 10) } });
      const res = await ts.call('POST', `/v2/${p}/clusters`, undefined, { rawBody: big });
      assertErrorFormat(res, 413, 'DWS.0003');
    });

    test('unknown routes get 404 in the same format', async () => {
      const res = await fetch(`${ts.baseUrl}/v1/${p}/nothing-here`);
      assert.equal(res.status, 404);
      const body = (await res.json()) as any;
      assert.equal(body.error_code, 'DWS.0007');
      assert.ok(res.headers.get('x-request-id'), "res.headers.get('x-request-id')");
    });

    test('an unknown path of the KMS or IAM surface answers 404 with that surface, before authentication', async () => {
      for (const [path, code] of [
        [`/v1.0/${p}/kms/no-such-action`, 'KMS.0007'],
        [`/v3/no-such-thing`, 'IAM.0007'],
        [`/v1.0/${p}/no-such-thing`, 'DWS.0007'],
      ]) {
        const res = await fetch(`${ts.baseUrl}${path}`, { method: 'POST', body: '{not json' });
        assert.equal(res.status, 404, path);
        assert.equal(((await res.json()) as any).error_code, code, path);
      }
      const wrongMethod = await fetch(`${ts.baseUrl}/v1.0/${p}/kms/create-key`);
      assert.equal(((await wrongMethod.json()) as any).error_code, 'KMS.0007');
    });

    test('X-Request-Id is always the server’s own: a caller’s (unsigned) id is not taken over', async () => {
      const given = await ts.call('GET', `/v1.0/${p}/clusters`, undefined, {
        headers: { 'X-Request-Id': 'trace-123' },
      });
      assert.equal(given.status, 200);
      assert.notEqual(given.headers.get('x-request-id'), 'trace-123');
      assert.match(given.headers.get('x-request-id') ?? '', /^[A-Za-z0-9._-]+$/);
      const replaced = await ts.call('GET', `/v1.0/${p}/clusters`, undefined, {
        headers: { 'X-Request-Id': 'a b<script>' },
      });
      assert.notEqual(replaced.headers.get('x-request-id'), 'a b<script>');
    });

    test('clusters: create, list, show with version and guestAgent, duplicate names, delete', async () => {
      const created = await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody('crud-cluster', { guest_agent_version: '8.3.1.0', datastore_version: '8.2.1' }),
      );
      const id = created.body.cluster.id;
      const dup = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('crud-cluster'));
      assertErrorFormat(dup, 400, 'DWS.0303');
      const detail = await ts.call('GET', `/v1.0/${p}/clusters/${id}`);
      assert.equal(detail.status, 200);
      const c = detail.body.cluster;
      assert.equal(c.version, '8.2.1');
      assert.equal(c.guest_agent_version, '8.3.1.0');
      assert.equal(c.status, 'AVAILABLE');
      assert.equal(c.number_of_node, 3);
      assert.equal(c.db_password, undefined, 'the password is never returned');
      assert.ok(!detail.text.includes('Secret!Passw0rd'), "!detail.text.includes('Secret!Passw0rd')");
      const defaulted = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('default-agent'));
      const d = await ts.call('GET', `/v1.0/${p}/clusters/${defaulted.body.cluster.id}`);
      assert.equal(d.body.cluster.guest_agent_version, '8.3.0.200', 'documented default');
      const list = await ts.call('GET', `/v1.0/${p}/clusters`);
      assert.ok(
        list.body.clusters.some((x: any) => x.id === id),
        'list.body.clusters.some((x: any) => x.id === id)',
      );
      assert.equal(list.body.count, list.body.clusters.length);
      const del = await ts.call('DELETE', `/v1.0/${p}/clusters/${id}`);
      assert.equal(del.status, 202);
      assert.equal((await ts.call('GET', `/v1.0/${p}/clusters/${id}`)).status, 404);
      assert.equal((await ts.call('DELETE', `/v1.0/${p}/clusters/${id}`)).status, 404);
    });

    test('a cluster created with DWS_CLUSTER_CREATE_SECONDS moves from CREATING to AVAILABLE', async () => {
      const slow = await startTestServer({ store, env: { DWS_CLUSTER_CREATE_SECONDS: '3' } });
      try {
        const id = (await slow.call('POST', `/v2/${slow.projectId}/clusters`, clusterBody('creating'))).body
          .cluster.id;
        const first = await slow.call('GET', `/v1.0/${slow.projectId}/clusters/${id}`);
        assert.equal(first.body.cluster.status, 'CREATING');
        const early = await slow.call('POST', `/v2/${slow.projectId}/clusters/${id}/encrypt`, {
          encrypt: { master_key_id: id, crypt_algorithm: 'generalCipher' },
        });
        assertErrorFormat(early, 400, 'DWS.0401');
        let status = 'CREATING';
        await eventually('the cluster is created', async () => {
          status = (await slow.call('GET', `/v1.0/${slow.projectId}/clusters/${id}`)).body.cluster.status;
          return status === 'AVAILABLE';
        });
        assert.equal(status, 'AVAILABLE');
      } finally {
        await slow.close({ removeData: true });
      }
    });
  });
}
