/** KMS key queries. Every query is scoped to a project. */

import { type KeySpec, KeyState } from '../domain/keys.js';
import type { Db } from './database.js';
import type { KmsKeyRow, KmsKeyTable } from './schema.js';

export async function insertKey(db: Db, row: KmsKeyTable): Promise<void> {
  await db.insertInto('kms_keys').values(row).execute();
}

export async function findKey(db: Db, projectId: string, keyId: string): Promise<KmsKeyRow | undefined> {
  return db
    .selectFrom('kms_keys')
    .selectAll()
    .where('id', '=', keyId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

export async function findKeyByAlias(
  db: Db,
  projectId: string,
  alias: string,
): Promise<KmsKeyRow | undefined> {
  return db
    .selectFrom('kms_keys')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('alias', '=', alias)
    .executeTakeFirst();
}

export interface KeyListFilter {
  limit: number;
  /** The id of the last key of the previous page. */
  marker?: string;
  state?: KeyState;
  spec?: KeySpec;
}

/** A page of keys ordered by id; fetches one extra row to tell whether the list is truncated. */
export async function listKeys(
  db: Db,
  projectId: string,
  filter: KeyListFilter,
): Promise<{ rows: KmsKeyRow[]; total: number }> {
  let query = db.selectFrom('kms_keys').where('project_id', '=', projectId);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.spec) query = query.where('spec', '=', filter.spec);
  const totalRow = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  let page = query
    .selectAll()
    .orderBy('id')
    .limit(filter.limit + 1);
  if (filter.marker) page = page.where('id', '>', filter.marker);
  return { rows: await page.execute(), total: Number(totalRow?.n ?? 0) };
}

export async function updateKeyState(
  db: Db,
  projectId: string,
  keyId: string,
  changes: Pick<KmsKeyTable, 'state' | 'scheduled_deletion_at' | 'updated_at'>,
): Promise<void> {
  await db
    .updateTable('kms_keys')
    .set(changes)
    .where('id', '=', keyId)
    .where('project_id', '=', projectId)
    .execute();
}

/** Keys of the project that count against its quota: every state but pending deletion. */
export async function countQuotaKeys(db: Db, projectId: string): Promise<number> {
  const row = await db
    .selectFrom('kms_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .where('state', '!=', KeyState.PENDING_DELETION)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
