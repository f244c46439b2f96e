import type { CacheConfig, CacheRule } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'

/** What the cache may do for one request. */
export interface CachePlan {
  /** Serve from the cache (and join an identical request in flight). `Cache-Control: no-cache` turns it off. */
  read: boolean
  /** Store the answer. `Cache-Control: no-store` (or a TTL of 0) turns it off. */
  write: boolean
  ttlMs: number
}

const TTL = /^\d+$/

/**
 * Decides whether a chat request uses the cache, or `undefined` to bypass it. `off` in the project's or the
 * model's rule wins; otherwise the model's rule, then the project's, then `cache.mode` decide. `deterministic`
 * caches only what should answer the same every time: temperature 0, or a seed.
 */
export function cachePlan(
  cache: CacheConfig,
  project: CacheRule | undefined,
  model: CacheRule | undefined,
  body: { temperature?: unknown; seed?: unknown },
  headers: Headers,
): CachePlan | undefined {
  if (project?.mode === 'off' || model?.mode === 'off') return undefined
  const mode = model?.mode ?? project?.mode ?? cache.mode
  if (mode === 'off') return undefined
  if (mode === 'deterministic' && body.temperature !== 0 && typeof body.seed !== 'number') return undefined

  let read = true
  let write = true
  const control = headers.get('cache-control')
  if (control !== null) {
    for (const part of control.split(',')) {
      const directive = part.trim().toLowerCase()
      if (directive === 'no-cache') read = false
      else if (directive === 'no-store') write = false
    }
  }
  let ttlMs = model?.ttl ?? project?.ttl ?? cache.ttl.default
  const asked = headers.get('x-meridian-cache-ttl')
  if (asked !== null) {
    if (!TTL.test(asked.trim())) {
      throw new GatewayError(
        'MERIDIAN_INVALID_REQUEST',
        `x-meridian-cache-ttl must be a whole number of seconds, got "${asked.slice(0, 32)}"`,
      )
    }
    ttlMs = Number(asked.trim()) * 1000
  }
  ttlMs = Math.min(ttlMs, cache.ttl.max)
  if (ttlMs === 0) write = false
  if (!read && !write) return undefined
  return { read, write, ttlMs }
}
