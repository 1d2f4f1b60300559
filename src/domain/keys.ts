import { KEY_SPECS, type KeySpec } from '../crypto/key-specs.js';
import { Errors, ServiceError } from './errors.js';

export { KEY_SPECS, type KeySpec };

export function isKeySpec(value: string): value is KeySpec {
  return (KEY_SPECS as readonly string[]).includes(value);
}

/** KMS key_state values of the contract. */
export const KeyState = {
  PENDING_ACTIVATION: '1',
  ENABLED: '2',
  DISABLED: '3',
  PENDING_DELETION: '4',
  PENDING_IMPORT: '5',
} as const;
export type KeyState = (typeof KeyState)[keyof typeof KeyState];

/** The `key_spec` values of the official create-datakey model (CreateDatakeyRequestBody). */
export const DATA_KEY_SPECS = [
  'AES_256',
  'AES_128',
  'SM4',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'HMAC_SM3',
] as const;
export type DataKeySpec = (typeof DATA_KEY_SPECS)[number];

/** The data-key specs each master key spec serves, with their length in bits. HMAC specs need HMAC keys. */
const DATA_KEY_BITS: Readonly<Record<KeySpec, Readonly<Partial<Record<DataKeySpec, number>>>>> = {
  AES_256: { AES_256: 256, AES_128: 128 },
  SM4: { SM4: 128 },
};

/** The reference's default when neither key_spec nor datakey_length is given. */
export const DEFAULT_DATA_KEY_BITS = 256;

/**
 * Length in bits of a data key to create under a `master` key: `datakeyBits` wins when given (the
 * caller checked its range), else the spec's length, else 256 bits. A spec that does not apply to the
 * master key is refused naming those that do.
 */
export function dataKeyBits(master: KeySpec, spec?: DataKeySpec, datakeyBits?: number): number {
  if (datakeyBits !== undefined) return datakeyBits;
  if (spec === undefined) return DEFAULT_DATA_KEY_BITS;
  const bits = DATA_KEY_BITS[master][spec];
  if (bits === undefined) {
    const allowed = Object.keys(DATA_KEY_BITS[master]).join(', ');
    throw new ServiceError(
      Errors.KEY_SPEC_UNSUPPORTED,
      `key_spec ${spec} does not apply to a ${master} master key; use one of: ${allowed} (or datakey_length).`,
    );
  }
  return bits;
}

export const KEY_ALIAS_PATTERN = /^[a-zA-Z0-9:/_-]{1,255}$/;
export const MIN_PENDING_DAYS = 7;
export const MAX_PENDING_DAYS = 1096;

export type KeyAction = 'enable' | 'disable' | 'scheduleDeletion' | 'cancelDeletion' | 'wrap' | 'unwrap';

/**
 * Which state each key operation needs and the state it leaves. Enabling an enabled key and disabling a
 * disabled one are idempotent (answered as success, no change). Only enabled keys do cryptography.
 */
const ALLOWED: Readonly<Record<KeyAction, readonly KeyState[]>> = {
  enable: [KeyState.ENABLED, KeyState.DISABLED],
  disable: [KeyState.ENABLED, KeyState.DISABLED],
  scheduleDeletion: [KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_DELETION],
  cancelDeletion: [KeyState.PENDING_DELETION],
  wrap: [KeyState.ENABLED],
  unwrap: [KeyState.ENABLED],
};

const NEXT: Readonly<Partial<Record<KeyAction, KeyState>>> = {
  enable: KeyState.ENABLED,
  disable: KeyState.DISABLED,
  scheduleDeletion: KeyState.PENDING_DELETION,
  // Cancelling a deletion leaves the key disabled, so that its owner re-enables it on purpose.
  cancelDeletion: KeyState.DISABLED,
};

/** Returns the state after `action`, or throws the specific refusal. */
export function keyTransition(state: KeyState, action: KeyAction): KeyState {
  if (!ALLOWED[action].includes(state)) {
    if (state === KeyState.DISABLED) throw new ServiceError(Errors.KEY_DISABLED);
    if (state === KeyState.PENDING_DELETION) throw new ServiceError(Errors.KEY_PENDING_DELETION);
    throw new ServiceError(Errors.KEY_STATE_CONFLICT, `The key state ${state} does not allow ${action}.`);
  }
  return NEXT[action] ?? state;
}

export function isValidAlias(alias: string): boolean {
  return KEY_ALIAS_PATTERN.test(alias) && !alias.endsWith('/default');
}
