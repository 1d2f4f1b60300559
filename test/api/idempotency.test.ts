/**
 * X-Client-Token on the non-idempotent writes (rotate-key, encrypt, create-key, create-cluster): a retry
 * with the same token and request within 24 h gets the first answer (status and body) without acting
 * twice; the same token with another request is refused with 400 naming the header; a malformed token
 * is refused; tokens are kept in the store, so they hold across a restart and across instances.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiResponse, clusterBody, startTestServer, type TestServer } from '../helpers/server.js';
import { createTestDatabase, postgresSkip, stores } from '../helpers/stores.js';

const withToken = (token: string) => ({ headers: { 'X-Client-Token': token } });

function assertReplayed(first: ApiResponse, again: ApiResponse): void {
  assert.equal(again.status, first.status, again.text);
  assert.equal(again.text, first.text);
  assert.equal(again.headers.get('x-client-token-replayed'), 'true');
}

for (const store of stores()) {
  describe(`X-Client-Token (${store})`, () => {
    let ts: TestServer;
    let p: string;
    let keyId: string;

    before(async () => {
      ts = await startTestServer({ store });
      p = ts.projectId;
      const key = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'idem' });
      keyId = key.body.key_info.key_id;
    });
    after(() => ts.close({ removeData: true }));

    const dataKeyVersions = async (clusterId: string) =>
      (
        await ts.server.database.db
          .selectFrom('cluster_data_keys')
          .select('version')
          .where('cluster_id', '=', clusterId)
          .execute()
      ).length;

    const encryptedCluster = async (name: string): Promise<string> => {
      const created = await ts.call(
        'POST',
        `/v2/${p}/clusters`,
        clusterBody(name, { master_key_id: keyId, crypt_algorithm: 'generalCipher' }),
      );
      assert.equal(created.status, 200, created.text);
      return created.body.cluster.id;
    };

    test('rotate-key: a retry with the same token returns the first answer and rotates once', async () => {
      const id = await encryptedCluster('idem-rotate');
      const versions = await dataKeyVersions(id);
      const first = await ts.call(
        'POST',
        `/v1/${p}/clusters/${id}/rotate-key`,
        undefined,
        withToken('rot-1'),
      );
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get('x-client-token-replayed'), null);
      const again = await ts.call(
        'POST',
        `/v1/${p}/clusters/${id}/rotate-key`,
        undefined,
        withToken('rot-1'),
      );
      assertReplayed(first, again);
      assert.equal(await dataKeyVersions(id), versions + 1, 'rotated once');
      const other = await ts.call(
        'POST',
        `/v1/${p}/clusters/${id}/rotate-key`,
        undefined,
        withToken('rot-2'),
      );
      assert.equal(other.status, 200);
      assert.equal(await dataKeyVersions(id), versions + 2, 'a new token acts again');
    });

    test('create-key and create-cluster: one resource per token; another body with the token is refused naming the header', async () => {
      const body = { key_alias: 'idem-once' };
      const first = await ts.call('POST', `/v1.0/${p}/kms/create-key`, body, withToken('key-1'));
      assert.equal(first.status, 200, first.text);
      assertReplayed(first, await ts.call('POST', `/v1.0/${p}/kms/create-key`, body, withToken('key-1')));
      const different = await ts.call(
        'POST',
        `/v1.0/${p}/kms/create-key`,
        { key_alias: 'idem-other' },
        withToken('key-1'),
      );
      assert.equal(different.status, 400, different.text);
      assert.equal(different.body.error_code, 'KMS.0012');
      assert.match(different.body.error_msg, /X-Client-Token/);
      // The same token on another route is another request too.
      const elsewhere = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('idem-x'), withToken('key-1'));
      assert.equal(elsewhere.status, 400, elsewhere.text);

      const cluster = clusterBody('idem-cluster');
      const made = await ts.call('POST', `/v2/${p}/clusters`, cluster, withToken('cluster-1'));
      assert.equal(made.status, 200, made.text);
      assertReplayed(made, await ts.call('POST', `/v2/${p}/clusters`, cluster, withToken('cluster-1')));
      const list = await ts.call('GET', `/v1.0/${p}/clusters`);
      assert.equal(list.body.clusters.filter((c: { name: string }) => c.name === 'idem-cluster').length, 1);
    });

    test('encrypt: the same job id; a first answer that was a refusal is replayed as it was', async () => {
      const created = await ts.call('POST', `/v2/${p}/clusters`, clusterBody('idem-encrypt'));
      const id = created.body.cluster.id;
      const body = { encrypt: { master_key_id: keyId, crypt_algorithm: 'generalCipher' } };
      const first = await ts.call('POST', `/v2/${p}/clusters/${id}/encrypt`, body, withToken('enc-1'));
      assert.equal(first.status, 200, first.text);
      assertReplayed(
        first,
        await ts.call('POST', `/v2/${p}/clusters/${id}/encrypt`, body, withToken('enc-1')),
      );
      const refused = await ts.call('POST', `/v2/${p}/clusters/${id}/encrypt`, body, withToken('enc-2'));
      assert.equal(refused.status, 400, refused.text);
      assertReplayed(
        refused,
        await ts.call('POST', `/v2/${p}/clusters/${id}/encrypt`, body, withToken('enc-2')),
      );
    });

    test('a malformed token is refused; without the header nothing changes', async () => {
      for (const token of ['', 'a'.repeat(65), 'has space', 'sémantique', 'a/b']) {
        const res = await ts.call(
          'POST',
          `/v1.0/${p}/kms/create-key`,
          { key_alias: `bad-${token.length}` },
          withToken(token),
        );
        if (token === '') continue; // an empty header is no header for fetch
        assert.equal(res.status, 400, `${token}: ${res.text}`);
        assert.equal(res.body.error_code, 'KMS.0011');
      }
      const a = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'no-token-1' });
      const b = await ts.call('POST', `/v1.0/${p}/kms/create-key`, { key_alias: 'no-token-1' });
      assert.equal(a.status, 200);
      assert.equal(b.status, 400, 'without a token a retry acts again (here: the alias exists)');
    });

    test('past 24 h a token acts again; an unanswered first request is 409 until it counts as abandoned', async () => {
      const id = await encryptedCluster('idem-window');
      const rotate = (token: string) =>
        ts.call('POST', `/v1/${p}/clusters/${id}/rotate-key`, undefined, withToken(token));
      const age = (token: string, ms: number) =>
        ts.server.database.db
          .updateTable('client_tokens')
          .set((eb) => ({ created_at: eb('created_at', '-', ms) }))
          .where('token', '=', token)
          .execute();
      const versions = await dataKeyVersions(id);

      const first = await rotate('window-1');
      assert.equal(first.status, 200, first.text);
      await age('window-1', 24 * 60 * 60 * 1000 - 60_000);
      assertReplayed(first, await rotate('window-1'));
      assert.equal(await dataKeyVersions(id), versions + 1, 'within 24 h: replayed');
      await age('window-1', 2 * 60_000);
      const later = await rotate('window-1');
      assert.equal(later.status, 200, later.text);
      assert.equal(later.headers.get('x-client-token-replayed'), null);
      assert.equal(await dataKeyVersions(id), versions + 2, 'past 24 h: acts again');

      // A first request that has not answered yet (its row without an answer): retries wait for it.
      const running = await rotate('window-2');
      assert.equal(running.status, 200, running.text);
      await ts.server.database.db
        .updateTable('client_tokens')
        .set({ status: null, response: null })
        .where('token', '=', 'window-2')
        .execute();
      const waiting = await rotate('window-2');
      assert.equal(waiting.status, 409, waiting.text);
      assert.equal(waiting.body.error_code, 'DWS.0013');
      assert.match(waiting.body.error_msg, /X-Client-Token/);
      assert.equal(await dataKeyVersions(id), versions + 3);
      // After 2 minutes without an answer its instance is taken for dead: a retry acts.
      await age('window-2', 2 * 60_000 + 1_000);
      const takenOver = await rotate('window-2');
      assert.equal(takenOver.status, 200, takenOver.text);
      assert.equal(await dataKeyVersions(id), versions + 4);
      assertReplayed(takenOver, await rotate('window-2'));
    });

    test('a token outlives a restart', async () => {
      const body = { key_alias: 'idem-restart' };
      const first = await ts.call('POST', `/v1.0/${p}/kms/create-key`, body, withToken('restart-1'));
      await ts.server.close();
      ts = await startTestServer({
        store,
        dataDir: ts.dataDir,
        ...(ts.database ? { database: ts.database } : {}),
      });
      assertReplayed(first, await ts.call('POST', `/v1.0/${p}/kms/create-key`, body, withToken('restart-1')));
    });
  });
}

describe('X-Client-Token across instances', { skip: postgresSkip() }, () => {
  test('a retry sent to another instance gets the first answer', async () => {
    const database = await createTestDatabase();
    const a = await startTestServer({ database });
    const b = await startTestServer({ database });
    try {
      const p = a.projectId;
      const body = { key_alias: 'idem-shared' };
      const first = await a.call('POST', `/v1.0/${p}/kms/create-key`, body, withToken('shared-1'));
      assert.equal(first.status, 200, first.text);
      assertReplayed(first, await b.call('POST', `/v1.0/${p}/kms/create-key`, body, withToken('shared-1')));
    } finally {
      await a.close({ removeData: true });
      await b.close({ removeData: true });
      await database.drop();
    }
  });
});
