import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { redisTier } from '../src/adapters/node/cache-redis.js'
import { sqliteTier } from '../src/adapters/node/cache-sqlite.js'
import { entryBytes, memoryTier } from '../src/cache/memory.js'
import type { CacheEntry, CacheTier } from '../src/cache/tier.js'
import { needService } from './helpers/services.js'
import { tcpProxy } from './helpers/tcp-proxy.js'
import { eventually, timed } from './helpers/timing.js'

const redis = await needService('redis')

interface TestClock {
  now(): number
  epoch(): number
  advance(ms: number): void
}

function testClock(start = Date.now()): TestClock {
  let t = start
  return {
    now: () => t,
    epoch: () => t,
    advance: (ms) => {
      t += ms
    },
  }
}

/** A small seeded PRNG (mulberry32), so a failing random case replays. */
function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n: number) => Math.floor(next() * n) }
}

const key = (n: number | string) => `v1:${String(n).padStart(64, '0')}`

function entry(clock: TestClock, over: Partial<CacheEntry> & { ttl?: number } = {}): CacheEntry {
  const { ttl = 60_000, ...rest } = over
  const now = clock.epoch()
  return {
    body: '{"id":"chatcmpl-1"}',
    project: 'alpha',
    target: 'sim/sim-small',
    storedAt: now,
    expiresAt: now + ttl,
    ...rest,
  }
}

/**
 * The contract every tier keeps. `makeTier` builds a fresh tier reading the given clock; the clock
 * is fake, so a tier that consults real time instead of it fails the expiry cases.
 */
function conformance(name: string, makeTier: (clock: TestClock) => CacheTier | Promise<CacheTier>) {
  describe(`${name} tier conformance`, () => {
    let clock: TestClock
    let tier: CacheTier
    beforeEach(async () => {
      clock = testClock()
      tier = await makeTier(clock)
    })
    afterEach(async () => {
      await tier.close?.()
    })

    it('misses with undefined', async () => {
      expect(await tier.get(key('missing'))).toBeUndefined()
    })

    it('returns an equal entry after set, and the latest after an overwrite', async () => {
      const first = entry(clock)
      await tier.set(key(1), first)
      expect(await tier.get(key(1))).toEqual(first)
      const second = entry(clock, { body: '{"id":"chatcmpl-2"}', target: 'other/model', ttl: 5000 })
      await tier.set(key(1), second)
      expect(await tier.get(key(1))).toEqual(second)
    })

    it('deletes once: true, then false, then a miss', async () => {
      await tier.set(key(1), entry(clock))
      await tier.set(key(2), entry(clock))
      expect(await tier.delete(key(1))).toBe(true)
      expect(await tier.delete(key(1))).toBe(false)
      expect(await tier.get(key(1))).toBeUndefined()
      expect(await tier.get(key(2))).toBeDefined()
    })

    it('never returns an entry at or past expiresAt', async () => {
      const e = entry(clock, { ttl: 1000 })
      await tier.set(key(1), e)
      clock.advance(999)
      expect(await tier.get(key(1))).toEqual(e)
      clock.advance(1)
      expect(await tier.get(key(1))).toBeUndefined()
      clock.advance(10_000)
      expect(await tier.get(key(1))).toBeUndefined()
    })

    it('treats an already expired set as removing the key', async () => {
      await tier.set(key(1), entry(clock))
      await tier.set(key(1), entry(clock, { ttl: 0 }))
      expect(await tier.get(key(1))).toBeUndefined()
      await tier.set(key(2), entry(clock, { ttl: -5 }))
      expect(await tier.get(key(2))).toBeUndefined()
    })

    it('counts only live entries in delete and purge', async () => {
      await tier.set(key(1), entry(clock, { ttl: 100 }))
      await tier.set(key(2), entry(clock, { ttl: 100 }))
      await tier.set(key(3), entry(clock, { ttl: 10_000 }))
      clock.advance(100)
      expect(await tier.delete(key(1))).toBe(false)
      expect(await tier.purgeProject('alpha')).toBe(1)
      expect(await tier.get(key(3))).toBeUndefined()
    })

    it('purges one project only, and returns how many', async () => {
      for (const n of [1, 2, 3]) await tier.set(key(n), entry(clock, { project: 'alpha' }))
      for (const n of [4, 5]) await tier.set(key(n), entry(clock, { project: 'beta' }))
      expect(await tier.purgeProject('alpha')).toBe(3)
      for (const n of [1, 2, 3]) expect(await tier.get(key(n))).toBeUndefined()
      for (const n of [4, 5]) expect((await tier.get(key(n)))?.project).toBe('beta')
      expect(await tier.purgeProject('alpha')).toBe(0)
      expect(await tier.purgeProject('nobody')).toBe(0)
    })

    it('a key moved to another project is purged with its new project only', async () => {
      await tier.set(key(1), entry(clock, { project: 'alpha' }))
      await tier.set(key(1), entry(clock, { project: 'beta' }))
      expect(await tier.purgeProject('alpha')).toBe(0)
      expect((await tier.get(key(1)))?.project).toBe('beta')
      expect(await tier.purgeProject('beta')).toBe(1)
    })

    it('matches a model under random writes, deletes, expiry and a purge (seeded)', async () => {
      for (const seed of [1, 2, 3]) {
        const rnd = prng(seed)
        const projects = ['alpha', 'beta', 'gamma.v2', 'd-4']
        const model = new Map<string, CacheEntry>()
        for (let i = 0; i < 150; i++) {
          const k = key(`${seed}-${rnd.int(30)}`)
          const op = rnd.next()
          if (op < 0.65) {
            const e = entry(clock, {
              project: projects[rnd.int(projects.length)]!,
              body: `{"n":${i}}`,
              ttl: 2000 + rnd.int(8000),
            })
            await tier.set(k, e)
            model.set(k, e)
          } else if (op < 0.85) {
            const live = (model.get(k)?.expiresAt ?? 0) > clock.epoch()
            expect(await tier.delete(k)).toBe(live)
            model.delete(k)
          } else {
            clock.advance(rnd.int(1500))
          }
        }
        const live = (e: CacheEntry | undefined) => (e && e.expiresAt > clock.epoch() ? e : undefined)
        for (const [k, e] of model) expect(await tier.get(k)).toEqual(live(e))
        const victim = projects[rnd.int(projects.length)]!
        const expected = [...model.values()].filter((e) => e.project === victim && live(e)).length
        expect(await tier.purgeProject(victim)).toBe(expected)
        for (const [k, e] of model) {
          expect(await tier.get(k)).toEqual(e.project === victim ? undefined : live(e))
        }
      }
    })

    it('round-trips a 1 MB body and unicode byte for byte', async () => {
      const rnd = prng(7)
      const big = Array.from({ length: 1 << 20 }, () => String.fromCharCode(32 + rnd.int(95))).join('')
      const unicode = `{"content":"日本語 🎉 é\u0301 \u2028\u2029 \\"q\\" \\\\ 𝔘𝔫𝔦 \u0000 Ω≈ç √ 🏳️‍🌈"}`
      for (const [n, body] of [big, unicode].entries()) {
        await tier.set(key(n), entry(clock, { body }))
        const got = (await tier.get(key(n)))?.body
        expect(got?.length).toBe(body.length)
        expect(got === body).toBe(true)
        expect(new TextEncoder().encode(got).byteLength).toBe(new TextEncoder().encode(body).byteLength)
      }
    })
  })
}

// ---------------------------------------------------------------- memory

conformance('memory', (clock) => memoryTier({ maxBytes: 8 << 20, clock }))

describe('memory tier', () => {
  const clock = testClock()
  const e = (project = 'alpha') => entry(clock, { project })

  it('answers synchronously', () => {
    const tier = memoryTier({ maxBytes: 1 << 20, clock })
    expect(tier.set(key(1), e())).toBeUndefined()
    const got = tier.get(key(1))
    expect(got).not.toBeInstanceOf(Promise)
    expect(got?.project).toBe('alpha')
  })

  it('evicts the least recently read entry first', () => {
    const one = entryBytes(key(1), e())
    const tier = memoryTier({ maxBytes: one * 3, clock })
    for (const n of [1, 2, 3]) tier.set(key(n), e())
    expect(tier.bytes).toBe(one * 3)
    tier.get(key(1)) // 2 is now the least recently read
    tier.set(key(4), e())
    expect([1, 2, 3, 4].map((n) => tier.get(key(n)) !== undefined)).toEqual([true, false, true, true])
    tier.get(key(4))
    tier.get(key(1)) // order now: 3, 4, 1
    tier.set(key(5), e())
    expect([1, 3, 4, 5].map((n) => tier.get(key(n)) !== undefined)).toEqual([true, false, true, true])
  })

  it('never holds more than maxBytes, and its byte count matches what it holds', () => {
    const rnd = prng(11)
    const maxBytes = 20_000
    const tier = memoryTier({ maxBytes, clock })
    const sizes = new Map<string, number>()
    for (let i = 0; i < 2000; i++) {
      const k = key(rnd.int(200))
      const body = 'b'.repeat(rnd.int(6000))
      const en = { ...e(), body }
      if (rnd.next() < 0.8) {
        tier.set(k, en)
        sizes.set(k, entryBytes(k, en))
      } else tier.get(k)
      expect(tier.bytes).toBeLessThanOrEqual(maxBytes)
    }
    let held = 0
    let count = 0
    for (const [k, size] of sizes) {
      if (tier.get(k) === undefined) continue
      held += size
      count++
    }
    expect(count).toBe(tier.size)
    expect(held).toBe(tier.bytes)
  })

  it('does not store an entry larger than maxBytes, and keeps the others', () => {
    const small = e()
    const tier = memoryTier({ maxBytes: entryBytes(key(1), small) + 100, clock })
    tier.set(key(1), small)
    tier.set(key(2), { ...small, body: 'x'.repeat(100) })
    expect(tier.get(key(2))).toBeUndefined()
    expect(tier.get(key(1))).toEqual(small)
  })

  it('stores nothing with maxBytes 0', () => {
    const tier = memoryTier({ maxBytes: 0, clock })
    tier.set(key(1), e())
    expect(tier.get(key(1))).toBeUndefined()
    expect(tier.size).toBe(0)
    expect(tier.bytes).toBe(0)
  })

  it('drops an expired entry when it meets it, and keeps a copy, not the caller’s object', () => {
    const c = testClock()
    const tier = memoryTier({ maxBytes: 1 << 20, clock: c })
    const mine = entry(c, { ttl: 10 })
    tier.set(key(1), mine)
    mine.body = 'changed'
    expect(tier.get(key(1))?.body).not.toBe('changed')
    c.advance(10)
    expect(tier.size).toBe(1)
    expect(tier.get(key(1))).toBeUndefined()
    expect(tier.size).toBe(0)
    expect(tier.bytes).toBe(0)
  })
})

// ---------------------------------------------------------------- sqlite

const tmp = mkdtempSync(join(tmpdir(), 'meridian-cache-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const tmpFile = () => join(tmp, randomUUID(), 'cache.db')

conformance('sqlite', (clock) => sqliteTier({ path: tmpFile(), clock }))

describe('sqlite tier', () => {
  it('answers synchronously, and keeps entries across close and reopen of the same file', () => {
    const clock = testClock()
    const path = tmpFile()
    const first = sqliteTier({ path, clock })
    expect(existsSync(path)).toBe(true)
    const e = entry(clock)
    first.set(key(1), e)
    const got = first.get(key(1))
    expect(got).not.toBeInstanceOf(Promise)
    expect(got).toEqual(e)
    first.close()
    const second = sqliteTier({ path, clock })
    expect(second.get(key(1))).toEqual(e)
    second.close()
  })

  it('sweeps expired rows every N writes, a bounded batch at a time', () => {
    const clock = testClock()
    const path = tmpFile()
    const tier = sqliteTier({ path, clock, sweepEvery: 5, sweepLimit: 2 })
    for (const n of [1, 2, 3]) tier.set(key(n), entry(clock, { ttl: 10 }))
    clock.advance(10)
    const rows = () => {
      const db = new Database(path, { readonly: true })
      const { n } = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM cache').get()!
      db.close()
      return n
    }
    tier.set(key(4), entry(clock))
    expect(rows()).toBe(4)
    tier.set(key(5), entry(clock)) // the fifth write sweeps two of the three expired rows
    expect(rows()).toBe(3)
    tier.close()
  })

  it('works in memory', () => {
    const clock = testClock()
    const tier = sqliteTier({ path: ':memory:', clock })
    tier.set(key(1), entry(clock))
    expect(tier.get(key(1))).toEqual(entry(clock))
    tier.close()
  })
})

// ---------------------------------------------------------------- redis

describe.skipIf(!redis.available)('redis', () => {
  const prefix = `meridian:test:${randomUUID()}:`
  const url = redis.url
  const opened: CacheTier[] = []
  const open = (options: Partial<Parameters<typeof redisTier>[0]> = {}) => {
    const tier = redisTier({ url, prefix, ...options })
    opened.push(tier)
    return tier
  }

  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close?.()))
    const client = new Redis(url)
    for await (const keys of client.scanStream({ match: `${prefix}*`, count: 1000 })) {
      if (keys.length > 0) await client.del(...(keys as string[]))
    }
    await client.quit()
  })

  conformance('redis', async (clock) => {
    const tier = open({ clock, prefix: `${prefix}${randomUUID()}:` })
    await tier.ready()
    return tier
  })

  describe('redis tier', () => {
    it('lets Redis itself drop an entry at its TTL, and expires the project index too', async () => {
      const tier = open()
      await tier.ready()
      const client = new Redis(url)
      const now = Date.now()
      await tier.set(key(1), {
        body: '{}',
        project: 'ttl',
        target: 't/m',
        storedAt: now,
        expiresAt: now + 120,
      })
      const pttl = await client.pttl(`${prefix}e:${key(1)}`)
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(120)
      expect(await client.pttl(`${prefix}p:ttl`)).toBeGreaterThan(0)
      await new Promise((r) => setTimeout(r, 250))
      expect(await client.exists(`${prefix}e:${key(1)}`, `${prefix}p:ttl`)).toBe(0)
      await client.quit()
    })

    it('keeps the project index in step with delete and purge', async () => {
      const tier = open()
      await tier.ready()
      const client = new Redis(url)
      const index = `${prefix}p:idx`
      const e = {
        body: '{}',
        project: 'idx',
        target: 't/m',
        storedAt: Date.now(),
        expiresAt: Date.now() + 60_000,
      }
      for (const n of [1, 2, 3]) await tier.set(key(n), e)
      expect(await client.zcard(index)).toBe(3)
      await tier.delete(key(2))
      expect(await client.zrange(index, '0', '-1')).toEqual([key(1), key(3)])
      expect(await tier.purgeProject('idx')).toBe(2)
      expect(await client.exists(index)).toBe(0)
      await client.quit()
    })

    it('purges a project larger than one script batch', async () => {
      const tier = open()
      await tier.ready()
      const e = {
        body: '{}',
        project: 'many',
        target: 't/m',
        storedAt: Date.now(),
        expiresAt: Date.now() + 60_000,
      }
      await Promise.all(Array.from({ length: 1234 }, (_, n) => tier.set(key(`many${n}`), e)))
      expect(await tier.purgeProject('many')).toBe(1234)
    })

    it('rejects at once when Redis is unreachable, reports the outage once, and never crashes', async () => {
      const errors: Error[] = []
      const tier = open({
        url: 'redis://127.0.0.1:1',
        timeoutMs: 200,
        maxBackoffMs: 20,
        onError: (e) => errors.push(e),
      })
      await expect(tier.ready()).rejects.toThrow()
      for (const op of [
        () => tier.get(key(1)),
        () => tier.set(key(1), entry(testClock())),
        () => tier.purgeProject('a'),
      ]) {
        const { ms, rejected } = await timed(op)
        expect(rejected).toBe(true)
        expect(ms).toBeLessThan(300)
      }
      await new Promise((r) => setTimeout(r, 200)) // several reconnect attempts
      expect(errors).toHaveLength(1)
    })

    it('rejects within the timeout when Redis stalls, and recovers after', async () => {
      const proxy = await tcpProxy(new URL(url))
      const tier = open({ url: proxy.url, timeoutMs: 200, maxBackoffMs: 50 })
      await tier.ready()
      await tier.set(key(1), entry(testClock()))
      proxy.stall(true)
      const { ms, rejected } = await timed(() => tier.get(key(1)))
      expect(rejected).toBe(true)
      expect(ms).toBeGreaterThanOrEqual(150)
      expect(ms).toBeLessThan(1000)
      proxy.stall(false)
      expect(await eventually(() => tier.get(key(1)), 5000)).toBeDefined()
      await proxy.close()
    })

    it('recovers by itself when Redis comes back on the same address', async () => {
      const proxy = await tcpProxy(new URL(url))
      const errors: Error[] = []
      const tier = open({ url: proxy.url, timeoutMs: 200, maxBackoffMs: 50, onError: (e) => errors.push(e) })
      await tier.ready()
      const e = entry(testClock())
      await tier.set(key(1), e)
      await proxy.close()
      for (let i = 0; i < 3; i++) {
        const { ms, rejected } = await timed(() => tier.get(key(1)))
        expect(rejected).toBe(true)
        expect(ms).toBeLessThan(100)
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(errors.length).toBeGreaterThanOrEqual(1)
      await proxy.reopen()
      expect(await eventually(() => tier.get(key(1)), 3000)).toEqual(e)
      await tier.set(key(2), e)
      expect(await tier.get(key(2))).toEqual(e)
      await proxy.close()
    })
  })
})
