import type { CacheEntry, CacheTier } from '../../cache/tier.js'
import { type Clock, systemClock } from '../../core/clock.js'
import { type RedisStoreOptions, redisConnection } from './redis-connection.js'

export interface RedisTierOptions extends RedisStoreOptions {
  /** Namespace of every key this tier writes (default `meridian:cache:`). */
  prefix?: string
  /** A command without a reply by then rejects (default 500 ms). */
  timeoutMs?: number
  clock?: Pick<Clock, 'epoch'>
}

/** A Redis tier, and a way to wait for its first connection. */
export type RedisTier = CacheTier & {
  /** Resolves once connected; rejects with the first connection error, or if the tier is closed. */
  ready(): Promise<void>
}

// Entries are hashes at `prefix e:<key>`; each project has a ZSET at `prefix p:<project>` of its keys
// scored by expiresAt. Scripts keep the two consistent atomically, in one round trip each.

/** KEYS: entry, project index. ARGV: body, project, target, storedAt, expiresAt, ttl, now, key, index prefix. */
const SET = `
local old = redis.call('HGET', KEYS[1], 'project')
if old and old ~= ARGV[2] then redis.call('ZREM', ARGV[9] .. old, ARGV[8]) end
redis.call('HSET', KEYS[1], 'body', ARGV[1], 'project', ARGV[2], 'target', ARGV[3],
  'storedAt', ARGV[4], 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[6]) then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
`

/** KEYS: entry. ARGV: key, index prefix, now. Returns 1 if a live entry was removed. */
const DELETE = `
local f = redis.call('HMGET', KEYS[1], 'project', 'expiresAt')
if not f[1] then return 0 end
redis.call('ZREM', ARGV[2] .. f[1], ARGV[1])
redis.call('DEL', KEYS[1])
if tonumber(f[2]) > tonumber(ARGV[3]) then return 1 end
return 0
`

/**
 * KEYS: project index. ARGV: entry prefix, project, now, batch. Pops up to `batch` keys and deletes those
 * still of the project (a key may have been rewritten for another one). Returns { live deleted, left }.
 */
const PURGE = `
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[4])
local n = 0
for i = 1, #popped, 2 do
  local k = ARGV[1] .. popped[i]
  local f = redis.call('HMGET', k, 'project', 'expiresAt')
  if f[1] == ARGV[2] then
    redis.call('DEL', k)
    if tonumber(f[2]) > tonumber(ARGV[3]) then n = n + 1 end
  end
end
return { n, redis.call('ZCARD', KEYS[1]) }
`

/** Keys a purge script handles per call, so one big project never blocks Redis for long. */
const PURGE_BATCH = 500

type Arg = string | number
interface Scripts {
  cacheSet(entry: string, index: string, ...argv: Arg[]): Promise<unknown>
  cacheDelete(entry: string, ...argv: Arg[]): Promise<number>
  cachePurge(index: string, ...argv: Arg[]): Promise<[number, number]>
}

/**
 * A cache tier in Redis: the source of truth shared by several origins. It fails fast rather than wait:
 * no offline queue, no retried commands, a command timeout, so a request never hangs on a dead Redis; the
 * connection comes back by itself with a capped backoff. Errors are never thrown as events nor logged;
 * `onError` hears about outages.
 *
 * @example
 * const tier = redisTier({ url: 'redis://127.0.0.1:6379', onError: (e) => log.warn('redis', { e }) })
 * await tier.ready()
 * await tier.get(key) // CacheEntry | undefined
 */
export function redisTier(options: RedisTierOptions): RedisTier {
  const prefix = options.prefix ?? 'meridian:cache:'
  const clock = options.clock ?? systemClock
  const entryPrefix = `${prefix}e:`
  const indexPrefix = `${prefix}p:`
  const connection = redisConnection<Scripts>({
    url: options.url,
    timeoutMs: options.timeoutMs ?? 500,
    connectTimeoutMs: options.connectTimeoutMs,
    maxBackoffMs: options.maxBackoffMs,
    onError: options.onError,
    name: 'redis tier',
    scripts: {
      cacheSet: { lua: SET, numberOfKeys: 2 },
      cacheDelete: { lua: DELETE, numberOfKeys: 1 },
      cachePurge: { lua: PURGE, numberOfKeys: 1 },
    },
  })
  const { client } = connection

  const remove = (key: string) =>
    client.cacheDelete(entryPrefix + key, key, indexPrefix, clock.epoch()).then((n) => n === 1)

  return {
    name: 'redis',
    async get(key) {
      const [body, project, target, storedAt, expiresAt] = await client.hmget(
        entryPrefix + key,
        'body',
        'project',
        'target',
        'storedAt',
        'expiresAt',
      )
      if (body == null || project == null || target == null) return undefined
      const entry: CacheEntry = {
        body,
        project,
        target,
        storedAt: Number(storedAt),
        expiresAt: Number(expiresAt),
      }
      // Redis expires by its own clock; ours decides.
      return entry.expiresAt > clock.epoch() ? entry : undefined
    },
    async set(key, entry) {
      const now = clock.epoch()
      const ttl = Math.ceil(entry.expiresAt - now)
      if (ttl <= 0) {
        await remove(key)
        return
      }
      await client.cacheSet(
        entryPrefix + key,
        indexPrefix + entry.project,
        entry.body,
        entry.project,
        entry.target,
        entry.storedAt,
        entry.expiresAt,
        ttl,
        now,
        key,
        indexPrefix,
      )
    },
    delete: remove,
    async purgeProject(project) {
      let live = 0
      for (;;) {
        const [n, left] = await client.cachePurge(
          indexPrefix + project,
          entryPrefix,
          project,
          clock.epoch(),
          PURGE_BATCH,
        )
        live += n
        if (left === 0) return live
      }
    },
    ready: connection.ready,
    close: connection.close,
  }
}
