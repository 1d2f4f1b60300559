/**
 * The emulator's whole-store operations (POST /_dws/reset, GET/POST /_dws/state): every table of the
 * store is state, except those listed in KEPT_TABLES. The list of state tables is read from the
 * database itself, so a table added by a later migration is reset, exported and imported without a
 * change here; a table that must survive a reset has to be named in KEPT_TABLES.
 *
 * Rows are exported as they are stored: key material, database passwords and data keys are already
 * sealed or wrapped (under the root key or a master key), so a snapshot never holds a plaintext secret.
 */
import { sql } from 'kysely';
import type { Database, Db } from './database.js';

/**
 * Tables that are not emulator state: the bootstrap credential (identities of the identities file live
 * in memory, never in the store) and the migration bookkeeping.
 */
export const KEPT_TABLES: ReadonlySet<string> = new Set([
  'credentials',
  // Credential versions of the identities file's users (derived from the file, like the users themselves).
  'iam_users',
  'kysely_migration',
  'kysely_migration_lock',
]);

export type TableRows = Record<string, Record<string, unknown>[]>;

interface TableInfo {
  name: string;
  columns: string[];
  /** PostgreSQL: the sequence behind a serial column, to move past imported ids. */
  serial?: { column: string };
}

/** The state tables of the store, in a stable order (by name), with their columns. */
export async function stateTables(database: Database): Promise<TableInfo[]> {
  const db = database.db as unknown as Db;
  if (database.dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(
      db,
    );
    const out: TableInfo[] = [];
    for (const { name } of tables.rows) {
      if (KEPT_TABLES.has(name)) continue;
      const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${name})`.execute(db);
      out.push({ name, columns: columns.rows.map((c) => c.name) });
    }
    return out;
  }
  const columns = await sql<{ table_name: string; column_name: string; column_default: string | null }>`
    SELECT c.table_name, c.column_name, c.column_default
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.ordinal_position`.execute(db);
  const byName = new Map<string, TableInfo>();
  for (const row of columns.rows) {
    if (KEPT_TABLES.has(row.table_name)) continue;
    let info = byName.get(row.table_name);
    if (!info) {
      info = { name: row.table_name, columns: [] };
      byName.set(row.table_name, info);
    }
    info.columns.push(row.column_name);
    if (row.column_default?.startsWith('nextval(')) info.serial = { column: row.column_name };
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Deletes every row of every state table, or only the rows of one project (tables with a project_id). */
export async function clearState(trx: Db, tables: readonly TableInfo[], projectId?: string): Promise<void> {
  for (const table of tables) {
    if (projectId === undefined) {
      await sql`DELETE FROM ${sql.table(table.name)}`.execute(trx);
    } else if (table.columns.includes('project_id')) {
      await sql`DELETE FROM ${sql.table(table.name)} WHERE project_id = ${projectId}`.execute(trx);
    }
  }
}

/** Every row of every state table, ordered by the first column (the primary key in every table here). */
export async function readState(trx: Db, tables: readonly TableInfo[]): Promise<TableRows> {
  const out: TableRows = {};
  for (const table of tables) {
    const first = table.columns[0]!;
    const result = await sql<Record<string, unknown>>`
      SELECT * FROM ${sql.table(table.name)} ORDER BY ${sql.ref(first)}`.execute(trx);
    out[table.name] = result.rows;
  }
  return out;
}

/**
 * Inserts `rows` into the (cleared) state tables. Every table and column must exist here: a snapshot of
 * another schema is refused by the caller before this runs. On PostgreSQL serial columns move past the
 * imported ids.
 */
export async function writeState(
  trx: Db,
  dialect: Database['dialect'],
  tables: readonly TableInfo[],
  rows: TableRows,
): Promise<void> {
  for (const table of tables) {
    const list = rows[table.name] ?? [];
    for (const row of list) {
      const columns = Object.keys(row);
      await sql`INSERT INTO ${sql.table(table.name)} (${sql.join(columns.map((c) => sql.ref(c)))})
        VALUES (${sql.join(columns.map((c) => row[c]))})`.execute(trx);
    }
    if (dialect === 'postgres' && table.serial && list.length > 0) {
      const column = table.serial.column;
      await sql`SELECT setval(pg_get_serial_sequence(${table.name}, ${column}),
        (SELECT max(${sql.ref(column)}) FROM ${sql.table(table.name)}))`.execute(trx);
    }
  }
}
