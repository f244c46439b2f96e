/**
 * What is the floor of a rate-limit check on this machine, and how much of it is the client? One process, Redis
 * on loopback, calls rotated one at a time with a 1 ms pause between them (as requests arrive, not a tight
 * loop): a PING written on a bare socket (one round trip, no client library), a PING through ioredis with
 * ioredis's own command and socket timeouts (two timers a command), a PING through Meridian's connection (one
 * watchdog timer per connection), and Meridian's rate-limit checks themselves.
 * Needs Redis at 127.0.0.1:6379 (REDIS_URL overrides).
 */
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { redisLimits } from '../src/adapters/node/limits-redis.js'
import { redisConnection } from '../src/adapters/node/redis-connection.js'
import { summarize } from './lib/stats.js'

export async function redisClient(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { calls: { type: 'string', default: '3000' } } })
  const calls = Number(values.calls)
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const { hostname, port } = new URL(url)

  const socket = connect(Number(port) || 6379, hostname)
  socket.setNoDelay(true)
  await new Promise((resolve) => socket.once('connect', resolve))
  let answered: () => void = () => {}
  socket.on('data', () => answered())
  const PING = Buffer.from('*1\r\n$4\r\nPING\r\n')

  const timers = new Redis(url, { commandTimeout: 250, socketTimeout: 1000, maxRetriesPerRequest: 0 })
  const watched = redisConnection<object>({ url, timeoutMs: 250, name: 'bench', scripts: {} })
  const limits = redisLimits({ url, prefix: `meridian:bench:${randomUUID().slice(0, 8)}:` })
  await Promise.all([watched.ready(), limits.ready(), timers.ping()])
  const rpm = [{ scope: 'rpm', rpm: 1e9 }]
  const all = [{ scope: 'all', rpm: 1e9, tpm: 1e12, concurrent: 1e6 }]

  const cases: [string, () => Promise<unknown>][] = [
    [
      'PING, bare socket',
      () =>
        new Promise<void>((resolve) => {
          answered = resolve
          socket.write(PING)
        }),
    ],
    ['PING, ioredis with commandTimeout + socketTimeout', () => timers.ping()],
    ["PING, Meridian's connection (watchdog)", () => watched.client.ping()],
    ['rate-limit check, rpm', async () => limits.acquire({ rules: rpm, id: randomUUID(), tokens: 0 })],
    [
      'rate-limit check, rpm + tpm + concurrent',
      async () => {
        const id = randomUUID()
        await limits.acquire({ rules: all, id, tokens: 10 })
        void limits.settle({ rules: all, id, reserved: 10, used: 10 })
      },
    ],
  ]
  const samples = cases.map(() => [] as number[])
  try {
    for (let i = 0; i < calls * cases.length + 500; i++) {
      const c = i % cases.length
      const started = performance.now()
      await cases[c]![1]()
      if (i >= 500) samples[c]!.push(performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  } finally {
    socket.destroy()
    timers.disconnect()
    await Promise.all([watched.close(), limits.close?.()])
  }
  console.log(`node ${process.version}, redis ${url}, ${calls} calls each, rotated, 1 ms apart\n`)
  console.log('| call | p50 (µs) | p99 (µs) |\n|---|---:|---:|')
  cases.forEach(([name], c) => {
    const { p50, p99 } = summarize(samples[c]!)
    console.log(`| ${name} | ${(p50 * 1000).toFixed(0)} | ${(p99 * 1000).toFixed(0)} |`)
  })
}
