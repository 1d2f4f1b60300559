/**
 * What the official Python SDK sends, signed its way (test/helpers/python-signer.ts), answers like the
 * Node SDK's requests: path parameters with characters to escape, queries, the data-key default and the
 * enterprise-project filter of the cluster list. Signature checks do not depend on the store: one store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pyQuote, pythonCall, pythonSign } from '../helpers/python-signer.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';

describe('requests signed by the official Python SDK', () => {
  let ts: TestServer;
  let p: string;
  let clusterId: string;
  const py = (method: string, path: string, options?: Parameters<typeof pythonCall>[4]) =>
    pythonCall(ts.baseUrl, { ak: ts.ak, sk: ts.sk }, method, path, options);

  before(async () => {
    ts = await startTestServer();
    p = ts.projectId;
    const created = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('python-cluster'));
    assert.equal(created.status, 200, created.text);
    clusterId = created.body.cluster.id;
  });
  after(() => ts.close({ removeData: true }));

  test('a well-formed call with a query and a JSON body', async () => {
    const info = await py('GET', `/v1/${p}/clusters/${clusterId}/encrypt-info`);
    assert.equal(info.status, 200, info.text);
    const list = await py('GET', `/v1.0/${p}/clusters`, { query: [['enterprise_project_id', '0']] });
    assert.equal(list.status, 200, list.text);
    const key = await py('POST', `/v1.0/${p}/kms/create-key`, { body: { key_alias: 'python-key' } });
    assert.equal(key.status, 200, key.text);
  });

  // A malformed id signed the Python way answers what the Node way answers: the 400 of the id, not a 401.
  for (const id of ['not a uuid', 'clé', 'a/b', 'a!b', 'a(b)*']) {
    test(`malformed cluster id ${JSON.stringify(id)}: the same 400 from both SDKs`, async () => {
      const node = await ts.call('GET', `/v1/${p}/clusters/${encodeURIComponent(id)}/encrypt-info`);
      const python = await py('GET', `/v1/${p}/clusters/${pyQuote(id)}/encrypt-info`);
      assert.equal(node.status, 400, node.text);
      assert.equal(node.body.error_code, 'DWS.0006', node.text);
      assert.equal(python.status, node.status, python.text);
      assert.equal(python.body.error_code, node.body.error_code, python.text);
    });
  }

  test('a Python signature does not verify for another path', async () => {
    const host = new URL(ts.baseUrl).host;
    const signed = pythonSign({
      method: 'GET',
      resourcePath: `/v1/${p}/clusters/a%20b/encrypt-info`,
      host,
      ak: ts.ak,
      sk: ts.sk,
    });
    const { Host: _host, ...headers } = signed.headers;
    const res = await fetch(`${ts.baseUrl}/v1/${p}/clusters/a%20c/encrypt-info`, { headers });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error_code: string }).error_code, 'DWS.0103');
  });

  test('create-datakey with only key_id gives the reference default, 256 bits', async () => {
    const keyId = (await py('POST', `/v1.0/${p}/kms/create-key`, { body: { key_alias: 'python-dek' } })).body
      .key_info.key_id;
    const dek = await py('POST', `/v1.0/${p}/kms/create-datakey`, { body: { key_id: keyId } });
    assert.equal(dek.status, 200, dek.text);
    assert.equal(dek.body.plain_text.length, 64, '32 bytes as hex');
  });
});

describe('GET /v1.0/{project_id}/clusters?enterprise_project_id', () => {
  let ts: TestServer;
  let p: string;
  const EPS = '2b9bbba4-6e54-4f9b-8b1b-0c3a5e2f7d10';

  before(async () => {
    ts = await startTestServer();
    p = ts.projectId;
    for (const [name, extra] of [
      ['eps-default', {}],
      ['eps-zero', { enterprise_project_id: '0' }],
      ['eps-other', { enterprise_project_id: EPS }],
    ] as const) {
      const res = await ts.call('POST', `/v2/${p}/clusters`, clusterBody(name, extra));
      assert.equal(res.status, 200, res.text);
    }
  });
  after(() => ts.close({ removeData: true }));

  const names = async (filter?: string) => {
    const res = await ts.call('GET', `/v1.0/${p}/clusters`, undefined, {
      ...(filter !== undefined ? { query: { enterprise_project_id: filter } } : {}),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.count, res.body.clusters.length);
    return res.body.clusters.map((c: { name: string }) => c.name).sort();
  };

  test('filters by the enterprise project; 0 is the default one; all_granted_eps and no filter list all', async () => {
    assert.deepEqual(await names(), ['eps-default', 'eps-other', 'eps-zero']);
    assert.deepEqual(await names('all_granted_eps'), ['eps-default', 'eps-other', 'eps-zero']);
    assert.deepEqual(await names('0'), ['eps-default', 'eps-zero']);
    assert.deepEqual(await names(EPS), ['eps-other']);
    assert.deepEqual(await names('11111111-2222-4333-8444-555555555555'), []);
  });

  for (const bad of ['', 'abc', 'ALL_GRANTED_EPS', '2B9BBBA4-6E54-4F9B-8B1B-0C3A5E2F7D10', '00']) {
    test(`a malformed filter ${JSON.stringify(bad)} is refused with 400 (v1.0 and v2)`, async () => {
      for (const version of ['v1.0', 'v2']) {
        const res = await ts.call('GET', `/${version}/${p}/clusters`, undefined, {
          query: { enterprise_project_id: bad },
        });
        assert.equal(res.status, 400, `${version}: ${res.text}`);
        assert.equal(res.body.error_code, 'DWS.0001');
        assert.match(res.body.error_msg, /enterprise_project_id/);
      }
    });
  }

  test('GET /v2 filters alike', async () => {
    const v2 = async (filter: string) =>
      (
        await ts.call('GET', `/v2/${p}/clusters`, undefined, { query: { enterprise_project_id: filter } })
      ).body.clusters
        .map((c: { name: string }) => c.name)
        .sort();
    assert.deepEqual(await v2('0'), ['eps-default', 'eps-zero']);
    assert.deepEqual(await v2(EPS), ['eps-other']);
    assert.deepEqual(await v2('all_granted_eps'), ['eps-default', 'eps-other', 'eps-zero']);
  });
});
