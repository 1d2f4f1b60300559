/**
 * examples/container/: the CI service entries start the service with a credential it accepts and hand
 * the same credential and endpoint to the job's SDK clients, which read exactly those variables.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

const DIR = fileURLToPath(new URL('../../examples/container/', import.meta.url));
const read = (file: string) => readFileSync(`${DIR}${file}`, 'utf8');

function assertSameCredential(serviceEnv: Record<string, string>, clientEnv: Record<string, string>): void {
  const config = loadConfig({ ...serviceEnv, DATA_DIR: '/data' });
  assert.equal(config.bootstrap.ak, clientEnv.HUAWEICLOUD_SDK_AK);
  assert.equal(config.bootstrap.sk, clientEnv.HUAWEICLOUD_SDK_SK);
  assert.equal(config.bootstrap.projectId, clientEnv.HUAWEICLOUD_SDK_PROJECT_ID);
}

test('GitHub Actions: the service container and the job share the credential; port 8080 is published', () => {
  const job = parse(read('github-actions.yml')).jobs.test;
  const service = job.services['dws-encryption'];
  assertSameCredential(service.env, job.env);
  assert.ok(
    (service.ports as string[]).includes('8080:8080'),
    "(service.ports as string[]).includes('8080:8080')",
  );
  assert.equal(job.env.DWS_ENDPOINT, 'http://127.0.0.1:8080');
});

test('GitLab CI: the service (alias dws) and the job share the credential and the endpoint', () => {
  const job = parse(read('gitlab-ci.yml')).test;
  assert.equal(job.services[0].alias, 'dws');
  assertSameCredential(job.variables, job.variables);
  assert.equal(job.variables.DWS_ENDPOINT, 'http://dws:8080');
});

test('the Python and Java clients read the endpoint and the credential from those variables', () => {
  for (const file of ['client.py', 'Client.java']) {
    const source = read(file);
    for (const name of [
      'DWS_ENDPOINT',
      'HUAWEICLOUD_SDK_AK',
      'HUAWEICLOUD_SDK_SK',
      'HUAWEICLOUD_SDK_PROJECT_ID',
    ]) {
      assert.ok(source.includes(`"${name}"`), `${file} reads ${name}`);
    }
    assert.match(source, /[Ww]ith_?[Ee]ndpoints/, `${file} sets the endpoint instead of a region`);
  }
});
