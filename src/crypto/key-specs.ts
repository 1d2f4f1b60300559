/** Master-key specs: the one list of the tree (KMS key_spec, the domain rules, the store column). No imports, so the console may use it. */
export const KEY_SPECS = ['AES_256', 'SM4'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];
