import { type Kysely, sql, type Transaction } from 'kysely'
import type { BudgetStore, Charge, ChargeState, ReserveResult } from '../../governance/budgets.js'
import type { Database } from './schema.js'

class Denied extends Error {
  constructor(readonly state: ChargeState) {
    super('budget has no room')
  }
}

/**
 * Budgets in the governance database: each reservation is one transaction of conditional updates (`spent +
 * reserved + amount <= limit`), so concurrent requests can never both take the last room. Postgres re-checks
 * the condition on the locked row; SQLite runs one transaction at a time. A period met for the first time is
 * seeded from the ledger (a budget created mid-month counts what the month already spent).
 */
export function sqlBudgetStore(db: Kysely<Database>): BudgetStore {
  const settleIn = async (trx: Transaction<Database>, id: string, actual: number | undefined) => {
    const row = await trx
      .deleteFrom('budget_reservations')
      .where('id', '=', id)
      .returning(['charges', 'amount_nusd'])
      .executeTakeFirst()
    if (row === undefined) return false
    const amount = Number(row.amount_nusd)
    const spent = actual ?? amount
    for (const [budget, period] of JSON.parse(row.charges) as [string, number][]) {
      await trx
        .updateTable('budget_usage')
        .set((eb) => ({
          reserved_nusd: eb('reserved_nusd', '-', amount),
          spent_nusd: eb('spent_nusd', '+', spent),
        }))
        .where('budget_id', '=', budget)
        .where('period_start', '=', period)
        .execute()
    }
    return true
  }

  return {
    name: 'database',

    async reserve(request): Promise<ReserveResult> {
      const charges = [...request.charges].sort((a, b) => (a.budget < b.budget ? -1 : 1))
      try {
        return await db.transaction().execute(async (trx) => {
          // The reservation row first: a second reserve with the same id (even a concurrent one, which waits
          // for this one's row) inserts nothing and changes nothing.
          const first = await trx
            .insertInto('budget_reservations')
            .values({
              id: request.id,
              charges: JSON.stringify(charges.map((c) => [c.budget, c.period])),
              amount_nusd: request.amount,
              created_at: request.now,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .returning('id')
            .executeTakeFirst()
          const states: ChargeState[] = []
          for (const charge of charges) {
            await ensurePeriod(trx, charge)
            if (first === undefined) {
              states.push(await stateOf(trx, charge, false))
              continue
            }
            const row = await trx
              .updateTable('budget_usage')
              .set((eb) => ({ reserved_nusd: eb('reserved_nusd', '+', request.amount) }))
              .where('budget_id', '=', charge.budget)
              .where('period_start', '=', charge.period)
              .where(sql<number>`spent_nusd + reserved_nusd + ${request.amount}`, '<=', charge.limit)
              .returning(['spent_nusd', 'reserved_nusd', 'warned'])
              .executeTakeFirst()
            // Thrown, so the transaction rolls back: nothing reserved anywhere, the reservation row included.
            if (row === undefined) throw new Denied(await stateOf(trx, charge, false))
            const spent = Number(row.spent_nusd)
            const reserved = Number(row.reserved_nusd)
            const crossed = row.warned === 0 && spent + reserved >= charge.warnAt * charge.limit
            if (crossed) {
              await trx
                .updateTable('budget_usage')
                .set({ warned: 1 })
                .where('budget_id', '=', charge.budget)
                .where('period_start', '=', charge.period)
                .execute()
            }
            states.push({ budget: charge.budget, spent, reserved, limit: charge.limit, crossed })
          }
          return { ok: true as const, states }
        })
      } catch (err) {
        if (err instanceof Denied) return { ok: false, denied: err.state }
        throw err
      }
    },

    settle(id, actual) {
      return db.transaction().execute((trx) => settleIn(trx, id, actual))
    },

    async usage(charges) {
      const out: { spent: number; reserved: number }[] = []
      for (const charge of charges) out.push(await periodUsage(db, charge))
      return out
    },

    async expire(before) {
      const stale = await db
        .selectFrom('budget_reservations')
        .select('id')
        .where('created_at', '<', before)
        .execute()
      let count = 0
      for (const { id } of stale) {
        // Settled at the full amount: an instance that died mid-request may well have spent it.
        if (await db.transaction().execute((trx) => settleIn(trx, id, undefined))) count++
      }
      return count
    },
  }
}

/** The period's row, seeded from the ledger when this is its first use. */
async function ensurePeriod(trx: Transaction<Database>, charge: Charge): Promise<void> {
  const found = await trx
    .selectFrom('budget_usage')
    .select('budget_id')
    .where('budget_id', '=', charge.budget)
    .where('period_start', '=', charge.period)
    .executeTakeFirst()
  if (found !== undefined) return
  const ledger = await trx
    .selectFrom('ledger')
    .select(sql<number>`coalesce(sum(cost_nusd), 0)`.as('spent'))
    .where(charge.scope === 'project' ? 'project' : 'key_id', '=', charge.scopeId)
    .where('ts', '>=', charge.period)
    .executeTakeFirst()
  await trx
    .insertInto('budget_usage')
    .values({
      budget_id: charge.budget,
      period_start: charge.period,
      spent_nusd: Number(ledger?.spent ?? 0),
      reserved_nusd: 0,
      warned: 0,
    })
    .onConflict((oc) => oc.columns(['budget_id', 'period_start']).doNothing())
    .execute()
}

/** A budget period's spent and reserved, zeros for one never charged. */
async function periodUsage(
  db: Kysely<Database> | Transaction<Database>,
  charge: Pick<Charge, 'budget' | 'period'>,
): Promise<{ spent: number; reserved: number }> {
  const row = await db
    .selectFrom('budget_usage')
    .select(['spent_nusd', 'reserved_nusd'])
    .where('budget_id', '=', charge.budget)
    .where('period_start', '=', charge.period)
    .executeTakeFirst()
  return { spent: Number(row?.spent_nusd ?? 0), reserved: Number(row?.reserved_nusd ?? 0) }
}

async function stateOf(trx: Transaction<Database>, charge: Charge, crossed: boolean): Promise<ChargeState> {
  return { budget: charge.budget, ...(await periodUsage(trx, charge)), limit: charge.limit, crossed }
}
