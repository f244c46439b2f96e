import { createHash } from 'node:crypto'
import { memoryTier } from '../../cache/memory.js'
import type { CacheTier } from '../../cache/tier.js'
import type { CacheConfig } from '../../config/schema.js'
import type { CacheTiers } from '../../core/gateway.js'
import type { ReadinessCheck } from '../../core/runtime.js'
import { type RedisTier, redisTier } from './cache-redis.js'
import { sqliteTier } from './cache-sqlite.js'

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
  const connected = 'ready' in source ? () => (source as RedisTier).ready() : () => Promise.resolve()
  const replica = cache.replica.max_bytes > 0 ? memoryTier({ maxBytes: cache.replica.max_bytes }) : undefined
  const readiness: ReadinessCheck[] =
    source.name === 'redis'
      ? [{ name: 'cache', check: async () => void (await source.get('v1:readiness-check')) }]
      : []
  return {
    tiers: { source, replica, sha256: (text) => createHash('sha256').update(text).digest('hex') },
    readiness,
    connected,
    async close() {
      replica?.close()
      await source.close?.()
    },
  }
}

function openSource(cache: CacheConfig): CacheTier {
  const { source } = cache
  if (source === 'memory') return memoryTier({ maxBytes: MEMORY_SOURCE_BYTES })
  if (source.startsWith('sqlite:')) return sqliteTier({ path: source.slice('sqlite:'.length) })
  return redisTier({ url: source, timeoutMs: cache.timeout_ms })
}
