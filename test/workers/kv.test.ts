import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { kvCacheTier, kvKeyReplica, kvTtl, kvUsageSpill } from '../../src/adapters/workers/kv.js'
import type { CacheEntry } from '../../src/cache/tier.js'
import type { EdgeUsage } from '../../src/edge/usage.js'
import type { ReplicaKey } from '../../src/governance/governance.js'

// The edge's KV tiers, inside workerd against its KV.

const entry = (expiresAt: number): CacheEntry => ({
  body: '{"id":"chatcmpl-1","choices":[]}',
  project: 'p',
  target: 'sim/sim-small',
  storedAt: Date.now(),
  expiresAt,
})

describe('the KV cache tier', () => {
  it('stores and reads an entry, and never serves one past its expiresAt', async () => {
    let now = Date.now()
    const tier = kvCacheTier(env.CACHE, () => now)
    const stored = entry(now + 10_000)
    await tier.set('k1', stored)
    expect(await tier.get('k1')).toEqual(stored)
    now += 10_000
    expect(await tier.get('k1')).toBeUndefined()
    expect(await tier.get('never')).toBeUndefined()
    expect(await tier.delete('k1')).toBe(true)
  })

  it("writes KV's shortest expiry at least, and the entry's own when longer", () => {
    expect(kvTtl(1_000, 0)).toBe(60)
    expect(kvTtl(3_600_000, 0)).toBe(3600)
  })
})

describe('the KV key replica', () => {
  it('holds a key, or the word that it does not exist', async () => {
    const replica = kvKeyReplica(env.KEYS)
    const key: ReplicaKey = {
      hash: 'h1',
      keyId: 'k',
      project: 'p',
      expiresAt: null,
      revokedAt: null,
      models: null,
      policy: { models: { deny: ['gpt-4o'] } },
      limits: { rpm: 5 },
      projectLimits: null,
    }
    expect(await replica.get('h1')).toBeUndefined()
    await replica.put('h1', key)
    expect(await replica.get('h1')).toEqual(key)
    await replica.put('h2', 'absent')
    expect(await replica.get('h2')).toBe('absent')
  })
})

describe('usage kept in KV while the origin is away', () => {
  it('gives back what was spilled, once', async () => {
    const spill = kvUsageSpill(env.KEYS)
    const record = { id: 'edge-1', request_id: 'r1' } as EdgeUsage
    await spill.spill([record])
    await spill.spill([{ ...record, id: 'edge-2' }])
    const back = await spill.unspill()
    expect(back.map((r) => r.id).sort()).toEqual(['edge-1', 'edge-2'])
    expect(await spill.unspill()).toEqual([])
  })
})
