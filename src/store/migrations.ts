/**
 * Ordered migrations shared by both dialects. Only portable column types are used (text, integer,
 * bigint); where a dialect must differ the migration asks `dialectOf(db)`. Never edit a published
 * migration: add the next one.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Schema } from './schema.js';
import type { Dialect } from './types.js';

export function buildMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('clusters')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('datastore_version', 'text', (c) => c.notNull())
          .addColumn('guest_agent_version', 'text', (c) => c.notNull())
          .addColumn('spec_json', 'text', (c) => c.notNull())
          .addColumn('db_password_sealed', 'text')
          .addColumn('encryption_state', 'text', (c) => c.notNull())
          .addColumn('encrypt_id', 'text')
          .addColumn('master_key_id', 'text')
          .addColumn('master_key_name', 'text')
          .addColumn('crypt_algorithm', 'text')
          .addColumn('dek_wrapped', 'text')
          .addColumn('dek_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_rotate_key_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('clusters_project_name')
          .unique()
          .on('clusters')
          .columns(['project_id', 'name'])
          .execute();

        await db.schema
          .createTable('kms_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('domain_id', 'text', (c) => c.notNull())
          .addColumn('alias', 'text', (c) => c.notNull())
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('usage', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('origin', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('material_sealed', 'text', (c) => c.notNull())
          .addColumn('scheduled_deletion_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('kms_keys_project_alias')
          .unique()
          .on('kms_keys')
          .columns(['project_id', 'alias'])
          .execute();

        await db.schema
          .createTable('jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('cluster_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('progress', 'integer', (c) => c.notNull())
          .addColumn('payload_json', 'text', (c) => c.notNull())
          .addColumn('failed_code', 'text')
          .addColumn('failed_detail', 'text')
          .addColumn('begin_at', 'bigint', (c) => c.notNull())
          .addColumn('end_at', 'bigint')
          .addColumn('due_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_expires_at', 'bigint')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('jobs_status')
          .on('jobs')
          .columns(['status', 'lease_expires_at'])
          .execute();

        await db.schema
          .createTable('audit_events')
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('request_id', 'text')
          .addColumn('domain_id', 'text')
          .addColumn('project_id', 'text')
          .addColumn('user_name', 'text')
          .addColumn('access_key', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('resource_type', 'text', (c) => c.notNull())
          .addColumn('resource_id', 'text')
          .addColumn('result', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .execute();
        await db.schema
          .createIndex('audit_events_project')
          .on('audit_events')
          .columns(['project_id', 'id'])
          .execute();

        await db.schema
          .createTable('cluster_data_keys')
          .addColumn('cluster_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('master_key_id', 'text', (c) => c.notNull())
          .addColumn('wrapped', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('cluster_data_keys_pk', ['cluster_id', 'version'])
          .execute();

        await db.schema
          .createTable('credentials')
          .addColumn('access_key', 'text', (c) => c.primaryKey())
          .addColumn('secret_sealed', 'text', (c) => c.notNull())
          .addColumn('domain_id', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0002_tokens': {
      async up(db: Kysely<unknown>) {
        // IAM tokens: only the SHA-256 of a token is stored; the user is resolved from the identities
        // file on every use, so a removed user's tokens stop working at the next start.
        await db.schema
          .createTable('tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('domain_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('issued_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('tokens_expires_at').on('tokens').column('expires_at').execute();
      },
    },
    '0003_jobs_master_key': {
      async up(db: Kysely<unknown>) {
        // The master key a job will use, as a column: the key-deletion guard is an indexed equality
        // instead of a search through payload JSON. Jobs stored before carry it in their payload.
        await db.schema.alterTable('jobs').addColumn('master_key_id', 'text').execute();
        const fromPayload =
          dialect === 'postgres'
            ? sql`(payload_json::json ->> 'masterKeyId')`
            : sql`json_extract(payload_json, '$.masterKeyId')`;
        await sql`UPDATE jobs SET master_key_id = ${fromPayload} WHERE name = 'encryptCluster'`.execute(db);
        await db.schema
          .createIndex('jobs_master_key')
          .on('jobs')
          .columns(['master_key_id', 'status'])
          .execute();
      },
    },
    '0004_audit_caller_request_id': {
      async up(db: Kysely<unknown>) {
        // request_id is the server's own id; the caller's X-Request-Id (unsigned) is kept apart.
        await db.schema.alterTable('audit_events').addColumn('caller_request_id', 'text').execute();
      },
    },
    '0005_client_tokens': {
      async up(db: Kysely<unknown>) {
        // X-Client-Token idempotency: the first answer to a (project, token), kept 24 h, shared by every
        // instance on the store and kept across restarts. status NULL: the first request is still running.
        await db.schema
          .createTable('client_tokens')
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('token', 'text', (c) => c.notNull())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('status', 'integer')
          .addColumn('response', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('client_tokens_pk', ['project_id', 'token'])
          .execute();
        await db.schema
          .createIndex('client_tokens_created_at')
          .on('client_tokens')
          .column('created_at')
          .execute();
      },
    },
    '0006_iam_credential_versions': {
      async up(db: Kysely<unknown>) {
        // Each declared user's credential version: bumped when its password or access keys change, or
        // when it is declared again after having been removed. A token carries the version it was issued
        // under and dies with it.
        await db.schema
          .createTable('iam_users')
          .addColumn('user_id', 'text', (c) => c.primaryKey())
          .addColumn('domain_id', 'text', (c) => c.notNull())
          .addColumn('credential_fingerprint', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('removed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // Tokens issued before have none: they are refused (their credential state is unknown).
        await db.schema.alterTable('tokens').addColumn('credential_version', 'integer').execute();
      },
    },
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return buildMigrations(this.dialect);
  }
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Schema>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(
      `migration ${failed?.migrationName ?? '(unknown)'} failed: ${String((error as Error).message ?? error)}`,
    );
  }
}

/** True when every known migration has been applied (used by readiness probes). */
export async function migrationsApplied(db: Kysely<Schema>, dialect: Dialect): Promise<boolean> {
  const migrator = new Migrator({ db, provider: new StaticProvider(dialect) });
  const all = await migrator.getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}
