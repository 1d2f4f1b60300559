import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Errors, ServiceError } from '../../src/domain/errors.js';
import {
  currentClient,
  outsideRequest,
  RequestClient,
  runForClient,
  throwIfClientGone,
} from '../../src/store/call-context.js';

test('a request client: listeners run once when it goes, removed ones never, none after it has gone', () => {
  const client = new RequestClient();
  const calls: string[] = [];
  client.onGone(() => calls.push('a'));
  const removeB = client.onGone(() => calls.push('b'));
  // A listener that removes itself while the others run (what a settled wait does).
  const removeC = client.onGone(() => {
    calls.push('c');
    removeC();
  });
  removeB();
  assert.equal(client.gone, false);
  client.markGone();
  client.markGone();
  assert.equal(client.gone, true);
  assert.deepEqual(calls, ['a', 'c']);
  client.onGone(() => calls.push('late'))();
  client.markGone();
  assert.deepEqual(calls, ['a', 'c']);
});

test('store calls see the client of the request they serve, across awaits, and none outside it', async () => {
  const client = new RequestClient();
  assert.equal(currentClient(), undefined);
  await runForClient(client, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(currentClient(), client);
    throwIfClientGone();
    client.markGone();
    assert.throws(
      () => throwIfClientGone(),
      (error: unknown) => error instanceof ServiceError && error.def === Errors.CLIENT_CLOSED_REQUEST,
    );
    outsideRequest(() => {
      assert.equal(currentClient(), undefined);
      throwIfClientGone();
    });
  });
  assert.equal(currentClient(), undefined);
});
