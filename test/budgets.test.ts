import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, adminClient } from './helpers/admin.js'
import { databaseKinds, freshDatabase, type TestDatabase } from './helpers/databases.js'
import { validateAgainstSpec } from './helpers/openai-spec.js'
import { needService } from './helpers/services.js'
import { chatBody, type Stack, startStack } from './helpers/stack.js'

const kinds = await databaseKinds()
const redis = await needService('redis')
const postgres = kinds.find((k) => k.name === 'postgres')!.available

/** The Done-when setups: SQLite with its own budget counters, and Postgres with counters in Redis. */
const setups = [
  { name: 'SQLite', database: 'sqlite' as const, store: 'database', available: true },
  {
    name: 'Postgres + Redis',
    database: 'postgres' as const,
    store: 'redis',
    available: postgres && redis.available,
  },
]

const ask = (i: number) =>
  chatBody({
    max_tokens: 40,
    messages: [{ role: 'user', content: `Tell me a short fact, number ${1000 + i}` }],
  })

describe.each(setups)('budgets on $name', ({ name, database, store, available }) => {
  let db: TestDatabase
  let stack: Stack
  const prefix = `meridian-budgets-test-${Date.now()}-${Math.random().toString(36).slice(2)}:`

  beforeAll(async () => {
    if (!available) return
    db = await freshDatabase(database)
    stack = await startStack((c) => {
      c.log = { level: 'error', requests: false }
      c.admin = { token: ADMIN_TOKEN }
      c.storage = { database: db.url }
      c.budgets = { store: store === 'redis' ? `${redis.url}/0` : 'database' }
      c.projects = [{ id: 'test' }]
    })
  })
  afterAll(async () => {
    if (!available) return
    await stack.close()
    await db.drop()
    if (store === 'redis') {
      const client = new Redis(redis.url)
      const keys = await client.keys('meridian:budget*')
      // Only this run's budgets: their ids carry the run's prefix.
      const ours = keys.filter((k) => k.includes(prefix.slice(0, -1)))
      if (ours.length > 0) await client.del(...ours)
      await client.quit()
    }
  })

  it.skipIf(!available)(
    '200 concurrent requests against a budget that fits 10 end with spend within it',
    async () => {
      const admin = adminClient(stack.url)
      const budgetId = `${prefix.slice(0, -1)}-${name.length}`
      // A budget too small for anything tells what one request reserves.
      const made = await admin.post('/admin/budgets', {
        id: budgetId,
        scope: 'project',
        scope_id: 'test',
        period: 'day',
        usd: 1e-9,
        warn_at: 0.5,
      })
      expect(made.status).toBe(201)
      const probe = await stack.post('/v1/chat/completions', ask(0))
      expect(probe.status).toBe(402)
      const denied = await probe.json()
      expect(validateAgainstSpec('ErrorResponse', denied)).toEqual([])
      expect(denied.error).toMatchObject({
        type: 'insufficient_quota',
        code: 'MERIDIAN_BUDGET_EXCEEDED',
        budget: { id: budgetId, scope: 'project', scope_id: 'test' },
      })
      expect(denied.error.message).toContain(`budget ${budgetId}`)
      expect(Date.parse(denied.error.budget.resets_at)).toBeGreaterThan(Date.now())
      const perRequest = denied.error.budget.request_max_usd as number
      const limit = Math.round(perRequest * 10 * 1e9) / 1e9
      await admin.patch(`/admin/budgets/${budgetId}`, { usd: limit })

      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const res = await stack.post('/v1/chat/completions', ask(i), {
            'x-request-id': `burst-${name.length}-${i}`,
          })
          return {
            status: res.status,
            warning: res.headers.get('x-meridian-budget-warning'),
            body: await res.json(),
          }
        }),
      )
      const ok = results.filter((r) => r.status === 200)
      const refused = results.filter((r) => r.status === 402)
      expect(ok.length + refused.length).toBe(200)
      // Reservations are the largest cost; answers cost less, so a later request may fit into what they freed.
      expect(ok.length).toBeGreaterThanOrEqual(10)
      expect(refused.length).toBeGreaterThan(150)
      for (const r of refused) expect(r.body.error.code).toBe('MERIDIAN_BUDGET_EXCEEDED')
      expect(ok.some((r) => r.warning?.startsWith(`budget ${budgetId} is at`))).toBe(true)

      const rows = (await admin.get('/admin/ledger?project=test&limit=1000')).body.data as {
        cost_nusd: number
      }[]
      const spent = rows.reduce((sum, r) => sum + r.cost_nusd, 0)
      expect(spent).toBeGreaterThan(0)
      expect(spent).toBeLessThanOrEqual(limit * 1e9)
      // The store's count agrees with the ledger, and holds nothing once every request has ended.
      const budget = (await admin.get(`/admin/budgets/${budgetId}`)).body
      expect(budget.reserved_usd).toBe(0)
      expect(Math.round(budget.spent_usd * 1e9)).toBe(spent)
      const warnings = (await admin.get('/admin/audit?action=budget.warning')).body.data
      expect(warnings.filter((e: { target: string }) => e.target === budgetId)).toHaveLength(1)
    },
  )
})
