/** The KMS wire surface: `POST /v1.0/{project_id}/kms/<action>`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import { Errors, ServiceError } from '../../domain/errors.js';
import { isKeySpec, KEY_SPECS } from '../../domain/keys.js';
import type { KeyService } from '../../services/kms.js';
import { actorOf } from '../auth.js';
import { errorResponses, ProjectParams } from '../common-schemas.js';
import { declareSurface } from '../errors.js';
import {
  CreateDataKeyBody,
  CreateDataKeyResult,
  CreateKeyBody,
  CreateKeyResult,
  DecryptDataKeyBody,
  DecryptDataKeyResult,
  DeletionResult,
  EncryptDataKeyBody,
  EncryptDataKeyResult,
  KeyIdBody,
  KeyInfoBody,
  KeyStateResult,
  ListKeysBody,
  ListKeysResult,
  ScheduleDeletionBody,
} from './schemas.js';
import { keyDetailsView } from './views.js';

export interface KmsRoutesOptions {
  keys: KeyService;
  /** Reported as `region_id` of a created key. */
  region: string;
}

function schema<Body extends TSchema, Result extends TSchema>(
  operationId: string,
  body: Body,
  result: Result,
) {
  return {
    operationId,
    tags: ['kms'],
    params: ProjectParams,
    body,
    response: { 200: result, ...errorResponses() },
  };
}

export const kmsRoutes: FastifyPluginAsyncTypebox<KmsRoutesOptions> = async (app, { keys, region }) => {
  declareSurface(app, 'KMS', ['/v1.0/:project_id/kms/*']);
  app.post(
    '/v1.0/:project_id/kms/create-key',
    {
      config: { action: 'kms:cmk:create', idempotent: true },
      schema: schema('CreateKey', CreateKeyBody, CreateKeyResult),
    },
    async (request) => {
      const spec = request.body.key_spec ?? 'AES_256';
      if (!isKeySpec(spec)) {
        throw new ServiceError(
          Errors.KEY_SPEC_UNSUPPORTED,
          `key_spec ${spec} is not supported; use ${KEY_SPECS.join(' or ')}.`,
        );
      }
      const row = await keys.createKey(actorOf(request), {
        alias: request.body.key_alias,
        spec,
        ...(request.body.key_usage ? { usage: request.body.key_usage } : {}),
        ...(request.body.key_description !== undefined ? { description: request.body.key_description } : {}),
        ...(request.body.origin ? { origin: request.body.origin } : {}),
      });
      return { key_info: { key_id: row.id, domain_id: row.domain_id, region_id: region } };
    },
  );

  app.post(
    '/v1.0/:project_id/kms/describe-key',
    { config: { action: 'kms:cmk:get' }, schema: schema('DescribeKey', KeyIdBody, KeyInfoBody) },
    async (request) => ({
      key_info: keyDetailsView(await keys.describeKey(actorOf(request), request.body.key_id)),
    }),
  );

  app.post(
    '/v1.0/:project_id/kms/list-keys',
    { config: { action: 'kms:cmk:list' }, schema: schema('ListKeys', ListKeysBody, ListKeysResult) },
    async (request) => {
      const page = await keys.listKeys(actorOf(request), {
        limit: request.body.limit ?? 1000,
        ...(request.body.marker ? { marker: request.body.marker } : {}),
        ...(request.body.key_state ? { state: request.body.key_state } : {}),
        ...(request.body.key_spec ? { spec: request.body.key_spec } : {}),
      });
      return {
        keys: page.keys.map((k) => k.id),
        key_details: page.keys.map(keyDetailsView),
        next_marker: page.nextMarker ?? '',
        truncated: String(page.truncated),
        total: page.total,
      };
    },
  );

  for (const [path, operationId, action, stateAction] of [
    ['enable-key', 'EnableKey', 'kms:cmk:enable', 'enable'],
    ['disable-key', 'DisableKey', 'kms:cmk:disable', 'disable'],
  ] as const) {
    app.post(
      `/v1.0/:project_id/kms/${path}`,
      { config: { action }, schema: schema(operationId, KeyIdBody, KeyStateResult) },
      async (request) => {
        const row = await keys.changeKeyState(actorOf(request), request.body.key_id, stateAction);
        return { key_info: { key_id: row.id, key_state: row.state } };
      },
    );
  }

  app.post(
    '/v1.0/:project_id/kms/schedule-key-deletion',
    {
      config: { action: 'kms:cmk:scheduleDeletion' },
      schema: schema('DeleteKey', ScheduleDeletionBody, DeletionResult),
    },
    async (request) => {
      const { key_id, pending_days } = request.body;
      const row = await keys.changeKeyState(actorOf(request), key_id, 'scheduleDeletion', pending_days);
      return { key_id: row.id, key_state: row.state };
    },
  );

  app.post(
    '/v1.0/:project_id/kms/cancel-key-deletion',
    {
      config: { action: 'kms:cmk:cancelDeletion' },
      schema: schema('CancelKeyDeletion', KeyIdBody, DeletionResult),
    },
    async (request) => {
      const row = await keys.changeKeyState(actorOf(request), request.body.key_id, 'cancelDeletion');
      return { key_id: row.id, key_state: row.state };
    },
  );

  app.post(
    '/v1.0/:project_id/kms/create-datakey',
    {
      config: { action: 'kms:dek:create' },
      schema: schema('CreateDatakey', CreateDataKeyBody, CreateDataKeyResult),
    },
    async (request) => {
      const { key_spec, datakey_length, key_id, additional_authenticated_data } = request.body;
      // datakey_length wins over key_spec; with neither, 256 bits (the reference's default).
      const result = await keys.createDataKey(
        actorOf(request),
        key_id,
        {
          ...(key_spec !== undefined ? { spec: key_spec } : {}),
          ...(datakey_length !== undefined ? { bits: datakey_length } : {}),
        },
        additional_authenticated_data,
      );
      return {
        key_id: result.keyId,
        plain_text: result.plaintext.toString('hex'),
        cipher_text: result.ciphertext.toString('hex'),
      };
    },
  );

  app.post(
    '/v1.0/:project_id/kms/encrypt-datakey',
    {
      config: { action: 'kms:dek:encrypt' },
      schema: schema('EncryptDatakey', EncryptDataKeyBody, EncryptDataKeyResult),
    },
    async (request) => {
      const { key_id, plain_text, datakey_plain_length, additional_authenticated_data } = request.body;
      const result = await keys.encryptDataKey(
        actorOf(request),
        key_id,
        Buffer.from(plain_text, 'hex'),
        datakey_plain_length,
        additional_authenticated_data,
      );
      return {
        key_id: result.keyId,
        cipher_text: result.ciphertext.toString('hex'),
        datakey_length: String(datakey_plain_length),
      };
    },
  );

  app.post(
    '/v1.0/:project_id/kms/decrypt-datakey',
    {
      config: { action: 'kms:dek:decrypt' },
      schema: schema('DecryptDatakey', DecryptDataKeyBody, DecryptDataKeyResult),
    },
    async (request) => {
      const { key_id, cipher_text, datakey_cipher_length, additional_authenticated_data } = request.body;
      const length = datakey_cipher_length;
      const { plaintext, digest } = await keys.decryptDataKey(
        actorOf(request),
        key_id,
        Buffer.from(cipher_text, 'hex'),
        additional_authenticated_data,
      );
      if (plaintext.length !== length) {
        throw new ServiceError(
          Errors.INVALID_PARAMETER,
          `datakey_cipher_length is ${length}, but the data key has ${plaintext.length} bytes.`,
        );
      }
      return {
        data_key: plaintext.toString('hex'),
        datakey_length: String(length),
        datakey_dgst: digest.toString('hex'),
      };
    },
  );
};
