import {
  canonicalForm,
  type FingerprintInput,
  keyOf,
  type Sha256Hex,
  webCryptoSha256Hex,
} from './fingerprint.js'
import type { CacheEntry, CacheTier } from './tier.js'

/** Where a hit came from: the in-process (or KV) replica next to the client, or the source of truth. */
export type CacheLayer = 'edge' | 'origin'

export interface CacheHit {
  entry: CacheEntry
  layer: CacheLayer
  /**
   * A source hit's write-back to the replica, in flight: a runtime that ends work with the response (Workers)
   * hands it to `waitUntil`.
   */
  writeBack?: Promise<unknown>
}

/** The source of truth could not be read: the request goes on without the cache. */
export const UNAVAILABLE = Symbol('cache unavailable')

export type Lookup = CacheHit | undefined | typeof UNAVAILABLE

/** Counters since start, for `/admin/cache/stats` and the logs. */
export interface CacheStats {
  hits: { edge: number; origin: number }
  misses: number
  /** Requests that did not read the cache: policy, `no-cache`, or the source of truth failing. */
  bypassed: number
  /** Requests served by an identical request in flight. */
  coalesced: number
  /** Answers written to the source of truth. */
  stored: number
  /** Answers not stored because they are not faithful to replay (content_filter, incomplete streams). */
  unstorable: number
  /** Failed or timed-out tier operations, by tier name. */
  errors: Record<string, number>
}

export interface CacheEngineOptions {
  /** The source of truth: Redis, SQLite or memory. */
  source: CacheTier
  /** Read before the source and written after it; absent when turned off. */
  replica?: CacheTier
  /** Defaults to Web Crypto; Node passes node:crypto's synchronous hash. */
  sha256?: Sha256Hex
  /** Told of every failed tier operation (the engine counts them; the caller decides what to log). */
  onError?: (tier: string, op: string, err: unknown) => void
  /**
   * Write-only copies elsewhere (the edge's KV, through its replication route): every stored answer is also
   * sent to them, fire-and-forget, after the source of truth has it. Never read, never awaited.
   */
  mirrors?: readonly CacheTier[]
}

export interface CacheEngine {
  readonly stats: CacheStats
  /** The fingerprint key of a request (see docs/cache-key.md). */
  key(input: FingerprintInput): string | Promise<string>
  /** Replica, then source of truth. Synchronous when the tiers are (in-process replica, SQLite). */
  lookup(key: string): Lookup | Promise<Lookup>
  /** Source of truth, then the replica; fire-and-forget, failures counted. Settles when both writes have. */
  store(key: string, entry: CacheEntry): Promise<void>
  /** Removes one entry from every tier; counts per tier. */
  purgeKey(key: string): Promise<{ source: number; replica: number }>
  purgeProject(project: string): Promise<{ source: number; replica: number }>
  close(): Promise<void>
}

/**
 * The two-tier cache: read replica → source of truth; write source of truth → replica. A tier that throws or
 * rejects is skipped and counted (fail open): the request goes upstream as if it had missed. A hit in the
 * source is written back to the replica in the background.
 */
export function createCacheEngine(options: CacheEngineOptions): CacheEngine {
  const { source, replica } = options
  const sha256 = options.sha256 ?? webCryptoSha256Hex
  const stats: CacheStats = {
    hits: { edge: 0, origin: 0 },
    misses: 0,
    bypassed: 0,
    coalesced: 0,
    stored: 0,
    unstorable: 0,
    errors: {},
  }
  const failed = (tier: CacheTier, op: string, err: unknown) => {
    stats.errors[tier.name] = (stats.errors[tier.name] ?? 0) + 1
    options.onError?.(tier.name, op, err)
  }
  /** Runs a tier operation, sync or async, turning a throw or rejection into `fallback`. */
  const attempt = <T, F>(tier: CacheTier, op: string, run: () => T | Promise<T>, fallback: F) => {
    try {
      const result = run()
      if (result instanceof Promise) {
        return result.catch((err: unknown) => {
          failed(tier, op, err)
          return fallback
        })
      }
      return result
    } catch (err) {
      failed(tier, op, err)
      return fallback
    }
  }

  const fromSource = (key: string): Lookup | Promise<Lookup> => {
    const found = attempt(source, 'get', () => source.get(key), UNAVAILABLE)
    return found instanceof Promise
      ? found.then((entry) => sourceAnswer(key, entry))
      : sourceAnswer(key, found)
  }
  const sourceAnswer = (key: string, entry: CacheEntry | undefined | typeof UNAVAILABLE): Lookup => {
    if (entry === UNAVAILABLE) return UNAVAILABLE
    if (entry === undefined) {
      stats.misses++
      return undefined
    }
    stats.hits.origin++
    if (replica === undefined) return { entry, layer: 'origin' }
    const written = attempt(replica, 'set', () => replica.set(key, entry), undefined)
    return written instanceof Promise
      ? { entry, layer: 'origin', writeBack: written }
      : { entry, layer: 'origin' }
  }
  const replicaAnswer = (key: string, entry: CacheEntry | undefined): Lookup | Promise<Lookup> => {
    if (entry === undefined) return fromSource(key)
    stats.hits.edge++
    return { entry, layer: 'edge' }
  }

  const bothTiers = async (op: (tier: CacheTier) => number | boolean | Promise<number | boolean>) => {
    const count = async (tier: CacheTier | undefined) => (tier ? Number(await op(tier)) : 0)
    const [s, r] = await Promise.all([count(source), count(replica)])
    return { source: s, replica: r }
  }

  return {
    stats,
    key(input) {
      const hex = sha256(canonicalForm(input))
      return typeof hex === 'string' ? keyOf(hex) : hex.then(keyOf)
    },
    lookup(key) {
      if (replica === undefined) return fromSource(key)
      const found = attempt(replica, 'get', () => replica.get(key), undefined)
      return found instanceof Promise
        ? found.then((entry) => replicaAnswer(key, entry))
        : replicaAnswer(key, found)
    },
    async store(key, entry) {
      const failed = Symbol()
      if ((await attempt(source, 'set', () => source.set(key, entry), failed)) !== failed) stats.stored++
      for (const mirror of options.mirrors ?? [])
        void attempt(mirror, 'set', () => mirror.set(key, entry), undefined)
      if (replica) await attempt(replica, 'set', () => replica.set(key, entry), undefined)
    },
    purgeKey: (key) => bothTiers((tier) => tier.delete(key)),
    purgeProject: (project) => bothTiers((tier) => tier.purgeProject(project)),
    async close() {
      await replica?.close?.()
      await source.close?.()
    },
  }
}
