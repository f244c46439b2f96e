/**
 * What does a rate-limit check cost on the hot path? One gateway per store (Redis on loopback, memory) in front
 * of `meridian sim` at 0 ms, with three keys: no limits, an rpm only, and rpm + tpm + concurrency (limits far
 * above what the run reaches, so every request is checked and admitted). Requests rotate through the keys on
 * one connection, so all see the same process, the same moment and the same noise: the difference of p50
 * latencies against the unlimited key is the check's cost (the settlement is sent after the answer). The
 * gateway also reports its own wait on the store (`Server-Timing: limits;dur=`) when it had one: never with the
 * memory store, rarely for an rpm check against Redis, which mostly takes a request slot on hand.
 * Needs Redis at 127.0.0.1:6379 (REDIS_URL overrides).
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { MERIDIAN, type Spawned, spawnServer } from './lib/processes.js'
import { ms, summarize } from './lib/stats.js'

/** The keys requests rotate through: no limits, rpm only, and every dimension. */
const KEYS = [
  { name: 'unlimited', key: 'bench-free-key-0000', limits: '' },
  { name: 'rpm', key: 'bench-rpm-key-0000', limits: '{ rpm: 100000000 }' },
  {
    name: 'rpm+tpm+concurrent',
    key: 'bench-all-key-0000',
    limits: '{ rpm: 100000000, tpm: 1000000000000, concurrent: 100000 }',
  },
] as const
const BODY = JSON.stringify({
  model: 'bench',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
})

export async function limits(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { requests: { type: 'string', default: '6000' }, rounds: { type: 'string', default: '3' } },
  })
  const requests = Number(values.requests)
  const rounds = Number(values.rounds)
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  if (!existsSync(MERIDIAN)) throw new Error('dist/ is missing: run `npm run build` first')
  console.log(
    `node ${process.version}, ${rounds} rounds, each with fresh server processes; redis ${redisUrl}`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-limits-'))
  // store → key name → latencies (and the gateway's own wait on the store, from Server-Timing)
  const samples = new Map<string, Map<string, Sample>>()
  try {
    for (let round = 0; round < rounds; round++) {
      const sim = await spawnServer([MERIDIAN, 'sim', '--port', '0'])
      const gateways: [string, Spawned][] = [
        ['redis', await gateway(dir, sim.url, redisUrl)],
        ['memory', await gateway(dir, sim.url, 'memory')],
      ]
      try {
        for (const [store, server] of gateways) {
          if (!samples.has(store))
            samples.set(store, new Map(KEYS.map((k) => [k.name, { total: [], inside: [] }])))
          await rotate(server.url, 600, undefined) // warm-up
          await rotate(server.url, Math.ceil(requests / rounds), samples.get(store)!)
        }
      } finally {
        await Promise.all([...gateways.map(([, s]) => s), sim].map((s) => s.stop()))
      }
      console.log(`round ${round + 1}/${rounds} done`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const rows: string[] = []
  for (const [store, byKey] of samples) {
    const free = summarize(byKey.get('unlimited')!.total)
    for (const { name } of KEYS.slice(1)) {
      const { total, inside } = byKey.get(name)!
      const limited = summarize(total)
      const waited = `${((100 * inside.length) / total.length).toFixed(1)}%`
      const wait = inside.length > 0 ? ms(summarize(inside).p50) : '–'
      rows.push(
        `| ${store} | ${name} | ${ms(free.p50)} | ${ms(limited.p50)} | ${ms(limited.p50 - free.p50)} | ${waited} | ${wait} |`,
      )
    }
  }
  console.log(
    [
      '',
      '| store | limits of the key | unlimited key, p50 (ms) | limited key, p50 (ms) | difference (ms) | requests that waited on the store | their wait, p50 (ms) |',
      '|---|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      'goal: the check costs at most 0.2 ms at p50 with Redis on loopback',
    ].join('\n'),
  )
}

async function gateway(dir: string, simUrl: string, store: string): Promise<Spawned> {
  const path = join(dir, `${randomUUID()}.yaml`)
  // Fresh key names per gateway keep its Redis windows apart from every other run's.
  const run = randomUUID().slice(0, 8)
  const keys = KEYS.map(
    (k) =>
      `  - { key: ${k.key}, name: ${k.name.replaceAll('+', '-')}-${run}${k.limits ? `, limits: ${k.limits}` : ''} }`,
  )
  writeFileSync(
    path,
    `providers: [{ id: sim, type: openai, base_url: "${simUrl}/v1", api_key: sim-key-0000 }]
models: [{ name: bench, targets: [{ provider: sim, model: bench }] }]
keys:
${keys.join('\n')}
limits: { store: "${store}" }
log: { requests: false }
`,
  )
  return spawnServer([MERIDIAN, 'serve', '--config', path, '--port', '0'])
}

interface Sample {
  total: number[]
  /** The gateway's own measure of its wait on the store (`Server-Timing: limits;dur=`), when it waited. */
  inside: number[]
}

/** `count` requests one at a time on one connection, rotating through the keys. */
async function rotate(url: string, count: number, into: Map<string, Sample> | undefined) {
  const pool = new Pool(url, { connections: 1, pipelining: 1, keepAliveTimeout: 60_000 })
  for (let i = 0; i < count; i++) {
    const key = KEYS[i % KEYS.length]!
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key.key}` }
    const start = performance.now()
    const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body: BODY })
    await res.body.text()
    const elapsed = performance.now() - start
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
    if ((res.headers['x-ratelimit-limit-requests'] !== undefined) !== (key.limits !== '')) {
      throw new Error(`key ${key.name}: x-ratelimit headers ${key.limits ? 'missing' : 'unexpected'}`)
    }
    const sample = into?.get(key.name)
    if (sample === undefined) continue
    sample.total.push(elapsed)
    const inside = /limits;dur=([\d.]+)/.exec(String(res.headers['server-timing']))
    if (inside) sample.inside.push(Number(inside[1]))
  }
  await pool.close()
}
