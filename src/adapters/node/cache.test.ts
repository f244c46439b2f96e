import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCacheEngine } from '../../cache/engine.js'
import type { FingerprintInput } from '../../cache/fingerprint.js'
import type { CacheEntry } from '../../cache/tier.js'
import { type CacheConfig, configSchema } from '../../config/schema.js'
import { type NodeCache, openCache } from './cache.js'

const cacheConfig = (cache: Record<string, unknown>): CacheConfig => configSchema.parse({ cache }).cache

const entry = (body: string, project = 'proj_a'): CacheEntry => ({
  body,
  project,
  target: 'openai/gpt-4o-mini',
  storedAt: Date.now(),
  expiresAt: Date.now() + 3_600_000,
})

interface Vector {
  name: string
  input: FingerprintInput
  key: string
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/cache-key-vectors.json', import.meta.url), 'utf8'),
) as Vector[]

/** Stores through an engine over the opened tiers, then looks the entry up through it. */
async function roundTrip(cache: NodeCache) {
  const engine = createCacheEngine(cache.tiers)
  await engine.store('v1:k', entry('{"id":"x"}'))
  const found = engine.lookup('v1:k')
  return found instanceof Promise ? await found : found
}

describe('openCache', () => {
  let dir: string
  const opened: NodeCache[] = []

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-cache-test-'))
  })
  afterEach(async () => {
    for (const cache of opened.splice(0)) await cache.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const open = (config: CacheConfig) => {
    const cache = openCache(config)
    opened.push(cache)
    return cache
  }

  it('memory: opens, stores, reads back and closes', async () => {
    const cache = open(cacheConfig({ source: 'memory' }))
    expect(cache.tiers.source.name).toBe('memory')
    expect(cache.readiness).toEqual([])
    await expect(cache.connected()).resolves.toBeUndefined()
    expect(await roundTrip(cache)).toMatchObject({ layer: 'edge', entry: { body: '{"id":"x"}' } })
    expect(cache.tiers.source.get('v1:k')).toMatchObject({ body: '{"id":"x"}', project: 'proj_a' })
    await cache.close()
    expect(cache.tiers.source.get('v1:k')).toBeUndefined()
  })

  it('sqlite: creates the file (and its directory), stores, reads back, and keeps the entry across a reopen', async () => {
    const path = join(dir, 'nested', 'cache.db')
    const config = cacheConfig({ source: `sqlite:${path}`, replica: { max_bytes: 0 } })
    const cache = open(config)
    expect(cache.tiers.source.name).toBe('sqlite')
    await expect(cache.connected()).resolves.toBeUndefined()
    expect(await roundTrip(cache)).toMatchObject({ layer: 'origin', entry: { body: '{"id":"x"}' } })
    expect(existsSync(path)).toBe(true)
    await cache.close()

    const again = open(config)
    const found = createCacheEngine(again.tiers).lookup('v1:k')
    expect(found instanceof Promise ? await found : found).toMatchObject({
      layer: 'origin',
      entry: { body: '{"id":"x"}', project: 'proj_a', target: 'openai/gpt-4o-mini' },
    })
  })

  it('sqlite with a replica: a read from the source is then served by the replica', async () => {
    const cache = open(cacheConfig({ source: `sqlite:${join(dir, 'cache.db')}` }))
    cache.tiers.source.set('v1:k', entry('stored'))
    const engine = createCacheEngine(cache.tiers)
    expect(engine.lookup('v1:k')).toMatchObject({ layer: 'origin', entry: { body: 'stored' } })
    expect(engine.lookup('v1:k')).toMatchObject({ layer: 'edge', entry: { body: 'stored' } })
  })

  it('has a replica by default, and none when replica.max_bytes is 0', () => {
    expect(open(cacheConfig({ source: 'memory' })).tiers.replica).toBeDefined()
    expect(open(cacheConfig({ source: 'memory', replica: { max_bytes: '1KB' } })).tiers.replica).toBeDefined()
    expect(open(cacheConfig({ source: 'memory', replica: { max_bytes: 0 } })).tiers.replica).toBeUndefined()
  })

  it('close closes the replica too', async () => {
    const cache = open(cacheConfig({ source: 'memory' }))
    cache.tiers.replica?.set('v1:k', entry('e'))
    await cache.close()
    expect(cache.tiers.replica?.get('v1:k')).toBeUndefined()
  })
})

describe("openCache's node:crypto sha256", () => {
  const { tiers } = openCache(cacheConfig({ source: 'memory', replica: { max_bytes: 0 } }))
  const fast = createCacheEngine(tiers)
  const portable = createCacheEngine({ source: tiers.source })

  it('is there, and synchronous', () => {
    expect(tiers.sha256).toBeDefined()
    expect(typeof tiers.sha256?.('')).toBe('string')
  })

  it('the fixture holds vectors', () => {
    expect(vectors.length).toBeGreaterThan(10)
  })

  it.each(vectors.map((vector) => [vector.name, vector] as const))(
    'gives the published key, synchronously, and the same as Web Crypto: %s',
    async (_name, vector) => {
      const key = fast.key(vector.input)
      expect(typeof key).toBe('string')
      expect(key).toBe(vector.key)
      expect(await portable.key(vector.input)).toBe(vector.key)
    },
  )
})
