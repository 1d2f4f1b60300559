/** The KMS wire surface: `POST /v1.0/{project_id}/kms/<action>`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type {
  ContextConfigDefault,
  FastifySchema,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteHandlerMethod,
} from 'fastify';
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

/** A KMS operation: `POST /v1.0/{project_id}/kms/<path>`, its permission, its body and its 200 answer. */
interface KmsOperation<Body extends TSchema, Result extends TSchema> {
  path: string;
  operationId: string;
  action: string;
  body: Body;
  result: Result;
  /** Honours X-Client-Token (src/api/idempotency.ts). */
  idempotent?: true;
}

const operation = <Body extends TSchema, Result extends TSchema>(
  path: string,
  operationId: string,
  action: string,
  body: Body,
  result: Result,
  options: { idempotent?: true } = {},
): KmsOperation<Body, Result> => ({ path, operationId, action, body, result, ...options });

/** The KMS surface, in the order the routes are registered. */
const OPERATIONS = {
  createKey: operation('create-key', 'CreateKey', 'kms:cmk:create', CreateKeyBody, CreateKeyResult, {
    idempotent: true,
  }),
  describeKey: operation('describe-key', 'DescribeKey', 'kms:cmk:get', KeyIdBody, KeyInfoBody),
  listKeys: operation('list-keys', 'ListKeys', 'kms:cmk:list', ListKeysBody, ListKeysResult),
  enableKey: operation('enable-key', 'EnableKey', 'kms:cmk:enable', KeyIdBody, KeyStateResult),
  disableKey: operation('disable-key', 'DisableKey', 'kms:cmk:disable', KeyIdBody, KeyStateResult),
  scheduleDeletion: operation(
    'schedule-key-deletion',
    'DeleteKey',
    'kms:cmk:scheduleDeletion',
    ScheduleDeletionBody,
    DeletionResult,
  ),
  cancelDeletion: operation(
    'cancel-key-deletion',
    'CancelKeyDeletion',
    'kms:cmk:cancelDeletion',
    KeyIdBody,
    DeletionResult,
  ),
  createDataKey: operation(
    'create-datakey',
    'CreateDatakey',
    'kms:dek:create',
    CreateDataKeyBody,
    CreateDataKeyResult,
  ),
  encryptDataKey: operation(
    'encrypt-datakey',
    'EncryptDatakey',
    'kms:dek:encrypt',
    EncryptDataKeyBody,
    EncryptDataKeyResult,
  ),
  decryptDataKey: operation(
    'decrypt-datakey',
    'DecryptDatakey',
    'kms:dek:decrypt',
    DecryptDataKeyBody,
    DecryptDataKeyResult,
  ),
};

interface KmsRoute<Body extends TSchema, Result extends TSchema> {
  Params: Static<typeof ProjectParams>;
  Body: Static<Body>;
  Reply: Static<Result>;
}

export const kmsRoutes: FastifyPluginAsyncTypebox<KmsRoutesOptions> = async (app, { keys, region }) => {
  declareSurface(app, 'KMS', ['/v1.0/:project_id/kms/*']);
  const post = <Body extends TSchema, Result extends TSchema>(
    { path, operationId, action, body, result, idempotent }: KmsOperation<Body, Result>,
    handler: RouteHandlerMethod<
      RawServerDefault,
      RawRequestDefaultExpression,
      RawReplyDefaultExpression,
      KmsRoute<Body, Result>,
      ContextConfigDefault,
      FastifySchema,
      FastifyTypeProviderDefault
    >,
  ) =>
    // The request and answer types come from the operation's schemas (the route generic), not inferred.
    app.withTypeProvider<FastifyTypeProviderDefault>().post<KmsRoute<Body, Result>>(
      `/v1.0/:project_id/kms/${path}`,
      {
        config: idempotent ? { action, idempotent } : { action },
        schema: {
          operationId,
          tags: ['kms'],
          params: ProjectParams,
          body,
          response: { 200: result, ...errorResponses() },
        },
      },
      handler,
    );

  post(OPERATIONS.createKey, async (request) => {
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
  });

  post(OPERATIONS.describeKey, async (request) => ({
    key_info: keyDetailsView(await keys.describeKey(actorOf(request), request.body.key_id)),
  }));

  post(OPERATIONS.listKeys, async (request) => {
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
  });

  // The key-state changes: enable and disable answer the key's new state inside key_info.
  for (const [stateOperation, change] of [
    [OPERATIONS.enableKey, 'enable'],
    [OPERATIONS.disableKey, 'disable'],
  ] as const) {
    post(stateOperation, async (request) => {
      const row = await keys.changeKeyState(actorOf(request), request.body.key_id, change);
      return { key_info: { key_id: row.id, key_state: row.state } };
    });
  }

  post(OPERATIONS.scheduleDeletion, async (request) => {
    const { key_id, pending_days } = request.body;
    const row = await keys.changeKeyState(actorOf(request), key_id, 'scheduleDeletion', pending_days);
    return { key_id: row.id, key_state: row.state };
  });

  post(OPERATIONS.cancelDeletion, async (request) => {
    const row = await keys.changeKeyState(actorOf(request), request.body.key_id, 'cancelDeletion');
    return { key_id: row.id, key_state: row.state };
  });

  post(OPERATIONS.createDataKey, async (request) => {
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
  });

  post(OPERATIONS.encryptDataKey, async (request) => {
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
  });

  post(OPERATIONS.decryptDataKey, async (request) => {
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
  });
};
