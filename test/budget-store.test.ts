import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type RedisBudgets, redisBudgets } from '../src/adapters/node/budgets-redis.js'
import {
  type Budget,
  type BudgetStore,
  type Charge,
  chargeOf,
  periodStart,
} from '../src/governance/budgets.js'
import type { LedgerEntry } from '../src/governance/store.js'
import { sqlBudgetStore } from '../src/storage/sql/budget-store.js'
import { sqlGovernanceStore } from '../src/storage/sql/governance-store.js'
import { databaseKinds, freshDatabase } from './helpers/databases.js'
import { needService } from './helpers/services.js'

const redis = await needService('redis')
const kinds = await databaseKinds()

const DAY = 86_400_000
/** Mid-day UTC, so an hour either way stays in the same day period. */
const T = Date.UTC(2025, 4, 15, 12)

interface Harness {
  store: BudgetStore
  /** The ledger records `nusd` spent by a scope at `ts`: what seeds a period the store meets for the first time. */
  spend(scope: 'project' | 'key', scopeId: string, ts: number, nusd: number): Promise<void>
  close(): Promise<void>
}

let seq = 0
function budget(over: Partial<Budget> = {}): Budget {
  const n = ++seq
  return { id: `b${n}`, scope: 'project', scopeId: `p${n}`, period: 'day', limit: 1000, warnAt: 0.8, ...over }
}

function reserve(h: Harness, id: string, amount: number, budgets: Budget[], now = T) {
  return h.store.reserve({ id, amount, charges: budgets.map((b) => chargeOf(b, now)), now })
}

async function usage(h: Harness, b: Budget, at = T) {
  return (await h.store.usage([chargeOf(b, at)]))[0]
}

const state = (b: Budget, spent: number, reserved: number, crossed = false) => ({
  budget: b.id,
  spent,
  reserved,
  limit: b.limit,
  crossed,
})

/** The contract every budget store keeps; each case gets a store of its own. */
function conformance(make: () => Promise<Harness>) {
  let h: Harness
  beforeEach(async () => {
    h = await make()
  })
  afterEach(async () => {
    await h.close()
  })

  it('reserves within the limit and reports the state', async () => {
    const b = budget()
    expect(await reserve(h, 'r1', 300, [b])).toEqual({ ok: true, states: [state(b, 0, 300)] })
    expect(await reserve(h, 'r2', 200, [b])).toEqual({ ok: true, states: [state(b, 0, 500)] })
    expect(await usage(h, b)).toEqual({ spent: 0, reserved: 500 })
  })

  it('admits an exact fit and refuses one nano more, exact in large whole nano-USD', async () => {
    const A = 123_456_789
    const b = budget({ limit: 5e12 })
    const first = 5e12 - 2 * A
    expect(await reserve(h, 'r1', first, [b])).toEqual({ ok: true, states: [state(b, 0, first, true)] })
    expect(await reserve(h, 'r2', A, [b])).toEqual({ ok: true, states: [state(b, 0, 5e12 - A)] })
    expect(await reserve(h, 'r3', A + 1, [b])).toEqual({ ok: false, denied: state(b, 0, 5e12 - A) })
    expect(await reserve(h, 'r4', A, [b])).toEqual({ ok: true, states: [state(b, 0, 5e12)] })
    expect(await reserve(h, 'r5', 1, [b])).toEqual({ ok: false, denied: state(b, 0, 5e12) })
    expect(await h.store.settle('r1', first - 1)).toBe(true)
    expect(await h.store.settle('r2', A)).toBe(true)
    expect(await h.store.settle('r4', 987_654_321)).toBe(true)
    expect(await usage(h, b)).toEqual({ spent: first - 1 + A + 987_654_321, reserved: 0 })
  })

  it('reserves in every charge or in none', async () => {
    const roomy = budget({ id: 'a-roomy', limit: 1000 })
    const tight = budget({ id: 'b-tight', limit: 100, scope: 'key', scopeId: 'k1' })
    expect((await reserve(h, 'fill', 80, [tight])).ok).toBe(true)
    expect(await reserve(h, 'x', 50, [roomy, tight])).toEqual({ ok: false, denied: state(tight, 0, 80) })
    expect(await usage(h, roomy)).toEqual({ spent: 0, reserved: 0 })
    expect(await usage(h, tight)).toEqual({ spent: 0, reserved: 80 })
    expect(await h.store.settle('x', 50)).toBe(false)
    const fits = await reserve(h, 'y', 20, [tight, roomy])
    expect(fits.ok).toBe(true)
    if (fits.ok) {
      expect(fits.states.find((s) => s.budget === roomy.id)).toEqual(state(roomy, 0, 20))
      expect(fits.states.find((s) => s.budget === tight.id)).toEqual(state(tight, 0, 100))
    }
    expect(await h.store.settle('y', 15)).toBe(true)
    expect(await usage(h, roomy)).toEqual({ spent: 15, reserved: 0 })
    expect(await usage(h, tight)).toEqual({ spent: 15, reserved: 80 })
  })

  it('changes nothing on a second reserve with the same id, even one that would not fit again', async () => {
    const b = budget({ limit: 150, warnAt: 0.5 })
    expect(await reserve(h, 'r1', 100, [b])).toEqual({ ok: true, states: [state(b, 0, 100, true)] })
    expect(await reserve(h, 'r1', 100, [b])).toEqual({ ok: true, states: [state(b, 0, 100)] })
    expect(await usage(h, b)).toEqual({ spent: 0, reserved: 100 })
    expect(await h.store.settle('r1', 60)).toBe(true)
    expect(await usage(h, b)).toEqual({ spent: 60, reserved: 0 })
  })

  it('settles below and above the reservation, once; an unknown id answers false', async () => {
    const b = budget()
    await reserve(h, 'r1', 100, [b])
    await reserve(h, 'r2', 100, [b])
    expect(await h.store.settle('r1', 40)).toBe(true)
    expect(await h.store.settle('r2', 250)).toBe(true)
    expect(await h.store.settle('r1', 40)).toBe(false)
    expect(await h.store.settle('r2', 0)).toBe(false)
    expect(await h.store.settle('never', 10)).toBe(false)
    expect(await usage(h, b)).toEqual({ spent: 290, reserved: 0 })
  })

  it('releases a reservation settled at 0', async () => {
    const b = budget()
    await reserve(h, 'r1', 1000, [b])
    expect((await reserve(h, 'r2', 1, [b])).ok).toBe(false)
    expect(await h.store.settle('r1', 0)).toBe(true)
    expect(await usage(h, b)).toEqual({ spent: 0, reserved: 0 })
    expect((await reserve(h, 'r3', 1000, [b])).ok).toBe(true)
  })

  it('answers zeros for a budget never charged', async () => {
    const day = budget()
    const total = budget({ period: 'total' })
    expect(await h.store.usage([chargeOf(day, T), chargeOf(total, T)])).toEqual([
      { spent: 0, reserved: 0 },
      { spent: 0, reserved: 0 },
    ])
    expect(await h.store.usage([])).toEqual([])
  })

  it('reports crossing the warning threshold exactly once per period', async () => {
    const b = budget({ limit: 100, warnAt: 0.5 })
    const crossed = async (id: string, amount: number, now = T) => {
      const r = await reserve(h, id, amount, [b], now)
      if (!r.ok) throw new Error(`${id} was refused`)
      return r.states[0]?.crossed
    }
    expect(await crossed('r1', 30)).toBe(false)
    expect(await crossed('r2', 20)).toBe(true) // 50 of 100: at the threshold
    expect(await crossed('r3', 10)).toBe(false)
    for (const id of ['r1', 'r2', 'r3']) await h.store.settle(id, 0)
    expect(await crossed('r4', 60)).toBe(false) // below, then past it again: already warned this period
    expect(await crossed('r5', 49, T + DAY)).toBe(false)
    expect(await crossed('r6', 1, T + DAY)).toBe(true)
    expect(await crossed('r7', 1, T + DAY)).toBe(false)
  })

  it('starts each day afresh, and counts a total budget forever', async () => {
    const day = budget({ limit: 100 })
    const total = budget({ limit: 100, period: 'total' })
    await reserve(h, 'r1', 100, [day])
    await h.store.settle('r1', 100)
    expect((await reserve(h, 'r2', 1, [day])).ok).toBe(false)
    expect(await reserve(h, 'r3', 100, [day], T + DAY)).toEqual({
      ok: true,
      states: [state(day, 0, 100, true)],
    })
    expect(await usage(h, day)).toEqual({ spent: 100, reserved: 0 })
    expect(await usage(h, day, T + DAY)).toEqual({ spent: 0, reserved: 100 })

    await reserve(h, 't1', 60, [total])
    await h.store.settle('t1', 60)
    expect(await reserve(h, 't2', 50, [total], T + 40 * DAY)).toEqual({
      ok: false,
      denied: state(total, 60, 0),
    })
  })

  it('seeds a period met for the first time from the ledger, once', async () => {
    const start = periodStart('day', T)
    await h.spend('project', 'p-seed', start - 1, 5000) // yesterday: not this day's
    await h.spend('project', 'p-seed', start, 300)
    await h.spend('project', 'p-seed', T - 1, 200)
    await h.spend('project', 'p-other', T - 1, 7000)
    await h.spend('key', 'k-seed', T - 2, 40)
    const day = budget({ scopeId: 'p-seed', limit: 1000, warnAt: 0.9 })
    const total = budget({ scopeId: 'p-seed', limit: 1e6, period: 'total' })
    const key = budget({ scope: 'key', scopeId: 'k-seed', limit: 100 })
    expect(await reserve(h, 'r1', 500, [day])).toEqual({ ok: true, states: [state(day, 500, 500, true)] })
    expect(await reserve(h, 'r2', 1, [day])).toEqual({ ok: false, denied: state(day, 500, 500) })
    expect(await reserve(h, 'r3', 10, [total, key])).toMatchObject({
      ok: true,
      states: expect.arrayContaining([state(total, 5500, 10), state(key, 40, 10)]),
    })
    // Once the store keeps the period, it is the truth: later ledger rows are its own settlements.
    await h.spend('project', 'p-seed', T, 100)
    expect(await h.store.settle('r1', 100)).toBe(true)
    expect(await usage(h, day)).toEqual({ spent: 600, reserved: 0 })
  })

  it('expires reservations older than the cutoff at their full amount, and leaves newer ones', async () => {
    const b = budget()
    await reserve(h, 'old', 100, [b], T - 10_000)
    await reserve(h, 'new', 50, [b], T)
    expect(await h.store.expire(T - 5_000)).toBe(1)
    expect(await usage(h, b)).toEqual({ spent: 100, reserved: 50 })
    expect(await h.store.settle('old', 1)).toBe(false)
    expect(await h.store.expire(T - 5_000)).toBe(0)
    expect(await h.store.expire(T)).toBe(0) // strictly older than `before`
    expect(await h.store.expire(T + 1)).toBe(1)
    expect(await usage(h, b)).toEqual({ spent: 150, reserved: 0 })
    expect(await h.store.settle('new', 10)).toBe(false)
  })

  it('admits exactly ten of 200 concurrent reserves against room for ten, and never overshoots', async () => {
    const A = 123_456_789
    const key = budget({ id: 'a-key', scope: 'key', scopeId: 'k-burst', limit: 10 * A })
    const project = budget({ id: 'b-project', scopeId: 'p-burst', limit: 100 * A })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        reserve(h, `c${i}`, A, i % 2 === 0 ? [key, project] : [project, key]),
      ),
    )
    const admitted = results.flatMap((r, i) => (r.ok ? [{ id: `c${i}`, states: r.states }] : []))
    expect(admitted).toHaveLength(10)
    for (const r of results) {
      if (r.ok) for (const s of r.states) expect(s.spent + s.reserved).toBeLessThanOrEqual(s.limit)
      else expect(r.denied).toMatchObject({ budget: key.id, spent: 0, reserved: 10 * A })
    }
    expect(await usage(h, key)).toEqual({ spent: 0, reserved: 10 * A })
    expect(await usage(h, project)).toEqual({ spent: 0, reserved: 10 * A })
    const settled = await Promise.all(
      results.map((_, i) => h.store.settle(`c${i}`, i % 3 === 0 ? A : A - 1000)),
    )
    expect(settled.filter(Boolean)).toHaveLength(10)
    const spent = admitted.reduce((sum, r) => sum + (Number(r.id.slice(1)) % 3 === 0 ? A : A - 1000), 0)
    expect(await usage(h, key)).toEqual({ spent, reserved: 0 })
    expect(spent).toBeLessThanOrEqual(key.limit)
  })
}

// ---------------------------------------------------------------- sql

for (const kind of kinds) {
  describe.skipIf(!kind.available)(`${kind.name} budget store`, () => {
    conformance(async () => {
      const db = await freshDatabase(kind.name)
      const governance = sqlGovernanceStore(db.db)
      return {
        store: sqlBudgetStore(db.db),
        spend: (scope, scopeId, ts, nusd) =>
          governance.writeLedger([
            ledgerEntry({
              ts,
              project: scope === 'project' ? scopeId : 'p-ledger',
              key_id: scope === 'key' ? scopeId : null,
              cost_nusd: nusd,
            }),
          ]),
        close: () => db.drop(),
      }
    })
  })
}

function ledgerEntry(over: Partial<LedgerEntry>): LedgerEntry {
  const id = randomUUID()
  return {
    id,
    request_id: id,
    parent_id: null,
    ts: T,
    tier: 'origin',
    project: 'p-ledger',
    key_id: null,
    session: null,
    route: 'chat',
    model_requested: 'm',
    model_served: 'm',
    target: 'sim/m',
    attempt: 0,
    status: 200,
    error: null,
    stream: 0,
    cache: null,
    cache_layer: null,
    tokens_in: 1,
    tokens_out: 1,
    tokens_cached: null,
    cost_nusd: 0,
    saved_nusd: null,
    reference_nusd: null,
    estimated: 0,
    latency_ms: 1,
    upstream_ms: 1,
    override: null,
    prompt: null,
    response: null,
    tags: undefined,
    ...over,
  }
}

// ---------------------------------------------------------------- redis

describe.skipIf(!redis.available)('redis budget store', () => {
  const runPrefix = `meridian:test:budgets:${randomUUID()}:`
  const opened: RedisBudgets[] = []
  const open = (options: Partial<Parameters<typeof redisBudgets>[0]> = {}) => {
    // A generous timeout: a burst of 200 reserves queues on one connection.
    const store = redisBudgets({
      url: redis.url,
      prefix: `${runPrefix}${randomUUID().slice(0, 8)}:`,
      timeoutMs: 2000,
      spendSince: async () => 0,
      ...options,
    })
    opened.push(store)
    return store
  }
  /** A store whose ledger is a list the test writes, and which counts how often it is asked. */
  const harness = async (prefix = `${runPrefix}${randomUUID().slice(0, 8)}:`) => {
    const ledger: { scope: string; scopeId: string; ts: number; nusd: number }[] = []
    const asked: Charge[] = []
    const store = open({
      prefix,
      spendSince: async (c) => {
        asked.push(c)
        return ledger
          .filter((e) => e.scope === c.scope && e.scopeId === c.scopeId && e.ts >= c.period)
          .reduce((sum, e) => sum + e.nusd, 0)
      },
    })
    await store.ready()
    const h: Harness = {
      store,
      spend: async (scope, scopeId, ts, nusd) => {
        ledger.push({ scope, scopeId, ts, nusd })
      },
      close: async () => {},
    }
    return { h, asked, prefix, store }
  }

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close?.()))
    const client = new Redis(redis.url)
    for await (const keys of client.scanStream({ match: `${runPrefix}*`, count: 1000 })) {
      if (keys.length > 0) await client.del(...(keys as string[]))
    }
    await client.quit()
  })

  describe('conformance', () => {
    conformance(async () => (await harness()).h)
  })

  describe('redis only', () => {
    it('asks the ledger only for a period it has no hash for, and again after the hash is lost', async () => {
      const { h, asked, prefix } = await harness()
      const b = budget({ scopeId: 'p-lost', limit: 1000 })
      await h.spend('project', 'p-lost', T - 1, 100)
      await reserve(h, 'r1', 200, [b])
      await reserve(h, 'r2', 200, [b])
      expect(asked).toHaveLength(1)
      expect(await h.store.settle('r1', 150)).toBe(true)
      // Redis restarted empty, say: the period is seeded again from the ledger, which by then holds r1.
      const client = new Redis(redis.url)
      await client.del(`${prefix}budget:{${b.id}}:${periodStart('day', T)}`)
      await client.quit()
      await h.spend('project', 'p-lost', T, 150)
      expect(await h.store.settle('r2', 50)).toBe(true) // its period is gone: nothing to settle into
      expect(await reserve(h, 'r3', 10, [b])).toEqual({ ok: true, states: [state(b, 250, 10)] })
      expect(asked).toHaveLength(2)
    })

    it('keeps a day period a week past its end, a total one forever, and names keys under the prefix', async () => {
      const { h, prefix } = await harness()
      const day = budget()
      const total = budget({ period: 'total' })
      await reserve(h, 'r1', 10, [day, total])
      const client = new Redis(redis.url)
      const dayKey = `${prefix}budget:{${day.id}}:${periodStart('day', T)}`
      const ttl = await client.pttl(dayKey)
      const expected = periodStart('day', T) + DAY - T + 7 * DAY
      expect(ttl).toBeGreaterThan(expected - 5000)
      expect(ttl).toBeLessThanOrEqual(expected)
      expect(await client.pttl(`${prefix}budget:{${total.id}}:0`)).toBe(-1)
      expect(await client.hgetall(dayKey)).toEqual({ spent: '0', reserved: '10', warned: '0' })
      expect(await client.zscore(`${prefix}budres`, 'r1')).toBe(String(T))
      expect(await client.exists(`${prefix}budres:r1`)).toBe(1)
      await h.store.settle('r1', 7)
      expect(await client.exists(`${prefix}budres:r1`)).toBe(0)
      expect(await client.zscore(`${prefix}budres`, 'r1')).toBeNull()
      await client.quit()
    })

    it('expires a backlog larger than one batch', async () => {
      const { h } = await harness()
      const b = budget({ limit: 1e6 })
      for (let i = 0; i < 250; i++) await reserve(h, `r${i}`, 3, [b], T - 1000 + i)
      expect(await h.store.expire(T)).toBe(250)
      expect(await usage(h, b)).toEqual({ spent: 750, reserved: 0 })
    })

    it('refuses amounts that are not whole nano-USD', async () => {
      const { h } = await harness()
      const b = budget()
      await expect(reserve(h, 'r1', 1.5, [b])).rejects.toThrow(RangeError)
      await expect(h.store.settle('r1', -1)).rejects.toThrow(RangeError)
    })

    it('rejects at once when Redis is unreachable', async () => {
      const errors: Error[] = []
      const store = open({ url: 'redis://127.0.0.1:1', maxBackoffMs: 20, onError: (e) => errors.push(e) })
      await expect(store.ready()).rejects.toThrow()
      const b = budget()
      await expect(store.reserve({ id: 'd', amount: 1, charges: [chargeOf(b, T)], now: T })).rejects.toThrow()
      await expect(store.settle('d', 1)).rejects.toThrow()
      await expect(store.usage([chargeOf(b, T)])).rejects.toThrow()
      await expect(store.expire(T)).rejects.toThrow()
      await expect(store.ping()).rejects.toThrow()
      expect(errors).toHaveLength(1)
    })
  })
})
