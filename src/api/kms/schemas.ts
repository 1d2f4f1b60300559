/** TypeBox schemas of the KMS subset. Official clients send numbers as strings; both are accepted (IntegerLike). */
import { type Static, Type } from '@sinclair/typebox';
import { DATA_KEY_SPECS, KeyState, MAX_PENDING_DAYS, MIN_PENDING_DAYS } from '../../domain/keys.js';
import { IntegerLike, Uuid } from '../common-schemas.js';

const Sequence = Type.Optional(Type.String({ maxLength: 36 }));
const Aad = Type.Optional(Type.String({ maxLength: 128 }));
const Hex = (maxLength: number) => Type.String({ pattern: '^([0-9a-fA-F]{2})+$', maxLength });

export const CreateKeyBody = Type.Object({
  key_alias: Type.String({ minLength: 1, maxLength: 255 }),
  key_spec: Type.Optional(Type.String({ maxLength: 64 })),
  key_usage: Type.Optional(Type.Union([Type.Literal('ENCRYPT_DECRYPT')])),
  key_description: Type.Optional(Type.String({ maxLength: 255 })),
  origin: Type.Optional(Type.Literal('kms')),
  enterprise_project_id: Type.Optional(Type.String({ maxLength: 64 })),
  sequence: Sequence,
});
export type CreateKeyBody = Static<typeof CreateKeyBody>;
export const KeyIdBody = Type.Object({ key_id: Uuid, sequence: Sequence });
export type KeyIdBody = Static<typeof KeyIdBody>;
export const ScheduleDeletionBody = Type.Object({
  key_id: Uuid,
  pending_days: IntegerLike(MIN_PENDING_DAYS, MAX_PENDING_DAYS),
  sequence: Sequence,
});
export type ScheduleDeletionBody = Static<typeof ScheduleDeletionBody>;
export const ListKeysBody = Type.Object({
  limit: Type.Optional(IntegerLike(1, 1000)),
  marker: Type.Optional(Type.String({ maxLength: 64 })),
  key_state: Type.Optional(Type.Union(Object.values(KeyState).map((s) => Type.Literal(s)))),
  key_spec: Type.Optional(Type.String({ maxLength: 64 })),
  enterprise_project_id: Type.Optional(Type.String({ maxLength: 64 })),
  sequence: Sequence,
});
export type ListKeysBody = Static<typeof ListKeysBody>;
export const CreateDataKeyBody = Type.Object({
  key_id: Uuid,
  key_spec: Type.Optional(
    Type.Union(
      DATA_KEY_SPECS.map((spec) => Type.Literal(spec)),
      {
        description:
          'AES_256 and AES_128 apply to AES_256 master keys, SM4 to SM4 master keys; HMAC_* need HMAC keys (not offered).',
      },
    ),
  ),
  // In bits; wins over key_spec.
  datakey_length: Type.Optional(IntegerLike(8, 8192, { step: 8 })),
  additional_authenticated_data: Aad,
  sequence: Sequence,
});
export type CreateDataKeyBody = Static<typeof CreateDataKeyBody>;
export const EncryptDataKeyBody = Type.Object({
  key_id: Uuid,
  plain_text: Type.String({
    pattern: '^([0-9a-fA-F]{2})+$',
    maxLength: 2 * (1024 + 32),
    description:
      'Hex of the data key followed by its 32-byte digest: SHA-256 of the data key under an AES_256 master key, SM3 under an SM4 master key.',
  }),
  datakey_plain_length: IntegerLike(1, 1024),
  additional_authenticated_data: Aad,
  sequence: Sequence,
});
export type EncryptDataKeyBody = Static<typeof EncryptDataKeyBody>;
export const DecryptDataKeyBody = Type.Object({
  key_id: Uuid,
  cipher_text: Hex(8192),
  datakey_cipher_length: IntegerLike(1, 1024),
  additional_authenticated_data: Aad,
  sequence: Sequence,
});
export type DecryptDataKeyBody = Static<typeof DecryptDataKeyBody>;

export const KeyDetails = Type.Object({
  key_id: Type.String(),
  domain_id: Type.String(),
  key_alias: Type.String(),
  realm: Type.String(),
  key_spec: Type.String(),
  key_usage: Type.String(),
  key_description: Type.String(),
  creation_date: Type.String(),
  scheduled_deletion_date: Type.String(),
  key_state: Type.String(),
  default_key_flag: Type.String(),
  key_type: Type.String(),
  expiration_time: Type.String(),
  origin: Type.String(),
  key_rotation_enabled: Type.String(),
  sys_enterprise_project_id: Type.String(),
  keystore_id: Type.String(),
});
export type KeyDetails = Static<typeof KeyDetails>;
export const KeyInfoBody = Type.Object({ key_info: KeyDetails });
export type KeyInfoBody = Static<typeof KeyInfoBody>;
export const CreateKeyResult = Type.Object({
  key_info: Type.Object({ key_id: Type.String(), domain_id: Type.String(), region_id: Type.String() }),
});
export type CreateKeyResult = Static<typeof CreateKeyResult>;
export const KeyStateResult = Type.Object({
  key_info: Type.Object({ key_id: Type.String(), key_state: Type.String() }),
});
export type KeyStateResult = Static<typeof KeyStateResult>;
export const DeletionResult = Type.Object({ key_id: Type.String(), key_state: Type.String() });
export type DeletionResult = Static<typeof DeletionResult>;
export const ListKeysResult = Type.Object({
  keys: Type.Array(Type.String()),
  key_details: Type.Array(KeyDetails),
  next_marker: Type.String(),
  truncated: Type.String(),
  total: Type.Integer(),
});
export type ListKeysResult = Static<typeof ListKeysResult>;
export const CreateDataKeyResult = Type.Object({
  key_id: Type.String(),
  plain_text: Type.String(),
  cipher_text: Type.String(),
});
export type CreateDataKeyResult = Static<typeof CreateDataKeyResult>;
export const EncryptDataKeyResult = Type.Object({
  key_id: Type.String(),
  cipher_text: Type.String(),
  datakey_length: Type.String(),
});
export type EncryptDataKeyResult = Static<typeof EncryptDataKeyResult>;
export const DecryptDataKeyResult = Type.Object({
  data_key: Type.String(),
  datakey_length: Type.String(),
  datakey_dgst: Type.String(),
});
export type DecryptDataKeyResult = Static<typeof DecryptDataKeyResult>;
