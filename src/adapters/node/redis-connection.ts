import { Redis } from 'ioredis'
import { watchCommands } from './redis-watchdog.js'

/** What every Redis-backed store takes; each adds its own key prefix, command timeout and extras. */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port[/db]`. */
  url: string
  /** A connection attempt is abandoned after this long (default 2000 ms). */
  connectTimeoutMs?: number
  /** The ceiling of the reconnect backoff (default 2000 ms). */
  maxBackoffMs?: number
  /** Told once per outage (the first error after being healthy), never per reconnect attempt. */
  onError?: (err: Error) => void
}

/** How a Meridian Redis client behaves when Redis is slow or gone: it fails fast and heals by itself. */
export interface RedisConnectionOptions {
  /** `redis://[user:pass@]host:port[/db]`. */
  url: string
  /** A command without a reply by then rejects. */
  timeoutMs: number
  /** A connection attempt is abandoned after this long (default 2000 ms). */
  connectTimeoutMs?: number
  /** The ceiling of the reconnect backoff (default 2000 ms). */
  maxBackoffMs?: number
  /** Lua scripts to define as commands (EVALSHA, loaded on first use). */
  scripts: Record<string, { lua: string; numberOfKeys?: number }>
  /** Told once per outage (the first error after being healthy), never per reconnect attempt. */
  onError?: (err: Error) => void
  /** Names the client in the error `ready()` gives when it is closed before connecting. */
  name: string
}

export interface RedisConnection<S> {
  client: Redis & S
  /** Resolves once connected; rejects with the first connection error, or if the client is closed. */
  ready(): Promise<void>
  close(): Promise<void>
}

/**
 * A Redis client for the hot path: no offline queue (a command while disconnected rejects at once instead of
 * waiting), no retries or resends, a timeout per command and a drop of half-open connections (one watchdog
 * timer per connection: see `Watchdog`),
 * and reconnection in the background with a capped exponential backoff. Never crashes the process on an
 * 'error' event.
 */
export function redisConnection<S>(options: RedisConnectionOptions): RedisConnection<S> {
  const maxBackoff = options.maxBackoffMs ?? 2000
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxBackoff),
    scripts: options.scripts,
  }) as Redis & S
  // The command timeout, and a socket silent this long after one is half-open: drop it and dial again.
  watchCommands(client, options.timeoutMs, Math.max(4 * options.timeoutMs, 1000))

  // An unhandled 'error' event would crash the process; report the first of each outage only.
  let healthy = true
  client.on('error', (err: Error) => {
    if (!healthy) return
    healthy = false
    options.onError?.(err)
  })
  client.on('ready', () => {
    healthy = true
  })

  return {
    client,
    ready() {
      if (client.status === 'ready') return Promise.resolve()
      return new Promise((resolve, reject) => {
        const settle = (err?: Error) => {
          client.off('ready', settle)
          client.off('error', settle)
          client.off('end', ended)
          if (err) reject(err)
          else resolve()
        }
        const ended = () => settle(new Error(`${options.name} closed before it connected`))
        client.once('ready', settle)
        client.once('error', settle)
        client.once('end', ended)
      })
    },
    async close() {
      if (client.status === 'end') return
      await client.quit().catch(() => client.disconnect())
    },
  }
}
