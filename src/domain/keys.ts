import { KEY_SPECS, type KeySpec } from '../crypto/backends.js';
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
