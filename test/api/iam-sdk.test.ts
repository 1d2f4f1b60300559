/**
 * Conformance with the official IAM client from npm (`@huaweicloud/huaweicloud-sdk-iam`, used unchanged):
 * `KeystoneCreateUserTokenByPassword` issues a token whose response object the SDK builds, and the token
 * then authorises DWS calls (X-Auth-Token) through the official core client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GlobalCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';
import {
  AuthScope,
  AuthScopeProject,
  IamClient,
  KeystoneCreateUserTokenByPasswordRequest,
  KeystoneCreateUserTokenByPasswordRequestBody,
  PwdAuth,
  PwdIdentity,
  PwdPassword,
  PwdPasswordUser,
  PwdPasswordUserDomain,
} from '@huaweicloud/huaweicloud-sdk-iam/v3/public-api.js';
import { ACME, identitiesFixture, USERS } from '../helpers/iam.js';
import { clusterBody, startTestServer, type TestServer } from '../helpers/server.js';

function iamClient(endpoint: string): IamClient {
  const credentials = new GlobalCredentials()
    .withAk(USERS.admin.ak)
    .withSk(USERS.admin.sk)
    .withDomainId(ACME.domainId);
  return IamClient.newBuilder().withCredential(credentials).withEndpoint(endpoint).build();
}

function passwordRequest(password: string): KeystoneCreateUserTokenByPasswordRequest {
  const user = new PwdPasswordUser()
    .withDomain(new PwdPasswordUserDomain().withName(ACME.name))
    .withName(USERS.admin.name)
    .withPassword(password);
  const auth = new PwdAuth()
    .withIdentity(new PwdIdentity().withMethods(['password']).withPassword(new PwdPassword().withUser(user)))
    .withScope(new AuthScope().withProject(new AuthScopeProject().withId(ACME.p1.id)));
  return new KeystoneCreateUserTokenByPasswordRequest().withBody(
    new KeystoneCreateUserTokenByPasswordRequestBody().withAuth(auth),
  );
}

describe('the official IAM SDK (KeystoneCreateUserTokenByPassword)', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ iamFile: identitiesFixture() });
  });
  after(() => ts.close({ removeData: true }));

  test('issues a token the SDK parses, and the token authorises DWS calls', async () => {
    // The SDK hands back the parsed JSON with the header it was told to keep (X-Subject-Token).
    const response = (await iamClient(ts.baseUrl).keystoneCreateUserTokenByPassword(
      passwordRequest(USERS.admin.password),
    )) as any;
    assert.equal(response.httpStatusCode, 201);
    const token: string = response['X-Subject-Token'];
    assert.match(token ?? '', /^dwst_/);
    assert.deepEqual(response.token.methods, ['password']);
    assert.equal(response.token.user.name, USERS.admin.name);
    assert.equal(response.token.user.domain.name, ACME.name);
    assert.equal(response.token.user.password_expires_at, '');
    assert.equal(response.token.project.id, ACME.p1.id);
    assert.ok(
      Date.parse(response.token.expires_at) > Date.now(),
      'Date.parse(response.token.expires_at) > Date.now()',
    );

    // The token alone (no signature) drives the DWS API through the official core client.
    const dws = new HcClient(new DefaultHttpClient({}, [ts.baseUrl])).withEndpoints([ts.baseUrl]);
    const call = (method: string, url: string, data?: unknown) =>
      dws.sendRequest({
        method,
        url,
        contentType: 'application/json',
        pathParams: { project_id: ACME.p1.id },
        queryParams: {},
        headers: { 'X-Auth-Token': token },
        ...(data ? { data } : {}),
      } as never) as Promise<any>;
    const created = await call('POST', '/v2/{project_id}/clusters', clusterBody('iam-sdk-cluster'));
    assert.match(created.cluster.id, /^[0-9a-f-]{36}$/);
    const listed = await call('GET', '/v2/{project_id}/clusters');
    assert.ok(
      listed.clusters.some((c: { id: string }) => c.id === created.cluster.id),
      'listed.clusters.some((c: { id: string }) => c.id === created.cluster.id)',
    );
    const info = await call('GET', `/v1/{project_id}/clusters/${created.cluster.id}/encrypt-info`);
    assert.equal(info.master_key_id, null);
  });

  test('a wrong password raises the SDK exception with the IAM error code', async () => {
    await assert.rejects(
      iamClient(ts.baseUrl).keystoneCreateUserTokenByPassword(passwordRequest('not-the-password')),
      (error: any) => {
        assert.equal(error.httpStatusCode, 401);
        assert.equal(error.errorCode, 'IAM.0401');
        assert.ok(error.errorMsg, 'error.errorMsg');
        return true;
      },
    );
  });
});
