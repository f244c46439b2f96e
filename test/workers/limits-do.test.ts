import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { LimitsDurableObject } from '../../src/adapters/workers/limits.do.js'
import { durableObjectLimits, limitObjectName } from '../../src/adapters/workers/limits-client.js'
import type { AcquireRequest, Decision, LimitRule, LimitStore } from '../../src/limits/store.js'

// The conformance cases of test/limits-store.test.ts, run inside workerd against the Durable Object through
// its client, then what only an object has: routing, eviction, storage. Time is real: `LIMITS` has a short
// window and lease for the cases that wait them out, `LIMITS_MINUTE` the real minute for those that must not.

const W = env.LIMITS_WINDOW_MS
const LEASE = env.LIMITS_LEASE_MS
const MINUTE = 60_000
/** Time that may pass unseen around a call: an RPC round trip in the test pool takes a few ms. */
const SLACK = 100

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
/** Lets at least `ms` pass in the object (a timer may fire a hair early by its clock). */
const wait = (ms: number) => sleep(ms + 2)

let ids = 0
const nextId = () => `req-${++ids}`
const acquire = (store: LimitStore, rules: LimitRule[], tokens = 0, id = nextId()): Promise<Decision> =>
  Promise.resolve(store.acquire({ rules, id, tokens }))
const only = (scope: string, limits: Omit<LimitRule, 'scope'>): LimitRule[] => [{ scope, ...limits }]

type Namespace = typeof env.LIMITS

/** A store over an object of its own, so that no two tests share state. */
function make(namespace: Namespace = env.LIMITS) {
  const name = `test:${crypto.randomUUID()}`
  const open = () => durableObjectLimits(namespace, () => name)
  // A stub breaks when its object is reset: `stub()` makes a new one each time.
  return { store: open(), twin: open, stub: () => namespace.get(namespace.idFromName(name)) }
}

const rows = (stub: DurableObjectStub<LimitsDurableObject>) =>
  runInDurableObject(
    stub,
    (_, state) => state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM limit_entries').one().n,
  )

describe('durable object limit store conformance', () => {
  it('rpm N: admits exactly N, counts down, names the oldest entry in Retry-After, then admits again', async () => {
    const { store } = make()
    const rules = only('key:a', { rpm: 5 })
    expect(await acquire(store, rules)).toMatchObject({ allowed: true, requests: { limit: 5, remaining: 4 } })
    await wait(100)
    const later: Decision[] = []
    for (let i = 0; i < 9; i++) later.push(await acquire(store, rules))
    expect(later.map((d) => d.allowed)).toEqual([true, true, true, true, false, false, false, false, false])
    expect(later.slice(0, 4).map((d) => d.requests?.remaining)).toEqual([3, 2, 1, 0])
    const denied = later[4] as Decision
    expect(denied.denied).toMatchObject({ scope: 'key:a', dimension: 'requests' })
    expect(denied.requests).toMatchObject({ limit: 5, remaining: 0 })
    const retry = denied.denied?.retryAfterMs as number
    expect(retry).toBeLessThanOrEqual(W - 100)
    expect(retry).toBeGreaterThanOrEqual(W - 100 - SLACK)

    await wait(retry)
    expect((await acquire(store, rules)).allowed).toBe(true)
    expect((await acquire(store, rules)).allowed).toBe(false)
    await wait(W)
    const again: boolean[] = []
    for (let i = 0; i < 6; i++) again.push((await acquire(store, rules)).allowed)
    expect(again).toEqual([true, true, true, true, true, false])
  })

  it.each([
    { n: 300, rule: { rpm: 100 }, tokens: 0 },
    { n: 1000, rule: { rpm: 100 }, tokens: 0 },
    { n: 300, rule: { tpm: 1000 }, tokens: 10 },
    { n: 300, rule: { concurrent: 100 }, tokens: 0 },
  ])(
    'is exact under a burst from two clients: $n at once under $rule admits 100',
    async ({ n, rule, tokens }) => {
      const { store, twin } = make(env.LIMITS_MINUTE)
      const other = twin()
      const rules = only('key:burst', rule)
      const decisions = await Promise.all(
        Array.from({ length: n }, (_, i) => acquire(i % 2 === 0 ? store : other, rules, tokens)),
      )
      const admitted = decisions.filter((d) => d.allowed)
      expect(admitted).toHaveLength(100)
      if (rule.rpm) {
        const remaining = admitted.map((d) => d.requests?.remaining as number).sort((a, b) => a - b)
        expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => i))
      }
    },
  )

  it('tpm: a reservation that fills the limit exactly fits, one token more does not', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const a = only('key:exact', { tpm: 100 })
    expect(await acquire(store, a, 60)).toMatchObject({
      allowed: true,
      tokens: { limit: 100, remaining: 40 },
    })
    expect(await acquire(store, a, 40)).toMatchObject({ allowed: true, tokens: { limit: 100, remaining: 0 } })
    expect(await acquire(store, a, 1)).toMatchObject({
      allowed: false,
      denied: { scope: 'key:exact', dimension: 'tokens' },
      tokens: { limit: 100, remaining: 0 },
    })
    const b = only('key:over', { tpm: 100 })
    expect((await acquire(store, b, 60)).allowed).toBe(true)
    expect((await acquire(store, b, 41)).allowed).toBe(false)
    expect((await acquire(store, b, 40)).allowed).toBe(true)
  })

  it('tpm: a request above the limit itself is denied for good and records nothing', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = only('key:huge', { tpm: 100 })
    const d = await acquire(store, rules, 101)
    expect(d).toMatchObject({ allowed: false, denied: { scope: 'key:huge', dimension: 'tokens' } })
    expect(d.denied?.retryAfterMs).toBeUndefined()
    expect(await acquire(store, rules, 100)).toMatchObject({ allowed: true, tokens: { remaining: 0 } })
  })

  it('settle: using less frees room, using more takes it, undefined keeps the reservation', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const less = only('key:less', { tpm: 100 })
    expect((await acquire(store, less, 80, 'less-a')).allowed).toBe(true)
    expect((await acquire(store, less, 50)).allowed).toBe(false)
    await store.settle({ rules: less, id: 'less-a', reserved: 80, used: 30 })
    expect(await acquire(store, less, 50)).toMatchObject({ allowed: true, tokens: { remaining: 20 } })

    const more = only('key:more', { tpm: 100 })
    expect((await acquire(store, more, 20, 'more-a')).allowed).toBe(true)
    await store.settle({ rules: more, id: 'more-a', reserved: 20, used: 90 })
    expect((await acquire(store, more, 20)).allowed).toBe(false)
    expect(await acquire(store, more, 10)).toMatchObject({ allowed: true, tokens: { remaining: 0 } })

    const kept = only('key:kept', { tpm: 100 })
    expect((await acquire(store, kept, 80, 'kept-a')).allowed).toBe(true)
    await store.settle({ rules: kept, id: 'kept-a', reserved: 80, used: undefined })
    expect((await acquire(store, kept, 30)).allowed).toBe(false)
    expect((await acquire(store, kept, 20)).allowed).toBe(true)
  })

  it('settle: twice with the same usage changes nothing the second time', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = only('key:twice', { tpm: 100 })
    expect((await acquire(store, rules, 50, 'twice-a')).allowed).toBe(true)
    await store.settle({ rules, id: 'twice-a', reserved: 50, used: 10 })
    await store.settle({ rules, id: 'twice-a', reserved: 50, used: 10 })
    expect(await acquire(store, rules, 90)).toMatchObject({ allowed: true, tokens: { remaining: 0 } })
  })

  it('settle: once the reservation has left the window, settling it changes nothing', async () => {
    const { store } = make()
    const rules = only('key:late', { tpm: 100 })
    expect((await acquire(store, rules, 50, 'late-a')).allowed).toBe(true)
    await wait(W)
    await store.settle({ rules, id: 'late-a', reserved: 50, used: 100 })
    expect(await acquire(store, rules, 100)).toMatchObject({ allowed: true, tokens: { remaining: 0 } })
  })

  it('tpm: Retry-After is when enough of the oldest reservations have left, not sooner, not later', async () => {
    const { store } = make()
    const rules = only('key:retry', { tpm: 100 })
    expect((await acquire(store, rules, 30)).allowed).toBe(true)
    await wait(300)
    expect((await acquire(store, rules, 50)).allowed).toBe(true)
    await wait(100)
    // 80 + 50 > 100: the first 30 leaving is just enough (the second would be 300 ms later).
    const denied = await acquire(store, rules, 50)
    expect(denied.denied).toMatchObject({ scope: 'key:retry', dimension: 'tokens' })
    const retry = denied.denied?.retryAfterMs as number
    expect(retry).toBeLessThanOrEqual(W - 400)
    expect(retry).toBeGreaterThanOrEqual(W - 400 - SLACK)

    await wait(retry - 100)
    expect((await acquire(store, rules, 50)).allowed).toBe(false)
    await wait(100)
    expect(await acquire(store, rules, 50)).toMatchObject({ allowed: true, tokens: { remaining: 0 } })
  })

  it('concurrent N: admits N, frees one slot per settle however often settled, denies with 1 s', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = only('key:conc', { concurrent: 3 })
    for (const id of ['c1', 'c2', 'c3']) expect((await acquire(store, rules, 0, id)).allowed).toBe(true)
    expect(await acquire(store, rules)).toMatchObject({
      allowed: false,
      denied: { scope: 'key:conc', dimension: 'concurrent', retryAfterMs: 1000 },
    })
    await store.settle({ rules, id: 'c1', reserved: 0, used: 0 })
    await store.settle({ rules, id: 'c1', reserved: 0, used: 0 })
    expect((await acquire(store, rules, 0, 'c4')).allowed).toBe(true)
    expect((await acquire(store, rules)).allowed).toBe(false)
    await store.settle({ rules, id: 'c2', reserved: 0, used: undefined })
    expect((await acquire(store, rules)).allowed).toBe(true)
  })

  it('concurrent: a lease older than the lease length no longer holds its slot, a younger one does', async () => {
    const { store } = make()
    const rules = only('key:lease', { concurrent: 2 })
    expect((await acquire(store, rules)).allowed).toBe(true)
    await wait(LEASE / 2)
    expect((await acquire(store, rules)).allowed).toBe(true)
    expect((await acquire(store, rules)).allowed).toBe(false)
    await wait(LEASE / 2)
    expect((await acquire(store, rules)).allowed).toBe(true)
    expect((await acquire(store, rules)).allowed).toBe(false)
  })

  it('all or nothing: a request denied by one scope consumes nothing in the others', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = [
      { scope: 'key:wide', rpm: 10 },
      { scope: 'key:narrow', rpm: 1 },
    ]
    expect((await acquire(store, rules)).allowed).toBe(true)
    expect((await acquire(store, rules)).denied).toMatchObject({ scope: 'key:narrow', dimension: 'requests' })
    expect((await acquire(store, only('key:wide', { rpm: 10 }))).requests?.remaining).toBe(8)

    const a = { scope: 'key:a', rpm: 10, tpm: 100, concurrent: 2 }
    const b = { scope: 'key:b', concurrent: 1 }
    expect((await acquire(store, [a, b], 10)).allowed).toBe(true)
    expect((await acquire(store, [a, b], 10)).denied).toMatchObject({
      scope: 'key:b',
      dimension: 'concurrent',
    })
    expect(await acquire(store, [a], 0)).toMatchObject({
      allowed: true,
      requests: { remaining: 8 },
      tokens: { remaining: 90 },
    })
    expect((await acquire(store, [a], 0)).denied).toMatchObject({ scope: 'key:a', dimension: 'concurrent' })
  })

  it('names the first rule without room, in rule order, then requests, tokens, concurrent', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const cases: [Omit<LimitRule, 'scope'>, string][] = [
      [{ rpm: 1, tpm: 10, concurrent: 1 }, 'requests'],
      [{ rpm: 5, tpm: 10, concurrent: 1 }, 'tokens'],
      [{ rpm: 5, tpm: 100, concurrent: 1 }, 'concurrent'],
    ]
    for (const [i, [limits, dimension]] of cases.entries()) {
      const rules = only(`key:order${i}`, limits)
      expect((await acquire(store, rules, 10)).allowed).toBe(true)
      expect((await acquire(store, rules, 10)).denied).toMatchObject({ scope: `key:order${i}`, dimension })
    }
    const rules = [
      { scope: 'key:x', rpm: 5, tpm: 10 },
      { scope: 'key:y', rpm: 1 },
    ]
    expect((await acquire(store, rules, 10)).allowed).toBe(true)
    expect((await acquire(store, rules, 10)).denied).toMatchObject({ scope: 'key:x', dimension: 'tokens' })
  })

  it('headers: each dimension reports the scope with the fewest remaining, as-is when denied', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const a = { scope: 'key:big', rpm: 10, tpm: 1000 }
    const b = { scope: 'key:small', rpm: 5, tpm: 300 }
    for (let i = 0; i < 8; i++) expect((await acquire(store, [a], 100)).allowed).toBe(true)
    const d = await acquire(store, [a, b], 100)
    // The tighter scope is the one with fewer left, not the one with the lower limit.
    expect(d).toMatchObject({
      allowed: true,
      requests: { limit: 10, remaining: 1 },
      tokens: { limit: 1000, remaining: 100 },
    })
    for (const state of [d.requests, d.tokens]) {
      expect(state?.resetMs).toBeGreaterThanOrEqual(MINUTE - SLACK)
      expect(state?.resetMs).toBeLessThanOrEqual(MINUTE)
    }

    await wait(50)
    const denied = await acquire(store, [b], 300)
    expect(denied).toMatchObject({
      allowed: false,
      denied: { scope: 'key:small', dimension: 'tokens' },
      requests: { limit: 5, remaining: 4 },
      tokens: { limit: 300, remaining: 200 },
    })
    expect(denied.tokens?.resetMs).toBeLessThanOrEqual(MINUTE - 50)
    expect(denied.tokens?.resetMs).toBeGreaterThanOrEqual(MINUTE - 50 - SLACK)

    expect(await acquire(store, only('key:plain', { concurrent: 5 }))).toEqual({ allowed: true })
    expect(await acquire(store, [])).toEqual({ allowed: true })
  })

  it('headers on a denial read every scope as it is now, expired entries gone', async () => {
    const { store } = make()
    const later = Array.from({ length: 10 }, (_, i) => ({ scope: `key:later${i}`, rpm: 5 }))
    for (let i = 0; i < 3; i++) expect((await acquire(store, later)).allowed).toBe(true)
    await wait(W)
    const a = { scope: 'key:first', tpm: 10 }
    expect((await acquire(store, [a], 10)).allowed).toBe(true)
    expect(await acquire(store, [a, ...later], 5)).toMatchObject({
      allowed: false,
      denied: { scope: 'key:first', dimension: 'tokens' },
      requests: { limit: 5, remaining: 5, resetMs: 0 },
      tokens: { limit: 10, remaining: 0 },
    })
  })

  it('fifty scopes in one acquire: checked and recorded together', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = Array.from({ length: 50 }, (_, i) => ({
      scope: `key:k|model:m${i}`,
      rpm: i === 37 ? 1 : 2,
    }))
    expect(await acquire(store, rules)).toMatchObject({ allowed: true, requests: { limit: 1, remaining: 0 } })
    expect((await acquire(store, rules)).denied).toMatchObject({
      scope: 'key:k|model:m37',
      dimension: 'requests',
    })
    const others = rules.filter((_, i) => i !== 37)
    expect(await acquire(store, others)).toMatchObject({
      allowed: true,
      requests: { limit: 2, remaining: 0 },
    })
    expect((await acquire(store, others)).denied).toMatchObject({ scope: 'key:k|model:m0' })
  })

  it('a scope named twice records once', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = [
      { scope: 'key:dup', rpm: 3, tpm: 100 },
      { scope: 'key:dup', rpm: 5 },
    ]
    expect(await acquire(store, rules, 30)).toMatchObject({
      requests: { limit: 3, remaining: 2 },
      tokens: { remaining: 70 },
    })
    expect(await acquire(store, only('key:dup', { rpm: 3, tpm: 100 }), 0)).toMatchObject({
      requests: { remaining: 1 },
      tokens: { remaining: 70 },
    })
  })
})

describe('durable object limit store', () => {
  it('names the object by the project when a rule has one, else by the first scope, up to the first |', () => {
    expect(limitObjectName([{ scope: 'key:ci-bot' }, { scope: 'project:search|model:gpt-4o' }])).toBe(
      'project:search',
    )
    expect(limitObjectName([{ scope: 'key:ci-bot|model:gpt-4o' }, { scope: 'key:other' }])).toBe('key:ci-bot')
    expect(limitObjectName([{ scope: 'key:ci-bot' }, { scope: 'project:a' }, { scope: 'project:b' }])).toBe(
      'project:a',
    )
    expect(limitObjectName([])).toBe('')
  })

  it('answers with real Promises: callers tell a pending answer by instanceof Promise', async () => {
    const { store } = make(env.LIMITS_MINUTE)
    const rules = only('key:promise', { rpm: 5, concurrent: 1 })
    const pending = store.acquire({ rules, id: 'p1', tokens: 0 })
    expect(pending).toBeInstanceOf(Promise)
    expect(await pending).toMatchObject({ allowed: true, requests: { limit: 5, remaining: 4 } })
    const settled = store.settle({ rules, id: 'p1', reserved: 0, used: undefined })
    expect(settled).toBeInstanceOf(Promise)
    await settled
    expect(store.acquire({ rules: [], id: 'p2', tokens: 0 })).toEqual({ allowed: true })
  })

  it('routes every key of a project to one object, and a settle to the object of its acquire', async () => {
    const project = `project:${crypto.randomUUID()}`
    const store = durableObjectLimits(env.LIMITS_MINUTE, (r) => limitObjectName(r.rules))
    const rules = (key: string): LimitRule[] => [
      { scope: `key:${key}`, rpm: 10 },
      { scope: `${project}|model:m`, concurrent: 2 },
      { scope: project, rpm: 3 },
    ]
    expect((await acquire(store, rules('a'), 0, 'r1')).allowed).toBe(true)
    expect((await acquire(store, rules('b'), 0, 'r2')).allowed).toBe(true)
    expect((await acquire(store, rules('c'))).denied).toMatchObject({
      scope: `${project}|model:m`,
      dimension: 'concurrent',
    })
    await store.settle({ rules: rules('a'), id: 'r1', reserved: 0, used: undefined })
    expect(await acquire(store, rules('c'))).toMatchObject({ allowed: true, requests: { remaining: 0 } })
    expect((await acquire(store, rules('d'))).denied).toMatchObject({ scope: `${project}|model:m` })

    const stub = env.LIMITS_MINUTE.get(env.LIMITS_MINUTE.idFromName(project))
    // r2 and the third request hold their leases; three requests in the project's window, one in each key's.
    expect(await rows(stub)).toBe(2 + 3 + 3)
  })

  it('keeps its counts when evicted: the next instance rebuilds them from storage', async () => {
    const { store, stub } = make(env.LIMITS_MINUTE)
    const rules = only('key:evict', { rpm: 3, tpm: 100, concurrent: 2 })
    expect((await acquire(store, rules, 50, 'e1')).allowed).toBe(true)
    expect((await acquire(store, rules, 30, 'e2')).allowed).toBe(true)
    await store.settle({ rules, id: 'e1', reserved: 50, used: 10 })
    await runInDurableObject(stub(), (instance) => {
      Object.assign(instance, { marker: true })
    })

    await abortAllDurableObjects()
    // A new instance: nothing of the old one's memory is left.
    expect(await runInDurableObject(stub(), (instance) => 'marker' in instance)).toBe(false)
    // 10 + 30 tokens, two requests and e2's lease survived: e3 fills every dimension.
    expect(await acquire(store, rules, 60, 'e3')).toMatchObject({
      allowed: true,
      requests: { limit: 3, remaining: 0 },
      tokens: { limit: 100, remaining: 0 },
    })
    expect((await acquire(store, only('key:evict', { concurrent: 2 }))).denied).toMatchObject({
      dimension: 'concurrent',
    })
    const denied = await acquire(store, rules)
    expect(denied.denied).toMatchObject({ dimension: 'requests' })
    // e1 kept its own time through the restart: room comes back when it leaves, not a minute from now.
    expect(denied.denied?.retryAfterMs).toBeLessThan(MINUTE)
  })

  it('a fresh instance over the same storage decides exactly as the one that wrote it', async () => {
    const { store, stub } = make()
    const key = { scope: 'key:twin', rpm: 4, tpm: 100, concurrent: 3 }
    const model = { scope: 'key:twin|model:m', rpm: 2, tpm: 60 }
    expect((await acquire(store, [key, model], 40, 'f1')).allowed).toBe(true)
    await wait(20)
    expect((await acquire(store, [key], 30, 'f2')).allowed).toBe(true)
    await wait(20)
    expect((await acquire(store, [key, model], 10, 'f3')).allowed).toBe(true)
    await store.settle({ rules: [key, model], id: 'f1', reserved: 40, used: 25 })
    await store.settle({ rules: [key], id: 'f2', reserved: 30, used: undefined })

    // Requests that are denied record nothing, so both instances can be asked the same at the same instant.
    const probes: AcquireRequest[] = [
      { rules: [key, model], id: 'p1', tokens: 40 },
      { rules: [model], id: 'p2', tokens: 30 },
      { rules: [key], id: 'p3', tokens: 60 },
      { rules: [key, { scope: 'key:other', rpm: 0 }], id: 'p4', tokens: 0 },
      { rules: [{ ...key, concurrent: 1 }], id: 'p5', tokens: 0 },
    ]
    const [before, after] = await runInDurableObject(stub(), (running, state) => {
      // The pool types the instance as a DurableObject of the test's whole Env; this one reads less of it.
      const instance = running as unknown as LimitsDurableObject
      // Both are asked at one instant: the clock is held still, or a millisecond passing between the two would
      // show in every reset time.
      const now = Date.now()
      const clock = Date.now
      Date.now = () => now
      try {
        const fresh = new LimitsDurableObject(state, env)
        return [probes.map((p) => instance.acquire(p)), probes.map((p) => fresh.acquire(p))]
      } finally {
        Date.now = clock
      }
    })
    expect(before?.every((d) => !d.allowed)).toBe(true)
    expect(after).toEqual(before)
  })

  it('prunes storage: a denial writes nothing, entries out of the window go, an idle object empties', async () => {
    const { store, stub } = make()
    const rules = only('key:prune', { rpm: 2, tpm: 100, concurrent: 5 })
    expect((await acquire(store, rules, 10)).allowed).toBe(true)
    expect((await acquire(store, rules, 10)).allowed).toBe(true)
    expect(await rows(stub())).toBe(6)
    expect((await acquire(store, rules, 10)).allowed).toBe(false)
    expect(await rows(stub())).toBe(6)

    await wait(Math.max(W, LEASE, 1000))
    expect((await acquire(store, rules, 10)).allowed).toBe(true)
    expect(await rows(stub())).toBe(3)
    await wait(Math.max(W, LEASE) + 50)
    await runDurableObjectAlarm(stub())
    expect(await rows(stub())).toBe(0)
  })
})
