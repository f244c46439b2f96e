import { type Kysely, type Selectable, sql, type Transaction } from 'kysely'
import type {
  AuditEvent,
  BudgetRecord,
  GovernanceSnapshot,
  GovernanceStore,
  KeyRecord,
  LedgerEntry,
  LedgerQuery,
  ProjectRecord,
  ProviderKeyRecord,
  UsageQuery,
  UsageRow,
} from '../../governance/store.js'
import type { ApiKeysTable, BudgetsTable, Database, LedgerTable, ProjectsTable } from './schema.js'

/** Rows per INSERT: well under SQLite's limit of bound parameters, large enough to amortize a round trip. */
const BATCH = 200
const DAY_MS = 86_400_000

/**
 * The governance store over Kysely: the same queries for SQLite, Postgres and D1 (the adapter chooses the
 * dialect and makes sure integers come back as numbers). Call `migrate(db)` first.
 *
 * @example
 * const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new Sqlite(':memory:') }) })
 * await migrate(db)
 * const store = sqlGovernanceStore(db)
 */
export function sqlGovernanceStore(db: Kysely<Database>): GovernanceStore {
  /** An admin write: the change, its audit event and a version bump, all or nothing. */
  const write = <T>(audit: AuditEvent, change: (trx: Transaction<Database>) => Promise<T>) =>
    db.transaction().execute(async (trx) => {
      const result = await change(trx)
      await trx.insertInto('audit').values(auditRow(audit)).execute()
      await trx
        .updateTable('meridian_meta')
        .set((eb) => ({ value: eb('value', '+', 1) }))
        .where('key', '=', 'version')
        .execute()
      return result
    })

  return {
    async version() {
      const row = await db
        .selectFrom('meridian_meta')
        .select('value')
        .where('key', '=', 'version')
        .executeTakeFirst()
      return Number(row?.value ?? 0)
    },

    async snapshot(): Promise<GovernanceSnapshot> {
      // Read inside one transaction so the version matches the records (a write in between is seen next poll).
      return db.transaction().execute(async (trx) => {
        const version = await trx
          .selectFrom('meridian_meta')
          .select('value')
          .where('key', '=', 'version')
          .executeTakeFirst()
        const [projects, keys, providerKeys, budgets] = await Promise.all([
          trx.selectFrom('projects').selectAll().execute(),
          trx.selectFrom('api_keys').selectAll().execute(),
          trx.selectFrom('provider_keys').selectAll().execute(),
          trx.selectFrom('budgets').selectAll().execute(),
        ])
        return {
          version: Number(version?.value ?? 0),
          projects: projects.map(projectOf),
          keys: keys.map(keyOf),
          providerKeys: providerKeys.map(providerKeyOf),
          budgets: budgets.map(budgetOf),
        }
      })
    },

    async keyByHash(hash) {
      const row = await db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst()
      return row === undefined ? undefined : keyOf(row)
    },

    async getProject(id) {
      const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : projectOf(row)
    },

    async listProjects() {
      return (await db.selectFrom('projects').selectAll().orderBy('id').execute()).map(projectOf)
    },

    putProject(project, audit) {
      const row = {
        id: project.id,
        name: project.name,
        policy: JSON.stringify(project.policy),
        limits: project.limits === null ? null : JSON.stringify(project.limits),
        log_bodies: project.logBodies ? 1 : 0,
        source: project.source,
        created_at: project.createdAt,
        updated_at: project.updatedAt,
      }
      return write(audit, async (trx) => {
        await trx
          .insertInto('projects')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              name: row.name,
              policy: row.policy,
              limits: row.limits,
              log_bodies: row.log_bodies,
              source: row.source,
              updated_at: row.updated_at,
            }),
          )
          .execute()
      })
    },

    deleteProject(id, audit) {
      return write(audit, async (trx) => {
        const keyIds = (
          await trx.selectFrom('api_keys').select('id').where('project_id', '=', id).execute()
        ).map((k) => k.id)
        if (keyIds.length > 0) {
          await trx.deleteFrom('budgets').where('scope', '=', 'key').where('scope_id', 'in', keyIds).execute()
        }
        await trx.deleteFrom('budgets').where('scope', '=', 'project').where('scope_id', '=', id).execute()
        await trx.deleteFrom('api_keys').where('project_id', '=', id).execute()
        await trx.deleteFrom('provider_keys').where('project_id', '=', id).execute()
        const result = await trx.deleteFrom('projects').where('id', '=', id).executeTakeFirst()
        return Number(result.numDeletedRows) > 0
      })
    },

    async getKey(id) {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : keyOf(row)
    },

    async listKeys(projectId) {
      let query = db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id')
      if (projectId !== undefined) query = query.where('project_id', '=', projectId)
      return (await query.execute()).map(keyOf)
    },

    putKey(key, audit) {
      const row: ApiKeysTable = {
        id: key.id,
        project_id: key.projectId,
        name: key.name,
        prefix: key.prefix,
        hash: key.hash,
        models: key.models === null ? null : JSON.stringify(key.models),
        limits: key.limits === null ? null : JSON.stringify(key.limits),
        source: key.source,
        created_at: key.createdAt,
        expires_at: key.expiresAt,
        revoked_at: key.revokedAt,
      }
      return write(audit, async (trx) => {
        await trx
          .insertInto('api_keys')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              project_id: row.project_id,
              name: row.name,
              prefix: row.prefix,
              hash: row.hash,
              models: row.models,
              limits: row.limits,
              source: row.source,
              expires_at: row.expires_at,
              revoked_at: row.revoked_at,
            }),
          )
          .execute()
      })
    },

    async listProviderKeys(projectId) {
      const rows = await db
        .selectFrom('provider_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('provider')
        .execute()
      return rows.map(providerKeyOf)
    },

    putProviderKey(key, audit) {
      return write(audit, async (trx) => {
        await trx
          .deleteFrom('provider_keys')
          .where('project_id', '=', key.projectId)
          .where('provider', '=', key.provider)
          .execute()
        await trx
          .insertInto('provider_keys')
          .values({
            id: key.id,
            project_id: key.projectId,
            provider: key.provider,
            ciphertext: key.ciphertext,
            last4: key.last4,
            created_at: key.createdAt,
          })
          .execute()
      })
    },

    deleteProviderKey(projectId, provider, audit) {
      return write(audit, async (trx) => {
        const result = await trx
          .deleteFrom('provider_keys')
          .where('project_id', '=', projectId)
          .where('provider', '=', provider)
          .executeTakeFirst()
        return Number(result.numDeletedRows) > 0
      })
    },

    async getBudget(id) {
      const row = await db.selectFrom('budgets').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : budgetOf(row)
    },

    async listBudgets(scope) {
      let query = db.selectFrom('budgets').selectAll().orderBy('id')
      if (scope !== undefined) {
        query = query.where('scope', '=', scope.scope).where('scope_id', '=', scope.scopeId)
      }
      return (await query.execute()).map(budgetOf)
    },

    putBudget(budget, audit) {
      const row: BudgetsTable = {
        id: budget.id,
        scope: budget.scope,
        scope_id: budget.scopeId,
        period: budget.period,
        limit_nusd: budget.limit,
        warn_at: budget.warnAt,
        source: budget.source,
        created_at: budget.createdAt,
        updated_at: budget.updatedAt,
      }
      return write(audit, async (trx) => {
        await trx
          .insertInto('budgets')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              scope: row.scope,
              scope_id: row.scope_id,
              period: row.period,
              limit_nusd: row.limit_nusd,
              warn_at: row.warn_at,
              source: row.source,
              updated_at: row.updated_at,
            }),
          )
          .execute()
      })
    },

    deleteBudget(id, audit) {
      return write(audit, async (trx) => {
        const result = await trx.deleteFrom('budgets').where('id', '=', id).executeTakeFirst()
        return Number(result.numDeletedRows) > 0
      })
    },

    async writeLedger(entries) {
      if (entries.length === 0) return
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < entries.length; i += BATCH) {
          const slice = entries.slice(i, i + BATCH)
          await trx
            .insertInto('ledger')
            .values(slice.map(ledgerRow))
            .onConflict((oc) => oc.column('id').doNothing())
            .execute()
          const tags = slice.flatMap((e) =>
            e.tags === undefined
              ? []
              : Object.entries(e.tags).map(([key, value]) => ({ ledger_id: e.id, key, value })),
          )
          for (let j = 0; j < tags.length; j += BATCH) {
            await trx
              .insertInto('ledger_tags')
              .values(tags.slice(j, j + BATCH))
              .onConflict((oc) => oc.columns(['ledger_id', 'key']).doNothing())
              .execute()
          }
        }
      })
    },

    async writeAudit(events) {
      if (events.length === 0) return
      for (let i = 0; i < events.length; i += BATCH) {
        await db
          .insertInto('audit')
          .values(events.slice(i, i + BATCH).map(auditRow))
          .onConflict((oc) => oc.column('id').doNothing())
          .execute()
      }
    },

    async usage(query: UsageQuery): Promise<UsageRow[]> {
      const group =
        query.by === 'project'
          ? sql<string | number | null>`ledger.project`
          : query.by === 'key'
            ? sql<string | number | null>`ledger.key_id`
            : query.by === 'model'
              ? sql<string | number | null>`coalesce(ledger.model_served, ledger.model_requested)`
              : query.by === 'day'
                ? sql<string | number | null>`ledger.ts / ${sql.lit(DAY_MS)}`
                : sql<string | number | null>`t.value`
      let q = db
        .selectFrom('ledger')
        .leftJoin('ledger_tags as t', (join) =>
          join.onRef('t.ledger_id', '=', 'ledger.id').on('t.key', '=', query.tag ?? ''),
        )
        .select([
          group.as('grp'),
          sql<number>`sum(case when ledger.attempt = 0 then 1 else 0 end)`.as('requests'),
          sql<number>`coalesce(sum(ledger.tokens_in), 0)`.as('tokens_in'),
          sql<number>`coalesce(sum(ledger.tokens_out), 0)`.as('tokens_out'),
          sql<number>`coalesce(sum(ledger.cost_nusd), 0)`.as('cost_nusd'),
          sql<number>`coalesce(sum(ledger.saved_nusd), 0)`.as('saved_nusd'),
        ])
        .groupBy(sql`1`)
        .orderBy(sql`1 nulls first`)
      if (query.project !== undefined) q = q.where('ledger.project', '=', query.project)
      if (query.key !== undefined) q = q.where('ledger.key_id', '=', query.key)
      if (query.from !== undefined) q = q.where('ledger.ts', '>=', query.from)
      if (query.to !== undefined) q = q.where('ledger.ts', '<', query.to)
      const rows = await q.execute()
      return rows.map((r) => ({
        group:
          query.by === 'day'
            ? new Date(Number(r.grp) * DAY_MS).toISOString().slice(0, 10)
            : ((r.grp as string | null) ?? null),
        requests: Number(r.requests),
        tokens_in: Number(r.tokens_in),
        tokens_out: Number(r.tokens_out),
        cost_nusd: Number(r.cost_nusd),
        saved_nusd: Number(r.saved_nusd),
      }))
    },

    async auditLog(query) {
      let q = db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(query.limit)
      if (query.project !== undefined) q = q.where('project', '=', query.project)
      if (query.action !== undefined) q = q.where('action', '=', query.action)
      if (query.before !== undefined) q = q.where('ts', '<', query.before)
      return (await q.execute()).map((r) => ({
        id: r.id,
        ts: Number(r.ts),
        actor: r.actor,
        action: r.action,
        project: r.project,
        target: r.target,
        reason: r.reason,
        details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
      }))
    },

    async ledger(query: LedgerQuery) {
      let q = db.selectFrom('ledger').selectAll().orderBy('ts').orderBy('id').limit(query.limit)
      if (query.requestId !== undefined) q = q.where('request_id', '=', query.requestId)
      if (query.project !== undefined) q = q.where('project', '=', query.project)
      if (query.from !== undefined) q = q.where('ts', '>=', query.from)
      const rows = (await q.execute()).map(numericLedger)
      const tags = new Map<string, Record<string, string>>()
      for (let i = 0; i < rows.length; i += BATCH) {
        const ids = rows.slice(i, i + BATCH).map((r) => r.id)
        const found = await db.selectFrom('ledger_tags').selectAll().where('ledger_id', 'in', ids).execute()
        for (const t of found) {
          const into = tags.get(t.ledger_id) ?? {}
          into[t.key] = t.value
          tags.set(t.ledger_id, into)
        }
      }
      return rows.map((r) => ({ ...r, tags: tags.get(r.id) ?? {} }))
    },

    async spendSince(scope, scopeId, since) {
      const row = await db
        .selectFrom('ledger')
        .select(sql<number>`coalesce(sum(cost_nusd), 0)`.as('spent'))
        .where(scope === 'project' ? 'project' : 'key_id', '=', scopeId)
        .where('ts', '>=', since)
        .executeTakeFirst()
      return Number(row?.spent ?? 0)
    },

    async ping() {
      await sql`select 1`.execute(db)
    },

    close: () => db.destroy(),
  }
}

function projectOf(row: Selectable<ProjectsTable>): ProjectRecord {
  return {
    id: row.id,
    name: row.name,
    policy: JSON.parse(row.policy),
    limits: row.limits === null ? null : JSON.parse(row.limits),
    logBodies: row.log_bodies === 1,
    source: row.source as ProjectRecord['source'],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

function keyOf(row: Selectable<ApiKeysTable>): KeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    models: row.models === null ? null : JSON.parse(row.models),
    limits: row.limits === null ? null : JSON.parse(row.limits),
    source: row.source as KeyRecord['source'],
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  }
}

function providerKeyOf(row: Selectable<Database['provider_keys']>): ProviderKeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    provider: row.provider,
    ciphertext: row.ciphertext,
    last4: row.last4,
    createdAt: Number(row.created_at),
  }
}

function budgetOf(row: Selectable<BudgetsTable>): BudgetRecord {
  return {
    id: row.id,
    scope: row.scope as BudgetRecord['scope'],
    scopeId: row.scope_id,
    period: row.period as BudgetRecord['period'],
    limit: Number(row.limit_nusd),
    warnAt: Number(row.warn_at),
    source: row.source as BudgetRecord['source'],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

function auditRow(event: AuditEvent) {
  return {
    id: event.id,
    ts: event.ts,
    actor: event.actor,
    action: event.action,
    project: event.project,
    target: event.target,
    reason: event.reason,
    details: event.details === null ? null : JSON.stringify(event.details),
  }
}

function ledgerRow(entry: LedgerEntry): LedgerTable {
  const { tags: _tags, ...row } = entry
  return row
}

/** Postgres answers bigint sums and columns as strings unless parsed; the adapter parses, this makes sure. */
function numericLedger(row: Selectable<LedgerTable>): LedgerTable {
  return {
    ...row,
    ts: Number(row.ts),
    cost_nusd: row.cost_nusd === null ? null : Number(row.cost_nusd),
    saved_nusd: row.saved_nusd === null ? null : Number(row.saved_nusd),
    reference_nusd: row.reference_nusd === null ? null : Number(row.reference_nusd),
  }
}
