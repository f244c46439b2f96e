import { memoryTier } from '../../cache/memory.js'
import type { CacheTier } from '../../cache/tier.js'
import type { CacheConfig } from '../../config/schema.js'
import type { CacheTiers } from '../../core/gateway.js'
import type { ReadinessCheck } from '../../core/runtime.js'
import { redisTier } from './cache-redis.js'
import { sqliteTier } from './cache-sqlite.js'
import { sha256Hex } from './sha256.js'

/** The `memory` source's bound: it is meant for tests and demos, not for holding a production cache. */
const MEMORY_SOURCE_BYTES = 256 * 1024 * 1024

export interface NodeCache {
  tiers: CacheTiers
  /** Present for a Redis source: `GET /ready` checks it answers. */
  readiness: ReadinessCheck[]
  /**
   * Resolves once the source of truth is connected, or rejects with why not. The gateway starts either way
   * (the cache fails open); waiting only spares the first requests a needless bypass.
   */
  connected(): Promise<void>
  close(): Promise<void>
}

/** Builds the cache tiers `cache` describes: the source of truth, the in-process replica, node:crypto's hash. */
export function openCache(cache: CacheConfig): NodeCache {
  const source = openSource(cache)
  const replica = cache.replica.max_bytes > 0 ? memoryTier({ maxBytes: cache.replica.max_bytes }) : undefined
  return {
    tiers: {
      source: source.tier,
      replica,
      sha256: sha256Hex,
    },
    readiness: source.readiness,
    connected: source.connected,
    async close() {
      replica?.close()
      await source.tier.close?.()
    },
  }
}

function openSource(cache: CacheConfig): Pick<NodeCache, 'readiness' | 'connected'> & { tier: CacheTier } {
  const { source } = cache
  const local = { readiness: [], connected: () => Promise.resolve() }
  if (source === 'memory') return { ...local, tier: memoryTier({ maxBytes: MEMORY_SOURCE_BYTES }) }
  if (source.startsWith('sqlite:')) {
    return { ...local, tier: sqliteTier({ path: source.slice('sqlite:'.length) }) }
  }
  const tier = redisTier({ url: source, timeoutMs: cache.timeout_ms })
  return {
    tier,
    // A real round trip: a read of a key that never exists.
    readiness: [{ name: 'cache', check: async () => void (await tier.get('v1:readiness-check')) }],
    connected: () => tier.ready(),
  }
}
