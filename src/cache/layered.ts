import type { CacheEntry, CacheTier } from './tier.js'

/**
 * Two tiers read as one replica: `near` (in-process memory) first, then `far` (KV), a `far` hit copied into
 * `near`; writes go to both. At the edge this spares a KV read (milliseconds) for an answer the isolate served
 * a moment ago. `near` must answer synchronously (it is memory).
 */
export function layeredTier(near: CacheTier, far: CacheTier): CacheTier {
  const remember = (key: string, entry: CacheEntry | undefined) => {
    if (entry !== undefined) void near.set(key, entry)
    return entry
  }
  return {
    name: far.name,
    get(key) {
      const close = near.get(key) as CacheEntry | undefined
      if (close !== undefined) return close
      const found = far.get(key)
      return found instanceof Promise ? found.then((e) => remember(key, e)) : remember(key, found)
    },
    set(key, entry) {
      void near.set(key, entry)
      return far.set(key, entry)
    },
    async delete(key) {
      const [a, b] = await Promise.all([near.delete(key), far.delete(key)])
      return a || b
    },
    async purgeProject(project) {
      const [a, b] = await Promise.all([near.purgeProject(project), far.purgeProject(project)])
      return a + b
    },
  }
}
