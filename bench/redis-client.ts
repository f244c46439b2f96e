/**
 * What is the floor of a rate-limit check on this machine, and where does its time go? One process, Redis on
 * loopback, calls one at a time with a 1 ms pause between them (as requests arrive, not a tight loop), in
 * rounds of one call of each kind in a random order: a PING written on a bare socket (one round trip, no client
 * library), a PING through ioredis with ioredis's own command and socket timeouts (two timers a command), a
 * PING through Meridian's connection (one watchdog timer per connection), the `rpm` script written on a bare
 * socket, and Meridian's rate-limit checks themselves. For the scripts it also reads Redis's own measure of
 * their execution from SLOWLOG (logging every command for the run, and restoring the settings after), so a
 * check splits into Redis's work, the round trip and the client's work.
 * Needs Redis at 127.0.0.1:6379 (REDIS_URL overrides).
 */
import { createHash, randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { LIMIT_SCRIPTS, redisLimits } from '../src/adapters/node/limits-redis.js'
import { redisConnection } from '../src/adapters/node/redis-connection.js'
import { summarize } from './lib/stats.js'

/** `[k1, v1, k2, v2]` as `[[k1, v1], [k2, v2]]`. */
const pairs = (flat: string[]) => flat.flatMap((k, i) => (i % 2 === 0 ? [[k, flat[i + 1]!] as const] : []))

const sha1 = (lua: string) => createHash('sha1').update(lua).digest('hex')

/** One command as RESP: an array of bulk strings. */
const resp = (...args: (string | number)[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`

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
  const bare = (command: string) =>
    new Promise<void>((resolve) => {
      answered = resolve
      socket.write(command)
    })

  const admin = new Redis(url)
  const timers = new Redis(url, { commandTimeout: 250, socketTimeout: 1000, maxRetriesPerRequest: 0 })
  const watched = redisConnection<object>({ url, timeoutMs: 250, name: 'bench', scripts: {} })
  const prefix = `meridian:bench:${randomUUID().slice(0, 8)}:`
  const limits = redisLimits({ url, prefix })
  await Promise.all([watched.ready(), limits.ready(), timers.ping()])
  await admin.script('LOAD', LIMIT_SCRIPTS.requests)
  const rpm = [{ scope: 'rpm', rpm: 1e9 }]
  const all = [{ scope: 'all', rpm: 1e9, tpm: 1e12, concurrent: 1e6 }]
  let ids = 0

  // Each script case names the script whose SLOWLOG entries are its own.
  const cases: [string, () => Promise<unknown>, string?][] = [
    ['PING, bare socket', () => bare(resp('PING'))],
    ['PING, ioredis with commandTimeout + socketTimeout', () => timers.ping()],
    ["PING, Meridian's connection (watchdog)", () => watched.client.ping()],
    [
      'rpm script, bare socket',
      () =>
        bare(resp('EVALSHA', sha1(LIMIT_SCRIPTS.requests), 1, `${prefix}bare:r`, 60_000, `b${ids++}`, 1e9)),
      'bare',
    ],
    ['rate-limit check, rpm', async () => limits.acquire({ rules: rpm, id: `r${ids++}`, tokens: 0 }), 'rpm'],
    [
      'rate-limit check, rpm + tpm + concurrent',
      async () => {
        const id = `a${ids++}`
        await limits.acquire({ rules: all, id, tokens: 10 })
        void limits.settle({ rules: all, id, reserved: 10, used: 10 })
      },
      'all',
    ],
  ]
  const samples = cases.map(() => [] as number[])
  // Redis's own timing needs CONFIG, which managed services often disable: then the column stays empty.
  const saved = await admin
    .config('GET', 'slowlog-*')
    .then((flat) => Object.fromEntries(pairs(flat as string[])) as Record<string, string>)
    .catch(() => undefined)
  const executed = new Map<string, number[]>()
  try {
    // Each round runs every case once, in a new random order: what ran just before a call (Lua or not, the
    // same client or another) changes how cold it finds the caches, so a fixed order would favour some cases.
    const order = cases.map((_, c) => c)
    const warmup = 100
    for (let round = 0; round < calls + warmup; round++) {
      if (round === warmup && saved) {
        await admin.config('SET', 'slowlog-max-len', String(calls * 16))
        await admin.config('SET', 'slowlog-log-slower-than', '0')
        await admin.slowlog('RESET')
      }
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1))
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
      for (const c of order) {
        const started = performance.now()
        await cases[c]![1]()
        if (round >= warmup) samples[c]!.push(performance.now() - started)
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    if (saved) await admin.config('SET', 'slowlog-log-slower-than', saved['slowlog-log-slower-than']!)
    // Which case an EVALSHA belongs to: the bare one by its key, the store's by the script it ran.
    const entries = saved
      ? ((await admin.slowlog('GET', calls * 16)) as [number, number, number, string[]][])
      : []
    for (const [, , micros, args] of entries) {
      if (args[0]?.toLowerCase() !== 'evalsha') continue
      const name = args.includes(`${prefix}bare:r`)
        ? 'bare'
        : args[1] === sha1(LIMIT_SCRIPTS.requests)
          ? 'rpm'
          : args[1] === sha1(LIMIT_SCRIPTS.acquire)
            ? 'all'
            : undefined
      if (name === undefined) continue
      if (!executed.has(name)) executed.set(name, [])
      executed.get(name)!.push(micros / 1000)
    }
  } finally {
    if (saved) {
      await admin.config('SET', 'slowlog-log-slower-than', saved['slowlog-log-slower-than']!)
      await admin.config('SET', 'slowlog-max-len', saved['slowlog-max-len']!)
      await admin.slowlog('RESET')
    }
    socket.destroy()
    timers.disconnect()
    admin.disconnect()
    await Promise.all([watched.close(), limits.close?.()])
  }
  console.log(`node ${process.version}, redis ${url}, ${calls} calls each, shuffled rounds, 1 ms apart\n`)
  console.log('| call | p50 (µs) | p99 (µs) | Redis executing it, p50 (µs) |\n|---|---:|---:|---:|')
  cases.forEach(([name, , script], c) => {
    const { p50, p99 } = summarize(samples[c]!)
    const inRedis =
      script && executed.has(script) ? (summarize(executed.get(script)!).p50 * 1000).toFixed(0) : ''
    console.log(`| ${name} | ${(p50 * 1000).toFixed(0)} | ${(p99 * 1000).toFixed(0)} | ${inRedis} |`)
  })
}
