/**
 * The cache-tier contract. A tier stores completed answers under a fingerprint key (see fingerprint.ts).
 * The origin reads an edge replica first (in-process LRU on Node, KV on Workers), then its source of truth
 * (Redis, SQLite or memory). Tiers are dumb stores: policy, timeouts and fail-open live in the cache engine.
 */

/** One stored answer. */
export interface CacheEntry {
  /** The answer as OpenAI's non-stream JSON body, whichever way it was produced (stream or not). */
  body: string
  /** The project (tenant) it belongs to; purge by project uses it. The key already binds it too. */
  project: string
  /** `provider/model` of the target that produced it. */
  target: string
  /** When it was stored, epoch ms (the `age` header counts from here). */
  storedAt: number
  /** When it stops being served, epoch ms. A tier never returns an entry at or past this time. */
  expiresAt: number
}

/**
 * A place entries live. In-process tiers answer synchronously (no promise, no await on the hot path);
 * remote ones return promises. Implementations must not throw synchronously for a remote failure: they
 * reject, and the engine skips the tier.
 */
export interface CacheTier {
  /** Short name for headers, logs and metrics: `memory`, `sqlite`, `redis`, `kv`. */
  readonly name: string
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>
  /** Stores or replaces; the entry's own `expiresAt` bounds its life. */
  set(key: string, entry: CacheEntry): void | Promise<void>
  /** Whether an entry was removed. */
  delete(key: string): boolean | Promise<boolean>
  /** Removes every entry of a project; returns how many. */
  purgeProject(project: string): number | Promise<number>
  /** Releases connections and handles. */
  close?(): void | Promise<void>
}
