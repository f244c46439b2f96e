import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely'

/**
 * The governance schema's migrations, in order. Written with Kysely's schema builder only, so one list serves
 * SQLite, Postgres and D1; ids are made in code (no auto-increment, whose spelling differs by dialect). A
 * released migration is never edited: a change is a new entry.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_governance': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('projects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text')
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('limits', 'text')
        .addColumn('log_bodies', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('models', 'text')
        .addColumn('limits', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute()
      await db.schema.createIndex('api_keys_project').on('api_keys').column('project_id').execute()

      await db.schema
        .createTable('provider_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('last4', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('provider_keys_project_provider', ['project_id', 'provider'])
        .execute()

      await db.schema
        .createTable('budgets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('scope_id', 'text', (c) => c.notNull())
        .addColumn('period', 'text', (c) => c.notNull())
        .addColumn('limit_nusd', 'bigint', (c) => c.notNull())
        .addColumn('warn_at', 'real', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('budgets_scope').on('budgets').columns(['scope', 'scope_id']).execute()

      await db.schema
        .createTable('budget_usage')
        .addColumn('budget_id', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('spent_nusd', 'bigint', (c) => c.notNull())
        .addColumn('reserved_nusd', 'bigint', (c) => c.notNull())
        .addColumn('warned', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('budget_usage_pk', ['budget_id', 'period_start'])
        .execute()

      await db.schema
        .createTable('budget_reservations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('charges', 'text', (c) => c.notNull())
        .addColumn('amount_nusd', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('budget_reservations_created')
        .on('budget_reservations')
        .column('created_at')
        .execute()

      await db.schema
        .createTable('ledger')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text')
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('session', 'text')
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('model_requested', 'text')
        .addColumn('model_served', 'text')
        .addColumn('target', 'text')
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('stream', 'integer', (c) => c.notNull())
        .addColumn('cache', 'text')
        .addColumn('cache_layer', 'text')
        .addColumn('tokens_in', 'integer')
        .addColumn('tokens_out', 'integer')
        .addColumn('tokens_cached', 'integer')
        .addColumn('cost_nusd', 'bigint')
        .addColumn('saved_nusd', 'bigint')
        .addColumn('reference_nusd', 'bigint')
        .addColumn('estimated', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'real', (c) => c.notNull())
        .addColumn('upstream_ms', 'real', (c) => c.notNull())
        .addColumn('override', 'text')
        .addColumn('prompt', 'text')
        .addColumn('response', 'text')
        .execute()
      await db.schema.createIndex('ledger_project_ts').on('ledger').columns(['project', 'ts']).execute()
      await db.schema.createIndex('ledger_ts').on('ledger').column('ts').execute()
      await db.schema.createIndex('ledger_request').on('ledger').column('request_id').execute()
      await db.schema.createIndex('ledger_key_ts').on('ledger').columns(['key_id', 'ts']).execute()

      await db.schema
        .createTable('ledger_tags')
        .addColumn('ledger_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_tags_pk', ['ledger_id', 'key'])
        .execute()
      await db.schema.createIndex('ledger_tags_key').on('ledger_tags').columns(['key', 'value']).execute()

      await db.schema
        .createTable('audit')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('project', 'text')
        .addColumn('target', 'text')
        .addColumn('reason', 'text')
        .addColumn('details', 'text')
        .execute()
      await db.schema.createIndex('audit_project_ts').on('audit').columns(['project', 'ts']).execute()

      await db.schema
        .createTable('meridian_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute()
      await db
        .insertInto('meridian_meta' as never)
        .values({ key: 'version', value: 1 } as never)
        .execute()
    },
  },
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS }

/**
 * Brings the database up to the latest schema; throws with the failing migration's error. `schema` (Postgres)
 * is where the migration bookkeeping lives: Kysely looks for its tables in every schema otherwise, and would
 * take another schema's for Meridian's.
 */
export async function migrate(db: Kysely<unknown>, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(`database migration ${failed ?? ''} failed: ${message}`)
  }
}
