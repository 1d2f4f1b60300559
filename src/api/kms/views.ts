/** Rows to wire bodies of the KMS surface (the official API reports every field as a string). */
import type { KmsKeyRow } from '../../store/schema.js';
import type { KeyDetails } from './schemas.js';

export const KMS_REALM = 'dws-encryption';

export function keyDetailsView(row: KmsKeyRow): KeyDetails {
  return {
    key_id: row.id,
    domain_id: row.domain_id,
    key_alias: row.alias,
    realm: KMS_REALM,
    key_spec: row.spec,
    key_usage: row.usage,
    key_description: row.description,
    creation_date: String(row.created_at),
    scheduled_deletion_date: row.scheduled_deletion_at === null ? '' : String(row.scheduled_deletion_at),
    key_state: row.state,
    default_key_flag: '0',
    key_type: '1',
    expiration_time: '',
    origin: row.origin,
    key_rotation_enabled: 'false',
    sys_enterprise_project_id: '0', // the default enterprise project
    keystore_id: '0', // the default key store
  };
}
