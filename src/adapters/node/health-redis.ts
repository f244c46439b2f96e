import { type Clock, systemClock } from '../../core/clock.js'
import type { SharedHealth } from '../../routing/health.js'
import { type RedisStoreOptions, redisConnection } from './redis-connection.js'

export interface RedisHealthOptions extends RedisStoreOptions {
  /** Namespace of every key and channel this writes (default `meridian:health:`). */
  prefix?: string
  /** A command without a reply by then rejects (default 500 ms). */
  timeoutMs?: number
  /** Wall time, for the TTL of a down mark (default the system clock). */
  clock?: Pick<Clock, 'epoch'>
}

/** Redis-backed shared health, and a way to wait until it has read the current outages. */
export type RedisSharedHealth = SharedHealth & {
  /** Resolves once subscribed and the known outages are read; rejects with the first error before that. */
  ready(): Promise<void>
}

type Listener = Parameters<SharedHealth['subscribe']>[0]
interface Down {
  until: number
  reason: string
}

// `prefix down:<target>` holds JSON { until, reason } and expires with the cooldown (so a crashed instance
// leaves nothing stale behind); `prefix events` carries JSON { target, until, reason }, until null for up.

const GLOB = /[*?[\]\\]/g

function parseDown(json: string | null): Down | undefined {
  try {
    const v = JSON.parse(json ?? '') as Partial<Down>
    if (typeof v.until === 'number' && typeof v.reason === 'string')
      return { until: v.until, reason: v.reason }
  } catch {}
  return undefined
}

function parseEvent(
  json: string,
): { target: string; until: number | null; reason: string | null } | undefined {
  try {
    const v = JSON.parse(json) as { target?: unknown; until?: unknown; reason?: unknown }
    if (typeof v.target !== 'string') return undefined
    if (v.until === null) return { target: v.target, until: null, reason: null }
    if (typeof v.until === 'number' && typeof v.reason === 'string')
      return { target: v.target, until: v.until, reason: v.reason }
  } catch {}
  return undefined
}

/**
 * Health shared by every instance through Redis: an instance that finds a target down marks it in a key
 * that expires with the cooldown and announces it on a channel, so the others skip the target without
 * failing on it first, and an instance that starts (or reconnects) mid-outage reads the marks. It is
 * fail-open: no call ever throws or rejects into the gate, an outage is reported once, and each gate
 * keeps working on what it sees itself. After a reconnection it reads the marks again, and clears
 * outages whose mark was removed (an up announced while it was away).
 *
 * @example
 * const shared = redisSharedHealth({ url: 'redis://127.0.0.1:6379', onError: (e) => log.warn('health', { e }) })
 * const gate = new HealthGate({}, systemClock, shared)
 * // at shutdown
 * await shared.close()
 */
export function redisSharedHealth(options: RedisHealthOptions): RedisSharedHealth {
  const prefix = options.prefix ?? 'meridian:health:'
  const channel = `${prefix}events`
  const keyPrefix = `${prefix}down:`
  const clock = options.clock ?? systemClock

  let closed = false
  let failing = false
  const report = (err: unknown) => {
    if (failing || closed) return
    failing = true
    options.onError?.(err instanceof Error ? err : new Error(String(err)))
  }

  const common = {
    url: options.url,
    timeoutMs: options.timeoutMs ?? 500,
    connectTimeoutMs: options.connectTimeoutMs,
    maxBackoffMs: options.maxBackoffMs,
    scripts: {},
    onError: report,
  }
  const commands = redisConnection<object>({ ...common, name: 'redis shared health' })
  // A connection in subscriber mode can run no other command, so the reads need one of their own.
  const subscriber = redisConnection<object>({ ...common, name: 'redis shared health subscriber' })

  let settleReady: ((err?: unknown) => void) | undefined
  const firstSync = new Promise<void>((resolve, reject) => {
    settleReady = (err) => {
      settleReady = undefined
      if (err === undefined) resolve()
      else reject(err)
    }
  })
  firstSync.catch(() => {})
  Promise.all([commands.ready(), subscriber.ready()]).catch((err) => settleReady?.(err))

  const listeners: Listener[] = []
  /** What this instance believes is down: replayed to late subscribers, checked again after a reconnection. */
  const known = new Map<string, Down>()

  const emit = (target: string, down: Down | null) => {
    if (down) known.set(target, down)
    else known.delete(target)
    for (const listener of listeners) {
      try {
        listener(target, down?.until ?? null, down?.reason ?? null)
      } catch (err) {
        report(err)
      }
    }
  }

  subscriber.client.on('message', (from: string, message: string) => {
    if (from !== channel) return
    const event = parseEvent(message)
    if (!event) return
    emit(event.target, event.until === null ? null : { until: event.until, reason: event.reason ?? '' })
  })

  let syncing = false
  let again = false
  /** Subscribes, then reads every mark: a change made in between is heard twice rather than missed. */
  async function sync(): Promise<void> {
    if (closed || subscriber.client.status !== 'ready' || commands.client.status !== 'ready') return
    if (syncing) {
      again = true
      return
    }
    syncing = true
    try {
      await subscriber.client.subscribe(channel)
      const found = new Map<string, Down>()
      let cursor = '0'
      do {
        const [next, keys] = await commands.client.scan(
          cursor,
          'MATCH',
          `${keyPrefix.replace(GLOB, '\\$&')}*`,
          'COUNT',
          100,
        )
        cursor = next
        if (keys.length === 0) continue
        const values = await commands.client.mget(...keys)
        keys.forEach((key, i) => {
          const down = parseDown(values[i] ?? null)
          if (down) found.set(key.slice(keyPrefix.length), down)
        })
      } while (cursor !== '0')
      if (closed) return
      const now = clock.epoch()
      for (const [target, down] of known) {
        if (found.has(target)) continue
        // A mark gone before its time was removed by a recovery this instance did not hear about.
        if (down.until > now) emit(target, null)
        else known.delete(target)
      }
      for (const [target, down] of found) emit(target, down)
      failing = false
      settleReady?.()
    } catch (err) {
      report(err)
      settleReady?.(err)
    } finally {
      syncing = false
      if (again) {
        again = false
        void sync()
      }
    }
  }
  subscriber.client.on('ready', () => void sync())
  commands.client.on('ready', () => void sync())

  /** Fire and forget: neither a throw nor a rejection may reach the gate. */
  const send = (op: () => Promise<[Error | null, unknown][] | null>) => {
    if (closed) return
    try {
      op().then((replies) => {
        const failed = replies?.find(([err]) => err)?.[0]
        if (failed) report(failed)
        else failing = false
      }, report)
    } catch (err) {
      report(err)
    }
  }

  return {
    markDown(target, untilEpochMs, reason) {
      const ttl = Math.ceil(untilEpochMs - clock.epoch())
      if (ttl <= 0) return
      send(() =>
        commands.client
          .multi()
          .set(keyPrefix + target, JSON.stringify({ until: untilEpochMs, reason }), 'PX', ttl)
          .publish(channel, JSON.stringify({ target, until: untilEpochMs, reason }))
          .exec(),
      )
    },
    markUp(target) {
      send(() =>
        commands.client
          .multi()
          .del(keyPrefix + target)
          .publish(channel, JSON.stringify({ target, until: null, reason: null }))
          .exec(),
      )
    },
    subscribe(listener) {
      if (closed) return
      listeners.push(listener)
      // Until the first read, `known` holds only what was heard; the read reports the rest.
      for (const [target, down] of known) listener(target, down.until, down.reason)
    },
    ready: () => firstSync,
    async close() {
      if (closed) return
      closed = true
      listeners.length = 0
      settleReady?.(new Error('redis shared health closed before it read the current outages'))
      await Promise.all([commands.close(), subscriber.close()])
    },
  }
}
