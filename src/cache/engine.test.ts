import { createHash } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { type CacheEngineOptions, createCacheEngine, UNAVAILABLE } from './engine.js'
import { type FingerprintInput, fingerprint } from './fingerprint.js'
import { type MemoryTier, memoryTier } from './memory.js'
import type { CacheEntry, CacheTier } from './tier.js'

const HOUR = 3_600_000

const entry = (body: string, project = 'proj_a'): CacheEntry => ({
  body,
  project,
  target: 'openai/gpt-4o-mini',
  storedAt: Date.now(),
  expiresAt: Date.now() + HOUR,
})

/** A memory tier under another name, so errors and hits can be told apart per tier. */
const named = (name: string): MemoryTier => Object.assign(memoryTier({ maxBytes: 1 << 20 }), { name })

/** The same tier answering through promises, each settling on a later turn of the event loop. */
function asAsync(tier: MemoryTier): CacheTier {
  const later = <T>(run: () => T) =>
    new Promise<T>((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(run())
        } catch (err) {
          reject(err)
        }
      }),
    )
  return {
    name: `async-${tier.name}`,
    get: (key) => later(() => tier.get(key)),
    set: (key, value) => later(() => tier.set(key, value)),
    delete: (key) => later(() => tier.delete(key)),
    purgeProject: (project) => later(() => tier.purgeProject(project)),
    close: () => later(() => tier.close()),
  }
}

type Failure = 'throw' | 'reject'

/** A tier whose every operation fails, synchronously or by rejecting. */
function failing(name: string, how: Failure): CacheTier & { calls: string[] } {
  const calls: string[] = []
  const fail = (op: string) => {
    calls.push(op)
    const err = new Error(`${name} ${op} failed`)
    if (how === 'throw') throw err
    return Promise.reject(err)
  }
  return {
    name,
    calls,
    get: () => fail('get') as never,
    set: () => fail('set') as never,
    delete: () => fail('delete') as never,
    purgeProject: () => fail('purgeProject') as never,
  }
}

const isPromise = (value: unknown) => value instanceof Promise

const nodeSha256 = (text: string) => createHash('sha256').update(text).digest('hex')

describe.each([
  { kind: 'sync tiers', wrap: (tier: MemoryTier): CacheTier => tier },
  { kind: 'async tiers', wrap: asAsync },
])('createCacheEngine with $kind', ({ wrap }) => {
  const setup = (extra: Partial<CacheEngineOptions> = {}) => {
    const sourceMemory = named('source')
    const replicaMemory = named('replica')
    const engine = createCacheEngine({ source: wrap(sourceMemory), replica: wrap(replicaMemory), ...extra })
    return { engine, sourceMemory, replicaMemory }
  }

  it('misses when neither tier has the key', async () => {
    const { engine } = setup()
    expect(await engine.lookup('v1:nothing')).toBeUndefined()
    expect(engine.stats.misses).toBe(1)
    expect(engine.stats.hits).toEqual({ edge: 0, origin: 0 })
  })

  it('reads the replica first: an entry there is an edge hit, the source is not asked', async () => {
    const { engine, sourceMemory, replicaMemory } = setup()
    const inReplica = entry('from the replica')
    replicaMemory.set('k', inReplica)
    sourceMemory.set('k', entry('from the source'))
    const found = await engine.lookup('k')
    expect(found).not.toBe(UNAVAILABLE)
    expect(found).toMatchObject({ layer: 'edge', entry: { body: 'from the replica' } })
    expect(engine.stats.hits).toEqual({ edge: 1, origin: 0 })
    expect(engine.stats.misses).toBe(0)
  })

  it('goes on to the source on a replica miss, and writes the hit back to the replica', async () => {
    const { engine, sourceMemory, replicaMemory } = setup()
    sourceMemory.set('k', entry('stored'))
    expect(await engine.lookup('k')).toMatchObject({ layer: 'origin', entry: { body: 'stored' } })
    await vi.waitFor(() => expect(replicaMemory.get('k')?.body).toBe('stored'))
    expect(await engine.lookup('k')).toMatchObject({ layer: 'edge', entry: { body: 'stored' } })
    expect(engine.stats.hits).toEqual({ edge: 1, origin: 1 })
    expect(engine.stats.misses).toBe(0)
  })

  it('store writes both tiers, and counts', async () => {
    const { engine, sourceMemory, replicaMemory } = setup()
    await engine.store('k', entry('answer'))
    expect(sourceMemory.get('k')?.body).toBe('answer')
    expect(replicaMemory.get('k')?.body).toBe('answer')
    expect(engine.stats.stored).toBe(1)
  })

  it('purgeKey says, per tier, whether the key was there', async () => {
    const { engine, sourceMemory } = setup()
    await engine.store('both', entry('a'))
    sourceMemory.set('source-only', entry('b'))
    expect(await engine.purgeKey('both')).toEqual({ source: 1, replica: 1 })
    expect(await engine.purgeKey('source-only')).toEqual({ source: 1, replica: 0 })
    expect(await engine.purgeKey('both')).toEqual({ source: 0, replica: 0 })
    expect(await engine.lookup('both')).toBeUndefined()
  })

  it('purgeProject counts the entries removed from each tier, and leaves other projects alone', async () => {
    const { engine, sourceMemory, replicaMemory } = setup()
    await engine.store('a1', entry('1', 'a'))
    await engine.store('a2', entry('2', 'a'))
    sourceMemory.set('a3', entry('3', 'a'))
    await engine.store('b1', entry('4', 'b'))
    expect(await engine.purgeProject('a')).toEqual({ source: 3, replica: 2 })
    expect(sourceMemory.size).toBe(1)
    expect(replicaMemory.get('b1')?.body).toBe('4')
    expect(await engine.purgeProject('a')).toEqual({ source: 0, replica: 0 })
  })

  it.each<Failure>(['throw', 'reject'])(
    'a source whose get fails (%s) is UNAVAILABLE, counted and reported',
    async (how) => {
      const onError = vi.fn()
      const replicaMemory = named('replica')
      const engine = createCacheEngine({
        source: failing('broken', how),
        replica: wrap(replicaMemory),
        onError,
      })
      expect(await engine.lookup('k')).toBe(UNAVAILABLE)
      expect(engine.stats.errors).toEqual({ broken: 1 })
      expect(engine.stats.misses).toBe(0)
      expect(onError).toHaveBeenCalledTimes(1)
      expect(onError).toHaveBeenCalledWith('broken', 'get', expect.any(Error))
    },
  )

  it.each<Failure>(['throw', 'reject'])(
    'a replica that fails (%s) is skipped: the source answers',
    async (how) => {
      const onError = vi.fn()
      const sourceMemory = named('source')
      sourceMemory.set('k', entry('stored'))
      const replica = failing('flaky', how)
      const engine = createCacheEngine({ source: wrap(sourceMemory), replica, onError })
      expect(await engine.lookup('k')).toMatchObject({ layer: 'origin', entry: { body: 'stored' } })
      expect(await engine.lookup('missing')).toBeUndefined()
      // Two failed reads and the write-back of the hit.
      await vi.waitFor(() => expect(engine.stats.errors).toEqual({ flaky: 3 }))
      expect(replica.calls).toEqual(['get', 'set', 'get'])
      expect(onError).toHaveBeenCalledWith('flaky', 'get', expect.any(Error))
      expect(onError).toHaveBeenCalledWith('flaky', 'set', expect.any(Error))
      expect(engine.stats.hits.origin).toBe(1)
      expect(engine.stats.misses).toBe(1)
    },
  )

  it.each<Failure>(['throw', 'reject'])(
    'store with a source that fails (%s) still writes the replica and resolves',
    async (how) => {
      const onError = vi.fn()
      const replicaMemory = named('replica')
      const engine = createCacheEngine({
        source: failing('broken', how),
        replica: wrap(replicaMemory),
        onError,
      })
      await expect(engine.store('k', entry('answer'))).resolves.toBeUndefined()
      expect(replicaMemory.get('k')?.body).toBe('answer')
      expect(engine.stats.errors).toEqual({ broken: 1 })
      expect(onError).toHaveBeenCalledWith('broken', 'set', expect.any(Error))
    },
  )

  it('store resolves when both tiers fail', async () => {
    const engine = createCacheEngine({ source: failing('s', 'reject'), replica: failing('r', 'throw') })
    await expect(engine.store('k', entry('answer'))).resolves.toBeUndefined()
    expect(engine.stats.errors).toEqual({ s: 1, r: 1 })
  })

  it('works without a replica', async () => {
    const sourceMemory = named('source')
    const engine = createCacheEngine({ source: wrap(sourceMemory) })
    await engine.store('k', entry('answer', 'p'))
    expect(await engine.lookup('k')).toMatchObject({ layer: 'origin', entry: { body: 'answer' } })
    expect(await engine.purgeProject('p')).toEqual({ source: 1, replica: 0 })
  })
})

describe('createCacheEngine: the key', () => {
  const inputs: FingerprintInput[] = [
    {
      op: 'chat',
      project: 'proj_a',
      keyVersion: 1,
      model: 'gpt-4o-mini',
      targets: ['openai/gpt-4o-mini'],
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], temperature: 0 },
    },
    {
      op: 'chat',
      project: 'proj é "quoted"',
      keyVersion: 7,
      model: 'm',
      targets: ['a/m', 'b/m'],
      body: { messages: [{ role: 'user', content: '日本語 😀' }], stop: 'END', seed: 3 },
    },
    { op: 'embeddings', project: 'p', keyVersion: 1, model: 'e', targets: ['openai/e'], body: {} },
  ]

  it.each(inputs)(
    'is the same with Web Crypto, with node:crypto, and as fingerprint() ($project)',
    async (input) => {
      const source = memoryTier({ maxBytes: 1024 })
      const web = createCacheEngine({ source }).key(input)
      const node = createCacheEngine({ source, sha256: nodeSha256 }).key(input)
      expect(isPromise(web)).toBe(true)
      expect(typeof node).toBe('string')
      expect(node).toMatch(/^v1:[0-9a-f]{64}$/)
      expect(await web).toBe(node)
      expect(await fingerprint(input)).toBe(node)
    },
  )

  it('differs between inputs', async () => {
    const engine = createCacheEngine({ source: memoryTier({ maxBytes: 1024 }), sha256: nodeSha256 })
    expect(new Set(inputs.map((input) => engine.key(input))).size).toBe(inputs.length)
  })
})

describe('createCacheEngine: the hot path has no await', () => {
  it('with sync tiers, every lookup outcome comes back without a promise', () => {
    const source = named('source')
    const replica = named('replica')
    const engine = createCacheEngine({ source, replica, sha256: nodeSha256 })
    source.set('origin', entry('o'))
    replica.set('edge', entry('e'))

    const edge = engine.lookup('edge')
    const origin = engine.lookup('origin')
    const miss = engine.lookup('miss')
    expect([edge, origin, miss].some(isPromise)).toBe(false)
    expect(edge).toMatchObject({ layer: 'edge' })
    expect(origin).toMatchObject({ layer: 'origin' })
    expect(miss).toBeUndefined()
    // The write-back of a sync replica happened before lookup returned.
    expect(engine.lookup('origin')).toMatchObject({ layer: 'edge' })
  })

  it('a source failing synchronously is UNAVAILABLE synchronously, a failing replica is skipped synchronously', () => {
    const broken = createCacheEngine({ source: failing('s', 'throw'), replica: named('replica') })
    expect(broken.lookup('k')).toBe(UNAVAILABLE)
    const source = named('source')
    source.set('k', entry('stored'))
    const skipping = createCacheEngine({ source, replica: failing('r', 'throw') })
    const found = skipping.lookup('k')
    expect(isPromise(found)).toBe(false)
    expect(found).toMatchObject({ layer: 'origin' })
  })

  it('a hit returns the stored object itself', () => {
    const replica = named('replica')
    const engine = createCacheEngine({ source: named('source'), replica })
    replica.set('k', entry('e'))
    const found = engine.lookup('k')
    expect(found !== UNAVAILABLE && !isPromise(found) && found?.entry).toBe(replica.get('k'))
  })

  it('an async tier makes lookup a promise', () => {
    const engine = createCacheEngine({ source: asAsync(named('source')) })
    const found = engine.lookup('k')
    expect(isPromise(found)).toBe(true)
    return found
  })
})

describe('createCacheEngine: close', () => {
  it('closes the replica and the source', async () => {
    const source = named('source')
    const replica = named('replica')
    source.set('k', entry('a'))
    replica.set('k', entry('a'))
    await createCacheEngine({ source, replica }).close()
    expect(source.size).toBe(0)
    expect(replica.size).toBe(0)
  })
})
