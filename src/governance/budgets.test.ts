import { describe, expect, it } from 'vitest'
import { chargeOf, periodEnd, periodStart } from './budgets.js'

describe('budget periods (UTC)', () => {
  const at = Date.UTC(2026, 11, 31, 23, 59, 59)

  it('start at midnight and on the first of the month', () => {
    expect(periodStart('day', at)).toBe(Date.UTC(2026, 11, 31))
    expect(periodStart('month', at)).toBe(Date.UTC(2026, 11, 1))
    expect(periodStart('total', at)).toBe(0)
  })

  it('end where the next one starts, across a year', () => {
    expect(periodEnd('day', Date.UTC(2026, 11, 31))).toBe(Date.UTC(2027, 0, 1))
    expect(periodEnd('month', Date.UTC(2026, 11, 1))).toBe(Date.UTC(2027, 0, 1))
    expect(periodEnd('month', Date.UTC(2027, 1, 1))).toBe(Date.UTC(2027, 2, 1))
    expect(periodEnd('total', 0)).toBe(Number.POSITIVE_INFINITY)
  })

  it('make a charge of the current period', () => {
    const budget = {
      id: 'b',
      scope: 'project' as const,
      scopeId: 'p',
      period: 'month' as const,
      limit: 5e9,
      warnAt: 0.8,
    }
    expect(chargeOf(budget, at)).toEqual({
      budget: 'b',
      scope: 'project',
      scopeId: 'p',
      period: Date.UTC(2026, 11, 1),
      ends: Date.UTC(2027, 0, 1),
      limit: 5e9,
      warnAt: 0.8,
    })
  })
})
