import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { redisConnection } from '../src/adapters/node/redis-connection.js'
import { needService } from './helpers/services.js'
import { tcpProxy } from './helpers/tcp-proxy.js'

const redis = await needService('redis')

/** How long a promise took to settle, and whether it rejected (with what). */
async function timed(run: () => Promise<unknown>) {
  const started = performance.now()
  try {
    await run()
    return { ms: performance.now() - started, error: undefined }
  } catch (err) {
    return { ms: performance.now() - started, error: err as Error }
  }
}

describe.skipIf(!redis.available)('redis connection watchdog', () => {
  const open = (url: string, timeoutMs: number) =>
    redisConnection<object>({ url, timeoutMs, maxBackoffMs: 20, name: 'watchdog test', scripts: {} })

  it('answers every command of a busy connection, none timed out', async () => {
    const connection = open(redis.url, 250)
    try {
      await connection.ready()
      const replies = await Promise.all(
        Array.from({ length: 2000 }, (_, i) => connection.client.echo(`e${i}`)),
      )
      expect(replies[1999]).toBe('e1999')
      for (let i = 0; i < 50; i++) expect(await connection.client.ping()).toBe('PONG')
    } finally {
      await connection.close()
    }
  })

  it('rejects a command unanswered after the timeout, each of several in flight, then works again', async () => {
    const proxy = await tcpProxy(new URL(redis.url))
    const connection = open(proxy.url, 60)
    try {
      await connection.ready()
      proxy.stall(true)
      const results = await Promise.all([1, 2, 3].map(() => timed(() => connection.client.ping())))
      for (const { ms, error } of results) {
        expect(error?.message).toBe('Command timed out')
        expect(ms).toBeGreaterThanOrEqual(55)
        expect(ms).toBeLessThan(400)
      }
      proxy.stall(false)
      expect(await connection.client.ping()).toBe('PONG')
      expect(proxy.connections).toBe(1) // a short stall is not a dead connection
    } finally {
      await connection.close()
      await proxy.close()
    }
  })

  it('drops a connection silent past the socket timeout (half-open) and dials again by itself', async () => {
    const proxy = await tcpProxy(new URL(redis.url))
    // timeout 100 ms: the socket is given up after max(4 × 100, 1000) = 1000 ms of silence.
    const connection = open(proxy.url, 100)
    try {
      await connection.ready()
      proxy.stall(true)
      expect((await timed(() => connection.client.ping())).error?.message).toBe('Command timed out')
      const deadline = Date.now() + 3000
      while (proxy.connections < 2 && Date.now() < deadline) await sleep(20)
      expect(proxy.connections).toBe(2) // the silent socket was destroyed and ioredis dialled again
      proxy.stall(false)
      let pong: string | undefined
      while (pong === undefined && Date.now() < deadline) {
        pong = await connection.client.ping().catch(() => undefined)
        if (pong === undefined) await sleep(20)
      }
      expect(pong).toBe('PONG')
    } finally {
      await connection.close()
      await proxy.close()
    }
  })
})
