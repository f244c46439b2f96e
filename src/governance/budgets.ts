/**
 * Budgets that never overshoot: before a request goes upstream its largest possible cost is reserved in every
 * budget it counts against, atomically (all or none), and the reservation is settled to the actual cost when it
 * ends (released on failure). Reserving and settling are idempotent by the request's id. The store is where
 * atomicity lives: a SQL transaction (SQLite, Postgres) or a Lua script (Redis).
 */

export const PERIODS = ['day', 'month', 'total'] as const
export type BudgetPeriod = (typeof PERIODS)[number]

/** A budget as governance holds it. */
export interface Budget {
  id: string
  scope: 'project' | 'key'
  scopeId: string
  period: BudgetPeriod
  /** nano-USD. */
  limit: number
  /** The share of the limit past which responses carry `x-meridian-budget-warning` (once audited). */
  warnAt: number
}

/** The start of the budget period containing `epoch` (UTC); 0 for `total`. */
export function periodStart(period: BudgetPeriod, epoch: number): number {
  if (period === 'total') return 0
  const d = new Date(epoch)
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

/** When the period starting at `start` ends (the next one's start); Infinity for `total`. */
export function periodEnd(period: BudgetPeriod, start: number): number {
  if (period === 'total') return Number.POSITIVE_INFINITY
  const d = new Date(start)
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

/** One budget, in its current period, as a request counts against it. */
export interface Charge {
  budget: string
  scope: 'project' | 'key'
  scopeId: string
  /** The period's start (epoch ms); 0 for `total`. */
  period: number
  /** When the period ends (epoch ms); Infinity for `total`. */
  ends: number
  /** nano-USD. */
  limit: number
  warnAt: number
}

export function chargeOf(budget: Budget, epoch: number): Charge {
  const period = periodStart(budget.period, epoch)
  return {
    budget: budget.id,
    scope: budget.scope,
    scopeId: budget.scopeId,
    period,
    ends: periodEnd(budget.period, period),
    limit: budget.limit,
    warnAt: budget.warnAt,
  }
}

export interface ReserveRequest {
  /** The request's ledger id. */
  id: string
  /** nano-USD, reserved in every charge. */
  amount: number
  charges: readonly Charge[]
  /** Epoch ms, for the reservation's age. */
  now: number
}

/** A budget's state in its period after a reservation (or at the refusal). */
export interface ChargeState {
  budget: string
  spent: number
  reserved: number
  limit: number
  /** This reservation took the budget past its warning threshold for the first time this period. */
  crossed: boolean
}

export type ReserveResult =
  | { ok: true; states: ChargeState[] }
  /** `denied`: the first budget without room (nothing was reserved anywhere). */
  | { ok: false; denied: ChargeState }

export interface BudgetStore {
  /** `database` or `redis`. */
  readonly name: string
  /** Reserves `amount` in every charge, or in none. A second reserve with the same id changes nothing. */
  reserve(request: ReserveRequest): Promise<ReserveResult>
  /**
   * Settles reservation `id` to `actual` nano-USD (0 releases it). Idempotent: settling an id again, or one
   * never reserved, does nothing and answers false.
   */
  settle(id: string, actual: number): Promise<boolean>
  /** Spent and reserved of each budget period (zeros for one never charged), for views. */
  usage(charges: readonly Pick<Charge, 'budget' | 'period'>[]): Promise<{ spent: number; reserved: number }[]>
  /**
   * Settles reservations older than `before` (epoch ms) at their full amount: an instance that died mid-request
   * may have spent it. Answers how many.
   */
  expire(before: number): Promise<number>
  close?(): Promise<void>
}

/**
 * What the ledger says a budget's scope spent in a period, for a store that meets a period it has no counters
 * for (a budget created mid-month, a Redis that restarted empty).
 */
export type SpendSince = (charge: Charge) => Promise<number>
