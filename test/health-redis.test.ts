import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { type RedisSharedHealth, redisSharedHealth } from '../src/adapters/node/health-redis.js'
import { HealthGate, type HealthOptions } from '../src/routing/health.js'
import { needService } from './helpers/services.js'
import { tcpProxy } from './helpers/tcp-proxy.js'
import { eventually } from './helpers/timing.js'

const redis = await needService('redis')

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A clock the test moves, whose wall time starts at the real one: Redis TTLs are in real time. */
function fakeClock(now = 0) {
  const epoch = Date.now()
  let offset = 0
  return {
    now: () => now + offset,
    epoch: () => epoch + offset,
    advance(ms: number) {
      offset += ms
    },
  }
}

const OPTIONS: Partial<HealthOptions> = { windowMs: 10_000, cooldownMs: 30_000 }

describe.skipIf(!redis.available)('redis shared health', () => {
  const runPrefix = `meridian:test:health:${randomUUID()}:`
  const opened: RedisSharedHealth[] = []
  const open = (options: Partial<Parameters<typeof redisSharedHealth>[0]> = {}) => {
    const shared = redisSharedHealth({ url: redis.url, prefix: runPrefix, ...options })
    opened.push(shared)
    return shared
  }

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()))
    const client = new Redis(redis.url)
    for await (const keys of client.scanStream({ match: `${runPrefix}*`, count: 1000 })) {
      if (keys.length > 0) await client.del(...(keys as string[]))
    }
    await client.quit()
  })

  it('an outage one instance finds is skipped by the others, survives a restart, and ends with the probe', async () => {
    const target = `openai/${randomUUID().slice(0, 8)}`
    const clockA = fakeClock(1_000)
    const clockB = fakeClock(500_000)
    const sharedA = open()
    const sharedB = open()
    await Promise.all([sharedA.ready(), sharedB.ready()])
    const a = new HealthGate(OPTIONS, clockA, sharedA)
    const b = new HealthGate(OPTIONS, clockB, sharedB)

    for (let i = 0; i < 5; i++) a.record(target, { ok: false })
    expect(a.state(target)).toBe('down')
    // B never sent the target a request, yet skips it.
    await eventually(() => expect(b.admit(target)).toBe(false), 1_000)
    expect(b.views()).toEqual([
      expect.objectContaining({ target, state: 'down', reason: '5 of 5 requests failed in 10 s' }),
    ])

    const client = new Redis(redis.url)
    const ttl = await client.pttl(`${runPrefix}down:${target}`)
    await client.quit()
    expect(ttl).toBeGreaterThan(25_000)
    expect(ttl).toBeLessThanOrEqual(30_000)

    // A third instance, started after the news went out, reads it when it subscribes.
    const sharedC = open()
    const c = new HealthGate(OPTIONS, fakeClock(42), sharedC)
    await eventually(() => expect(c.admit(target)).toBe(false), 1_000)

    clockA.advance(30_000)
    expect(a.admit(target)).toBe(true)
    a.record(target, { ok: true, ttfbMs: 120 })
    expect(a.state(target)).toBe('healthy')
    // B's own copy of the cooldown has 30 s to run: only A's news can clear it.
    await eventually(() => expect(b.state(target)).toBe('healthy'), 1_000)
    expect(b.admit(target)).toBe(true)
    await eventually(() => expect(c.admit(target)).toBe(true), 1_000)

    // The mark is gone, so the next instance to start sees nothing.
    const sharedD = open()
    await sharedD.ready()
    const d = new HealthGate(OPTIONS, fakeClock(), sharedD)
    expect(d.admit(target)).toBe(true)
    expect(d.views()).toEqual([])
  })

  it('catches up after a reconnection: outages begun and ended while it was away', async () => {
    const proxy = await tcpProxy(new URL(redis.url))
    try {
      const [ended, begun] = ['ended', 'begun'].map((n) => `${n}/${randomUUID().slice(0, 8)}`) as [
        string,
        string,
      ]
      const clockA = fakeClock()
      const sharedA = open()
      const errors: Error[] = []
      const sharedB = open({ url: proxy.url, maxBackoffMs: 50, onError: (e) => errors.push(e) })
      await Promise.all([sharedA.ready(), sharedB.ready()])
      const a = new HealthGate(OPTIONS, clockA, sharedA)
      const b = new HealthGate(OPTIONS, fakeClock(), sharedB)
      for (let i = 0; i < 5; i++) a.record(ended, { ok: false })
      await eventually(() => expect(b.state(ended)).toBe('down'), 1_000)

      await proxy.close()
      clockA.advance(30_000)
      expect(a.admit(ended)).toBe(true)
      a.record(ended, { ok: true }) // the up B cannot hear
      for (let i = 0; i < 5; i++) a.record(begun, { ok: false })
      await sleep(100)
      expect(b.state(ended)).toBe('down')
      expect(b.admit(begun)).toBe(true)

      await proxy.reopen()
      await eventually(() => {
        expect(b.state(ended)).toBe('healthy')
        expect(b.state(begun)).toBe('down')
      }, 3_000)
      expect(errors).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  })

  it('fails open when Redis is unreachable: no throw, one report, the gate works on its own', async () => {
    const errors: Error[] = []
    const shared = open({ url: 'redis://127.0.0.1:1', maxBackoffMs: 20, onError: (e) => errors.push(e) })
    await expect(shared.ready()).rejects.toThrow()
    const clock = fakeClock()
    const gate = new HealthGate(OPTIONS, clock, shared)
    // markDown runs inside record(): a throw or an unhandled rejection would fail the test.
    for (let i = 0; i < 5; i++) gate.record('t', { ok: false })
    expect(gate.admit('t')).toBe(false)
    clock.advance(30_000)
    expect(gate.admit('t')).toBe(true)
    gate.record('t', { ok: true }) // markUp, equally unheard
    expect(gate.state('t')).toBe('healthy')
    await sleep(200) // several reconnect attempts and both commands failing
    expect(errors).toHaveLength(1)
    await shared.close()
  })
})
