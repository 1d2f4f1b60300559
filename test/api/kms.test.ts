/** The KMS subset over real HTTP: keys, states, and data keys that round-trip. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { stores } from '../helpers/stores.js';

for (const store of stores()) {
  describe(`kms (${store})`, () => {
    let ts: TestServer;
    let base: string;
    const kms = (action: string, body: unknown) => ts.call('POST', `${base}/${action}`, body);

    before(async () => {
      ts = await startTestServer({ store });
      base = `/v1.0/${ts.projectId}/kms`;
    });
    after(() => ts.close({ removeData: true }));

    test('create-key and describe-key report the contract fields', async () => {
      const created = await kms('create-key', {
        key_alias: 'app/key-1',
        key_spec: 'SM4',
        key_description: 'for tests',
      });
      assert.equal(created.status, 200, created.text);
      const keyId = created.body.key_info.key_id;
      assert.match(keyId, /^[0-9a-f-]{36}$/);
      assert.match(created.body.key_info.domain_id, /^[0-9a-f]{32}$/);
      assert.equal(created.body.key_info.region_id, 'local');
      const described = await kms('describe-key', { key_id: keyId });
      assert.equal(described.status, 200);
      const info = described.body.key_info;
      assert.deepEqual(Object.keys(info).sort(), [
        'creation_date',
        'default_key_flag',
        'domain_id',
        'expiration_time',
        'key_alias',
        'key_description',
        'key_id',
        'key_rotation_enabled',
        'key_spec',
        'key_state',
        'key_type',
        'key_usage',
        'keystore_id',
        'origin',
        'realm',
        'scheduled_deletion_date',
        'sys_enterprise_project_id',
      ]);
      assert.equal(info.keystore_id, '0');
      assert.equal(info.sys_enterprise_project_id, '0');
      assert.equal(info.key_alias, 'app/key-1');
      assert.equal(info.key_spec, 'SM4');
      assert.equal(info.key_state, '2');
      assert.equal(info.key_description, 'for tests');
      assert.match(info.creation_date, /^\d{13}$/);
    });

    test('aliases are unique per project and validated', async () => {
      assert.equal((await kms('create-key', { key_alias: 'dup' })).status, 200);
      const dup = await kms('create-key', { key_alias: 'dup' });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error_code, 'KMS.0302');
      for (const alias of ['bad alias', 'x/default', '']) {
        const res = await kms('create-key', { key_alias: alias });
        assert.equal(res.status, 400, alias);
        assert.equal(res.body.error_code, 'KMS.0001', alias);
      }
      const spec = await kms('create-key', { key_alias: 'rsa', key_spec: 'RSA_2048' });
      assert.equal(spec.body.error_code, 'KMS.0308');
    });

    test('state changes: disable, enable, schedule and cancel deletion', async () => {
      const keyId = (await kms('create-key', { key_alias: 'states' })).body.key_info.key_id;
      const disabled = await kms('disable-key', { key_id: keyId });
      assert.deepEqual(disabled.body, { key_info: { key_id: keyId, key_state: '3' } });
      assert.equal((await kms('enable-key', { key_id: keyId })).body.key_info.key_state, '2');
      const scheduled = await kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
      assert.deepEqual(scheduled.body, { key_id: keyId, key_state: '4' });
      const described = await kms('describe-key', { key_id: keyId });
      assert.match(described.body.key_info.scheduled_deletion_date, /^\d{13}$/);
      const enableWhilePending = await kms('enable-key', { key_id: keyId });
      assert.equal(enableWhilePending.body.error_code, 'KMS.0304');
      assert.deepEqual((await kms('cancel-key-deletion', { key_id: keyId })).body, {
        key_id: keyId,
        key_state: '3',
      });
      for (const days of ['6', '1097', 'x', 3.5, '', null]) {
        const res = await kms('schedule-key-deletion', { key_id: keyId, pending_days: days });
        assert.equal(res.status, 400, String(days));
        assert.equal(res.body.error_code, 'KMS.0001');
        assert.match(res.body.error_msg, /pending_days must be an integer from 7 to 1096/, res.text);
      }
      const unknown = await kms('disable-key', { key_id: '00000000-0000-4000-8000-000000000000' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error_code, 'KMS.0301');
    });

    test('list-keys pages with marker and filters by state and spec', async () => {
      const own = await startTestServer({ store });
      try {
        const b = `/v1.0/${own.projectId}/kms`;
        for (let i = 0; i < 5; i++)
          await own.call('POST', `${b}/create-key`, {
            key_alias: `k${i}`,
            key_spec: i % 2 ? 'SM4' : 'AES_256',
          });
        const page1 = await own.call('POST', `${b}/list-keys`, { limit: '2' });
        assert.equal(page1.status, 200, page1.text);
        assert.equal(page1.body.keys.length, 2);
        assert.equal(page1.body.key_details.length, 2);
        assert.equal(page1.body.truncated, 'true');
        assert.equal(page1.body.total, 5);
        const seen = new Set(page1.body.keys);
        let marker = page1.body.next_marker;
        while (marker) {
          const page = await own.call('POST', `${b}/list-keys`, { limit: 2, marker });
          for (const k of page.body.keys) seen.add(k);
          marker = page.body.truncated === 'true' ? page.body.next_marker : '';
        }
        assert.equal(seen.size, 5);
        const sm4 = await own.call('POST', `${b}/list-keys`, { key_spec: 'SM4' });
        assert.equal(sm4.body.total, 2);
        const disabled = await own.call('POST', `${b}/list-keys`, { key_state: '3' });
        assert.equal(disabled.body.total, 0);
      } finally {
        await own.close({ removeData: true });
      }
    });

    for (const spec of ['AES_256', 'SM4']) {
      test(`data keys round-trip under a ${spec} master key`, async () => {
        const keyId = (await kms('create-key', { key_alias: `dek-${spec}`, key_spec: spec })).body.key_info
          .key_id;
        const created = await kms('create-datakey', {
          key_id: keyId,
          datakey_length: '512',
          additional_authenticated_data: 'ctx',
        });
        assert.equal(created.status, 200, created.text);
        assert.equal(created.body.plain_text.length, 128);
        const decrypted = await kms('decrypt-datakey', {
          key_id: keyId,
          cipher_text: created.body.cipher_text,
          datakey_cipher_length: '64',
          additional_authenticated_data: 'ctx',
        });
        assert.equal(decrypted.status, 200, decrypted.text);
        assert.equal(decrypted.body.data_key, created.body.plain_text);
        const digest = createHash(spec === 'SM4' ? 'sm3' : 'sha256')
          .update(Buffer.from(created.body.plain_text, 'hex'))
          .digest('hex');
        assert.equal(decrypted.body.datakey_dgst, digest);

        const wrongContext = await kms('decrypt-datakey', {
          key_id: keyId,
          cipher_text: created.body.cipher_text,
          datakey_cipher_length: '64',
          additional_authenticated_data: 'other',
        });
        assert.equal(wrongContext.status, 400);
        assert.equal(wrongContext.body.error_code, 'KMS.0306');

        const tampered =
          created.body.cipher_text.slice(0, -2) + (created.body.cipher_text.endsWith('00') ? '01' : '00');
        const bad = await kms('decrypt-datakey', {
          key_id: keyId,
          cipher_text: tampered,
          datakey_cipher_length: '64',
          additional_authenticated_data: 'ctx',
        });
        assert.equal(bad.body.error_code, 'KMS.0306');

        const own = Buffer.alloc(32, 7);
        const plainText = Buffer.concat([
          own,
          createHash(spec === 'SM4' ? 'sm3' : 'sha256')
            .update(own)
            .digest(),
        ]).toString('hex');
        const encrypted = await kms('encrypt-datakey', {
          key_id: keyId,
          plain_text: plainText,
          datakey_plain_length: '32',
        });
        assert.equal(encrypted.status, 200, encrypted.text);
        assert.equal(encrypted.body.datakey_length, '32');
        const back = await kms('decrypt-datakey', {
          key_id: keyId,
          cipher_text: encrypted.body.cipher_text,
          datakey_cipher_length: '32',
        });
        assert.equal(back.body.data_key, own.toString('hex'));
        const badDigest = await kms('encrypt-datakey', {
          key_id: keyId,
          plain_text: own.toString('hex') + '00'.repeat(32),
          datakey_plain_length: '32',
        });
        assert.equal(badDigest.body.error_code, 'KMS.0307');
        // The refusal says which digest this master key expects.
        assert.match(
          badDigest.body.error_msg,
          spec === 'SM4' ? /SM3 under an SM4/ : /SHA-256 under an AES_256/,
        );
      });
    }

    test('create-datakey key_spec: the official enum, the specs that suit the master key, a 256-bit default', async () => {
      const aes = (await kms('create-key', { key_alias: 'spec-aes' })).body.key_info.key_id;
      const sm4 = (await kms('create-key', { key_alias: 'spec-sm4', key_spec: 'SM4' })).body.key_info.key_id;
      const hexLength = async (keyId: string, extra: Record<string, unknown>) => {
        const res = await kms('create-datakey', { key_id: keyId, ...extra });
        assert.equal(res.status, 200, res.text);
        return res.body.plain_text.length;
      };
      assert.equal(await hexLength(aes, {}), 64, 'neither key_spec nor datakey_length: 256 bits');
      assert.equal(await hexLength(sm4, {}), 64);
      assert.equal(await hexLength(aes, { key_spec: 'AES_256' }), 64);
      assert.equal(await hexLength(aes, { key_spec: 'AES_128' }), 32);
      assert.equal(await hexLength(sm4, { key_spec: 'SM4' }), 32, 'SM4: 128 bits');
      assert.equal(await hexLength(sm4, { key_spec: 'AES_256', datakey_length: '512' }), 128, 'length wins');

      for (const [keyId, spec, allowed] of [
        [aes, 'SM4', 'AES_256, AES_128'],
        [aes, 'HMAC_256', 'AES_256, AES_128'],
        [sm4, 'AES_128', 'SM4'],
        [sm4, 'HMAC_SM3', 'SM4'],
      ] as const) {
        const res = await kms('create-datakey', { key_id: keyId, key_spec: spec });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.error_code, 'KMS.0308');
        assert.match(res.body.error_msg, new RegExp(`${spec}.*use one of: ${allowed}`));
      }

      const unknown = await kms('create-datakey', { key_id: aes, key_spec: 'AES_512' });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error_code, 'KMS.0001');
      assert.equal(
        unknown.body.error_msg,
        'body field key_spec must be one of: AES_256, AES_128, SM4, HMAC_256, HMAC_384, HMAC_512, HMAC_SM3.',
      );
    });

    test('a data key wrapped under one key does not open under another', async () => {
      const a = (await kms('create-key', { key_alias: 'iso-a' })).body.key_info.key_id;
      const b = (await kms('create-key', { key_alias: 'iso-b' })).body.key_info.key_id;
      const created = await kms('create-datakey', { key_id: a, key_spec: 'AES_256' });
      assert.equal(created.body.plain_text.length, 64);
      const res = await kms('decrypt-datakey', {
        key_id: b,
        cipher_text: created.body.cipher_text,
        datakey_cipher_length: '32',
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error_code, 'KMS.0306');
    });

    test('disabled keys and keys pending deletion refuse new wraps', async () => {
      const keyId = (await kms('create-key', { key_alias: 'refuse' })).body.key_info.key_id;
      await kms('disable-key', { key_id: keyId });
      const disabled = await kms('create-datakey', { key_id: keyId });
      assert.equal(disabled.body.error_code, 'KMS.0303');
      await kms('schedule-key-deletion', { key_id: keyId, pending_days: 30 });
      const pending = await kms('create-datakey', { key_id: keyId });
      assert.equal(pending.body.error_code, 'KMS.0304');
    });
  });
}
