import { z } from 'zod'
import { GatewayError } from '../../core/errors.js'
import { chargeOf, PERIODS } from '../../governance/budgets.js'
import { auditEvent, type Governance } from '../../governance/governance.js'
import { newId } from '../../governance/keys.js'
import { toNanos } from '../../governance/money.js'
import type { BudgetRecord } from '../../governance/store.js'
import { adminRoute } from './route.js'
import { budgetOut, budgetSchema, id, idParams } from './schemas.js'

async function budgetOr404(gov: Governance, budgetId: string): Promise<BudgetRecord> {
  const budget = await gov.store.getBudget(budgetId)
  if (budget === undefined)
    throw new GatewayError('MERIDIAN_NOT_FOUND', `budget "${budgetId}" does not exist`)
  return budget
}

/** Budgets as the API shows them: with what their current period has spent and holds. */
async function withUsage(gov: Governance, budgets: BudgetRecord[]) {
  const now = gov.clock.epoch()
  const charges = budgets.map((b) => chargeOf(b, now))
  const usage = await gov.budgets.usage(charges)
  return budgets.map((b, i) =>
    budgetOut(b, { ...usage[i]!, start: charges[i]!.period, ends: charges[i]!.ends }),
  )
}

async function scopeExists(gov: Governance, scope: 'project' | 'key', scopeId: string): Promise<void> {
  const found = scope === 'project' ? await gov.store.getProject(scopeId) : await gov.store.getKey(scopeId)
  if (found === undefined)
    throw new GatewayError('MERIDIAN_NOT_FOUND', `${scope} "${scopeId}" does not exist`, {
      param: 'scope_id',
    })
}

const usd = z.number().positive().max(1e6).describe('USD per period.')
const warnAt = z
  .number()
  .gt(0)
  .max(1)
  .describe('Share of the limit that triggers the warning header and audit event.')

export const budgetRoutes = [
  adminRoute({
    method: 'get',
    path: '/admin/budgets',
    summary: 'List budgets with their current spend',
    tag: 'budgets',
    query: z.object({ scope: z.enum(['project', 'key']).optional(), scope_id: id.optional() }),
    response: { status: 200, schema: z.object({ data: z.array(budgetSchema) }), description: 'Budgets' },
    async handle({ gov, query }) {
      let budgets = await gov.store.listBudgets()
      if (query.scope !== undefined) budgets = budgets.filter((b) => b.scope === query.scope)
      if (query.scope_id !== undefined) budgets = budgets.filter((b) => b.scopeId === query.scope_id)
      return { json: { data: await withUsage(gov, budgets) } }
    },
  }),

  adminRoute({
    method: 'post',
    path: '/admin/budgets',
    summary: 'Create a budget for a project or a key',
    tag: 'budgets',
    body: z.object({
      id: id.optional().describe('Default: a new id.'),
      scope: z.enum(['project', 'key']),
      scope_id: id,
      period: z.enum(PERIODS).default('month'),
      usd,
      warn_at: warnAt.default(0.8),
    }),
    response: { status: 201, schema: budgetSchema, description: 'The budget' },
    async handle({ gov, body, actor }) {
      await scopeExists(gov, body.scope, body.scope_id)
      const budgetId = body.id ?? newId('bud')
      if ((await gov.store.getBudget(budgetId)) !== undefined) {
        throw new GatewayError('MERIDIAN_CONFLICT', `budget "${budgetId}" exists already`, { param: 'id' })
      }
      const now = gov.clock.epoch()
      const record: BudgetRecord = {
        id: budgetId,
        scope: body.scope,
        scopeId: body.scope_id,
        period: body.period,
        limit: toNanos(body.usd),
        warnAt: body.warn_at,
        source: 'admin',
        createdAt: now,
        updatedAt: now,
      }
      const project = body.scope === 'project' ? body.scope_id : null
      await gov.store.putBudget(
        record,
        auditEvent(
          {
            actor,
            action: 'budget.create',
            project,
            target: budgetId,
            reason: null,
            details: { usd: body.usd, period: body.period },
          },
          now,
        ),
      )
      await gov.reload()
      return { status: 201, json: (await withUsage(gov, [record]))[0] }
    },
  }),

  adminRoute({
    method: 'get',
    path: '/admin/budgets/{id}',
    summary: 'Get a budget with its current spend',
    tag: 'budgets',
    params: idParams,
    response: { status: 200, schema: budgetSchema, description: 'The budget' },
    async handle({ gov, params }) {
      return { json: (await withUsage(gov, [await budgetOr404(gov, params.id)]))[0] }
    },
  }),

  adminRoute({
    method: 'patch',
    path: '/admin/budgets/{id}',
    summary: "Change a budget's limit, warning threshold or period",
    tag: 'budgets',
    params: idParams,
    body: z.object({ usd: usd.optional(), warn_at: warnAt.optional(), period: z.enum(PERIODS).optional() }),
    response: { status: 200, schema: budgetSchema, description: 'The budget as changed' },
    async handle({ gov, params, body, actor }) {
      const current = await budgetOr404(gov, params.id)
      const now = gov.clock.epoch()
      const next: BudgetRecord = {
        ...current,
        limit: body.usd === undefined ? current.limit : toNanos(body.usd),
        warnAt: body.warn_at ?? current.warnAt,
        period: body.period ?? current.period,
        updatedAt: now,
      }
      const project = next.scope === 'project' ? next.scopeId : null
      await gov.store.putBudget(
        next,
        auditEvent(
          { actor, action: 'budget.update', project, target: next.id, reason: null, details: body },
          now,
        ),
      )
      await gov.reload()
      return { json: (await withUsage(gov, [next]))[0] }
    },
  }),

  adminRoute({
    method: 'delete',
    path: '/admin/budgets/{id}',
    summary: 'Delete a budget',
    tag: 'budgets',
    params: idParams,
    response: { status: 200, schema: z.object({ deleted: z.boolean() }), description: 'Whether it existed' },
    async handle({ gov, params, actor }) {
      const current = await budgetOr404(gov, params.id)
      const now = gov.clock.epoch()
      const project = current.scope === 'project' ? current.scopeId : null
      const deleted = await gov.store.deleteBudget(
        params.id,
        auditEvent(
          { actor, action: 'budget.delete', project, target: params.id, reason: null, details: null },
          now,
        ),
      )
      await gov.reload()
      return { json: { deleted } }
    },
  }),
]
