import { describe, expect, it } from 'vitest'
import { type CacheConfig, type CacheRule, cacheRuleSchema, configSchema } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import { cachePlan } from './policy.js'

/** The `cache` section as the gateway sees it: parsed by the real schema, so every default is the real one. */
const cacheConfig = (cache: Record<string, unknown> = {}): CacheConfig => configSchema.parse({ cache }).cache
const rule = (input: Record<string, unknown>): CacheRule => cacheRuleSchema.parse(input)
const headers = (init: Record<string, string> = {}) => new Headers(init)

const always = cacheConfig({ mode: 'always' })
const ZERO = { temperature: 0 }

/** The plan for a request that every mode caches (temperature 0), under the given rules. */
const plan = (
  cache: CacheConfig,
  h: Record<string, string> = {},
  project?: CacheRule,
  model?: CacheRule,
  body: { temperature?: unknown; seed?: unknown } = ZERO,
) => cachePlan(cache, project, model, body, headers(h))

const rejected = (run: () => unknown): GatewayError => {
  try {
    run()
  } catch (err) {
    if (err instanceof GatewayError) return err
    throw err
  }
  throw new Error('expected a GatewayError, nothing was thrown')
}

describe('cachePlan: modes', () => {
  it('off: bypasses even a temperature-0 request', () => {
    expect(plan(cacheConfig({ mode: 'off' }))).toBeUndefined()
  })

  it('always: caches a request with neither temperature 0 nor a seed', () => {
    expect(plan(always, {}, undefined, undefined, { temperature: 0.7 })).toEqual({
      read: true,
      write: true,
      ttlMs: always.ttl.default,
    })
    expect(plan(always, {}, undefined, undefined, {})).toBeDefined()
  })

  it('deterministic is the default mode', () => {
    const cache = cacheConfig()
    expect(cache.mode).toBe('deterministic')
    expect(plan(cache, {}, undefined, undefined, { temperature: 1 })).toBeUndefined()
    expect(plan(cache, {}, undefined, undefined, ZERO)).toBeDefined()
  })
})

describe('cachePlan: deterministic means temperature === 0 or a numeric seed', () => {
  const cache = cacheConfig({ mode: 'deterministic' })
  const decide = (body: { temperature?: unknown; seed?: unknown }) =>
    cachePlan(cache, undefined, undefined, body, headers())

  it('caches temperature 0, written 0 or 0.0 in the JSON body', () => {
    expect(decide(JSON.parse('{"temperature":0}'))).toBeDefined()
    expect(decide(JSON.parse('{"temperature":0.0}'))).toBeDefined()
  })

  it('does not cache temperature "0" (a string), a non-zero temperature, or no temperature', () => {
    expect(decide({ temperature: '0' })).toBeUndefined()
    expect(decide({ temperature: 0.01 })).toBeUndefined()
    expect(decide({ temperature: null })).toBeUndefined()
    expect(decide({})).toBeUndefined()
  })

  it('caches any numeric seed, whatever the temperature, but not a seed given as a string', () => {
    expect(decide({ seed: 42 })).toBeDefined()
    expect(decide({ seed: 0, temperature: 1.2 })).toBeDefined()
    expect(decide({ seed: '42' })).toBeUndefined()
    expect(decide({ seed: null, temperature: 1 })).toBeUndefined()
  })
})

describe('cachePlan: precedence of modes', () => {
  it("off in the project wins over the model's always", () => {
    expect(plan(always, {}, rule({ mode: 'off' }), rule({ mode: 'always' }))).toBeUndefined()
  })

  it("off in the model wins over the project's always", () => {
    expect(plan(always, {}, rule({ mode: 'always' }), rule({ mode: 'off' }))).toBeUndefined()
  })

  it("the model's mode comes before the project's", () => {
    const warm = { temperature: 0.9 }
    const cache = cacheConfig({ mode: 'off' })
    expect(plan(cache, {}, rule({ mode: 'deterministic' }), rule({ mode: 'always' }), warm)).toBeDefined()
    expect(plan(cache, {}, rule({ mode: 'always' }), rule({ mode: 'deterministic' }), warm)).toBeUndefined()
  })

  it("the project's mode comes before cache.mode, in both directions", () => {
    const warm = { temperature: 0.9 }
    expect(plan(cacheConfig({ mode: 'off' }), {}, rule({ mode: 'always' }), undefined, warm)).toBeDefined()
    expect(plan(always, {}, rule({ mode: 'deterministic' }), undefined, warm)).toBeUndefined()
  })

  it('a rule without a mode falls through to the next one', () => {
    const warm = { temperature: 0.9 }
    expect(plan(always, {}, rule({ ttl: '1h' }), rule({ ttl: '2h' }), warm)).toBeDefined()
    expect(plan(cacheConfig({ mode: 'off' }), {}, rule({ ttl: '1h' }), rule({ ttl: '2h' }))).toBeUndefined()
  })
})

describe('cachePlan: Cache-Control', () => {
  it('no-cache turns reading off and keeps writing', () => {
    expect(plan(always, { 'cache-control': 'no-cache' })).toMatchObject({ read: false, write: true })
  })

  it('no-store turns writing off and keeps reading', () => {
    expect(plan(always, { 'cache-control': 'no-store' })).toMatchObject({ read: true, write: false })
  })

  it('both together bypass the cache', () => {
    expect(plan(always, { 'cache-control': 'no-cache, no-store' })).toBeUndefined()
  })

  it('is case-insensitive and finds the directive among others', () => {
    expect(plan(always, { 'cache-control': 'max-age=0, No-Store' })).toMatchObject({
      read: true,
      write: false,
    })
    expect(plan(always, { 'cache-control': 'NO-CACHE' })).toMatchObject({ read: false, write: true })
    expect(plan(always, { 'cache-control': 'No-Store,no-CACHE' })).toBeUndefined()
  })

  it('reads directives from repeated header lines', () => {
    const h = new Headers()
    h.append('cache-control', 'no-cache')
    h.append('cache-control', 'no-store')
    expect(cachePlan(always, undefined, undefined, ZERO, h)).toBeUndefined()
  })

  it('ignores other directives and look-alikes', () => {
    const other = { 'cache-control': 'private, no-transform, max-age=0, no-stored' }
    expect(plan(always, other)).toEqual({ read: true, write: true, ttlMs: always.ttl.default })
  })
})

describe('cachePlan: TTL', () => {
  const cache = cacheConfig({ mode: 'always', ttl: { default: '10m', max: '2h' } })

  it("takes the model's ttl before the project's, and the project's before cache.ttl.default", () => {
    const project = rule({ ttl: '30m' })
    const model = rule({ ttl: '20m' })
    expect(new Set([project.ttl, model.ttl, cache.ttl.default]).size).toBe(3)
    expect(plan(cache, {}, project, model)?.ttlMs).toBe(model.ttl)
    expect(plan(cache, {}, project, undefined)?.ttlMs).toBe(project.ttl)
    expect(plan(cache, {}, project, rule({ mode: 'always' }))?.ttlMs).toBe(project.ttl)
    expect(plan(cache, {}, undefined, undefined)?.ttlMs).toBe(cache.ttl.default)
  })

  it('uses the real defaults when the config names none', () => {
    const defaults = cacheConfig({ mode: 'always' })
    expect(plan(defaults)?.ttlMs).toBe(defaults.ttl.default)
    expect(defaults.ttl.default).toBeGreaterThan(0)
    expect(defaults.ttl.default).toBeLessThan(defaults.ttl.max)
  })

  it('caps a rule asking for more than cache.ttl.max', () => {
    expect(plan(cache, {}, undefined, rule({ ttl: '3h' }))?.ttlMs).toBe(cache.ttl.max)
    expect(plan(cache, {}, rule({ ttl: '1d' }), undefined)?.ttlMs).toBe(cache.ttl.max)
  })

  it('a rule ttl of 0 turns writing off', () => {
    expect(plan(cache, {}, undefined, rule({ ttl: 0 }))).toEqual({ read: true, write: false, ttlMs: 0 })
  })
})

describe('cachePlan: x-meridian-cache-ttl', () => {
  const cache = cacheConfig({ mode: 'always', ttl: { default: '10m', max: '2h' } })
  const ttl = (value: string, model?: CacheRule) =>
    plan(cache, { 'x-meridian-cache-ttl': value }, undefined, model)

  it('is whole seconds, and wins over the rules', () => {
    expect(ttl('90')?.ttlMs).toBe(90 * 1000)
    expect(ttl('90', rule({ ttl: '20m' }))?.ttlMs).toBe(90 * 1000)
    expect(ttl(' 45 ')?.ttlMs).toBe(45 * 1000)
  })

  it('is capped at cache.ttl.max', () => {
    expect(ttl(String(cache.ttl.max / 1000 + 1))?.ttlMs).toBe(cache.ttl.max)
    expect(ttl('9999999999')?.ttlMs).toBe(cache.ttl.max)
  })

  it('0 keeps reading and turns writing off', () => {
    expect(ttl('0')).toEqual({ read: true, write: false, ttlMs: 0 })
  })

  it('0 together with no-cache bypasses the cache', () => {
    expect(plan(cache, { 'x-meridian-cache-ttl': '0', 'cache-control': 'no-cache' })).toBeUndefined()
  })

  it.each(['1h', '-1', '1.5', ' ', '', '+5', '0x10', '1e3', 'abc'])(
    'rejects %j with MERIDIAN_INVALID_REQUEST',
    (value) => {
      const err = rejected(() => ttl(value))
      expect(err.code).toBe('MERIDIAN_INVALID_REQUEST')
      expect(err.status).toBe(400)
      expect(err.message).toContain('x-meridian-cache-ttl')
    },
  )

  it('is not looked at when the policy bypasses the cache anyway', () => {
    const off = cacheConfig({ mode: 'off' })
    expect(plan(off, { 'x-meridian-cache-ttl': '1h' })).toBeUndefined()
  })
})
