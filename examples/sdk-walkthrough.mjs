// Drives dws-encryption with the official Huawei Cloud SDK core (signing, HTTP, error mapping):
// create a KMS key and a cluster, read encrypt-info, convert the cluster, follow the job, rotate.
// Run: HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=... HUAWEICLOUD_SDK_PROJECT_ID=... node examples/sdk-walkthrough.mjs
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { DefaultHttpClient } from '@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js';

const endpoint = process.env.DWS_ENDPOINT ?? 'http://127.0.0.1:8080';
const projectId = process.env.HUAWEICLOUD_SDK_PROJECT_ID;
const credentials = new BasicCredentials()
  .withAk(process.env.HUAWEICLOUD_SDK_AK)
  .withSk(process.env.HUAWEICLOUD_SDK_SK)
  .withProjectId(projectId);
const client = new HcClient(new DefaultHttpClient({}, [endpoint]))
  .withEndpoints([endpoint])
  .withCredential(credentials);

// Every request is signed with SDK-HMAC-SHA256 by the SDK; {project_id} is filled in from the credentials.
const call = (method, url, data) =>
  client.sendRequest({
    method,
    url,
    contentType: 'application/json',
    pathParams: { project_id: projectId },
    queryParams: {},
    headers: {},
    ...(data ? { data } : {}),
  });

const suffix = Date.now().toString(36);
const { key_info } = await call('POST', '/v1.0/{project_id}/kms/create-key', {
  key_alias: `walkthrough-${suffix}`,
  key_spec: 'AES_256',
});
console.log('master key', key_info.key_id);

const { cluster } = await call('POST', '/v2/{project_id}/clusters', {
  cluster: {
    name: `walkthrough-${suffix}`,
    flavor: 'dwsk2.xlarge',
    num_node: 3,
    db_name: 'dbadmin',
    db_password: 'Secret!Passw0rd',
    vpc_id: 'vpc-1',
    subnet_id: 'subnet-1',
    datastore_version: '9.1.0',
    guest_agent_version: '8.3.0.200',
  },
});
console.log('cluster', cluster.id);

const before = await call('GET', `/v1/{project_id}/clusters/${cluster.id}/encrypt-info`);
console.log('encrypt-info before:', before.crypt_algorithm); // null: not encrypted yet

const { job_id } = await call('POST', `/v2/{project_id}/clusters/${cluster.id}/encrypt`, {
  encrypt: { master_key_id: key_info.key_id, crypt_algorithm: 'generalCipher' },
});
for (;;) {
  const job = await call('GET', `/v1.0/{project_id}/job/${job_id}`);
  console.log(`job ${job.status} ${job.progress}`);
  if (job.status === 'SUCCESS' || job.status === 'FAIL') break;
  await new Promise((resolve) => setTimeout(resolve, 500));
}

const after = await call('GET', `/v1/{project_id}/clusters/${cluster.id}/encrypt-info`);
console.log('encrypt-info after:', after.crypt_algorithm, after.master_key_name);

const rotated = await call('POST', `/v1/{project_id}/clusters/${cluster.id}/rotate-key`);
console.log('rotated at', rotated.rotate_key_time);

try {
  await call('POST', `/v2/{project_id}/clusters/${cluster.id}/encrypt`, {
    encrypt: { master_key_id: key_info.key_id, crypt_algorithm: 'generalCipher' },
  });
} catch (error) {
  // The SDK raises ClientRequestException with the service's error code and message.
  console.log('second conversion refused:', error.httpStatusCode, error.errorCode, error.errorMsg);
}
