/** Runs the README's worked example (examples/sdk-walkthrough.mjs) with the official SDK against a live server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
before(async () => {
  ts = await startTestServer();
});
after(() => ts.close({ removeData: true }));

test('the official SDK walkthrough runs end to end', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['examples/sdk-walkthrough.mjs'], {
    env: {
      ...process.env,
      DWS_ENDPOINT: ts.baseUrl,
      HUAWEICLOUD_SDK_AK: ts.ak,
      HUAWEICLOUD_SDK_SK: ts.sk,
      HUAWEICLOUD_SDK_PROJECT_ID: ts.projectId,
    },
    timeout: 300_000,
  });
  assert.match(stdout, /encrypt-info before: null/);
  assert.match(stdout, /job SUCCESS 100%/);
  assert.match(stdout, /encrypt-info after: generalCipher walkthrough-/);
  assert.match(stdout, /rotated at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
  assert.match(stdout, /second conversion refused: 400 DWS\.0402/);
});
