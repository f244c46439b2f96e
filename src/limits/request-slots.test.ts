import { describe, expect, it } from 'vitest'
import { type RequestSlotsOptions, requestSlots } from './request-slots.js'
import type { Decision, LimitRule } from './store.js'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * A window that never slides, shared like Redis by several pools: the REQUESTS script's grant rule (slots now
 * for the waiters, ahead only while twice as much room is left) over a set of members. Each call answers after
 * a timer tick, as a round trip would.
 */
function sharedWindow(limit: number) {
  const members = new Set<string>()
  let calls = 0
  let failing = false
  const grant: RequestSlotsOptions['grant'] = async (rules, id, waiters, extra) => {
    calls++
    await sleep(1)
    if (failing) throw new Error('store down')
    const room = limit - members.size
    if (room < 1) {
      const decision: Decision = {
        allowed: false,
        denied: { scope: rules[0]!.scope, dimension: 'requests', retryAfterMs: 1000 },
        requests: { limit, remaining: 0, resetMs: 1000 },
      }
      return { decision, now: 0, ahead: 0 }
    }
    const now = Math.min(waiters, room)
    const ahead = Math.max(0, Math.min(extra, Math.floor((room - now) / 2)))
    for (let j = 1; j <= now + ahead; j++) members.add(`${id}:${j}`)
    const decision: Decision = {
      allowed: true,
      requests: { limit, remaining: room - now - ahead, resetMs: 60_000 },
    }
    return { decision, now, ahead }
  }
  const giveBack: RequestSlotsOptions['giveBack'] = (_rules, id, from, to) => {
    for (let j = from; j <= to; j++) members.delete(`${id}:${j}`)
  }
  return {
    members,
    calls: () => calls,
    fail: (on: boolean) => {
      failing = on
    },
    pool: (aheadMs = 200) => requestSlots({ grant, giveBack, aheadMs }),
  }
}

const rules = (rpm: number): LimitRule[] => [{ scope: 'key:a', rpm }]
const KEY = 'key:a'

describe('request slots', () => {
  it('a burst waits for the call in flight and goes in the next: exactly the limit admitted, in a few calls', async () => {
    const window = sharedWindow(100)
    const [a, b] = [window.pool(), window.pool()]
    const decisions = await Promise.all(
      Array.from({ length: 600 }, (_, i) => (i % 2 === 0 ? a : b).acquire(rules(100), KEY)),
    )
    const admitted = decisions.filter((d) => d.allowed)
    expect(admitted).toHaveLength(100)
    expect(window.members.size).toBe(100)
    // Each admitted request was told a remaining of its own.
    const remaining = admitted.map((d) => d.requests!.remaining).sort((x, y) => x - y)
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => i))
    // One call per pool to start, one for the burst behind it, one more to deny the rest (and a spare).
    expect(window.calls()).toBeLessThanOrEqual(8)
  })

  it('after the first call, most requests take a slot on hand at once while refills go in the background', async () => {
    const window = sharedWindow(1_000_000)
    const pool = window.pool()
    let immediate = 0
    for (let i = 0; i < 300; i++) {
      const answer = pool.acquire(rules(1_000_000), KEY)
      if (!(answer instanceof Promise)) immediate++
      // Alone in its window, it counts down by one per request, from slots on hand or not.
      expect(await answer).toMatchObject({ allowed: true, requests: { remaining: 1_000_000 - 1 - i } })
      await sleep(0) // a refill in flight lands between requests, as it would between real ones
    }
    expect(immediate).toBeGreaterThan(250)
    expect(window.calls()).toBeLessThan(40)
    // Every slot recorded is either used or still on hand, and no more are on hand than one call takes.
    expect(window.members.size).toBeGreaterThanOrEqual(300)
    expect(window.members.size).toBeLessThanOrEqual(300 + 64 * 2)
    await pool.close()
    expect(window.members.size).toBe(300)
  })

  it('gives back the slots it holds when they expire, and does not use them after', async () => {
    const window = sharedWindow(10_000)
    const pool = window.pool(50)
    expect((await pool.acquire(rules(10_000), KEY)).allowed).toBe(true)
    expect(window.members.size).toBe(2) // its own, and one ahead
    await sleep(80)
    expect(window.members.size).toBe(1)
    const next = pool.acquire(rules(10_000), KEY)
    expect(next).toBeInstanceOf(Promise) // nothing on hand: it asks the store
    expect((await next).allowed).toBe(true)
  })

  it('near the limit takes nothing ahead: the last requests are checked by the store, none stranded', async () => {
    for (const pools of [1, 2]) {
      const window = sharedWindow(100)
      const all = Array.from({ length: pools }, () => window.pool())
      const allowed: boolean[] = []
      for (let i = 0; i < 200; i++) allowed.push((await all[i % pools]!.acquire(rules(100), KEY)).allowed)
      expect(allowed.filter(Boolean)).toHaveLength(100)
      expect(window.members.size).toBe(100)
      for (const pool of all) await pool.close()
      expect(window.members.size).toBe(100) // nothing was left on hand to give back
    }
  })

  it('with nothing ahead (0 ms), every request waits on a call, yet requests at once share one', async () => {
    const window = sharedWindow(1000)
    const pool = window.pool(0)
    for (let i = 0; i < 3; i++) {
      const answer = pool.acquire(rules(1000), KEY)
      expect(answer).toBeInstanceOf(Promise)
      await answer
    }
    expect(window.members.size).toBe(3)
    await Promise.all(Array.from({ length: 50 }, () => pool.acquire(rules(1000), KEY)))
    expect(window.members.size).toBe(53)
    expect(window.calls()).toBe(3 + 2)
  })

  it('a failed call rejects every request waiting; the next request tries again', async () => {
    const window = sharedWindow(1000)
    const pool = window.pool(0)
    window.fail(true)
    const answers = await Promise.allSettled(Array.from({ length: 5 }, () => pool.acquire(rules(1000), KEY)))
    expect(answers.every((a) => a.status === 'rejected')).toBe(true)
    window.fail(false)
    expect((await pool.acquire(rules(1000), KEY)).allowed).toBe(true)
  })
})
