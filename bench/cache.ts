/**
 * What does a cache hit cost, per layer, against a miss? `meridian sim` at 0 ms behind three gateways, each its
 * own process, measured in interleaved rounds with fresh processes:
 *   - edge replica hit: Redis source with the in-process replica (the same request repeated: replica hits);
 *   - Redis hit: Redis source, replica off (every hit is a round trip to Redis);
 *   - SQLite hit: the embedded default, replica off;
 *   - miss: the first gateway again, every request a new prompt (lookup, upstream call, store).
 * Needs Redis at 127.0.0.1:6379 (REDIS_URL overrides); the entries it writes are purged at the end.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { MERIDIAN, type Spawned, spawnServer } from './lib/processes.js'
import { ms, summarize } from './lib/stats.js'

const KEY = 'bench-gateway-key-0000'
const ADMIN = 'bench-admin-token-0000000000'

interface Column {
  name: string
  /** Which gateway serves it, and whether every request is a new prompt. */
  gateway: 'replica' | 'redis' | 'sqlite'
  unique: boolean
  seq: number[]
  rps: number[]
  statuses: Set<string>
}

export async function cache(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '2000' },
      'concurrent-requests': { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
    },
  })
  const requests = Number(values.requests)
  const concRequests = Number(values['concurrent-requests'])
  const concurrency = Number(values.concurrency)
  const rounds = Number(values.rounds)
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  if (!existsSync(MERIDIAN)) throw new Error('dist/ is missing: run `npm run build` first')
  const project = `bench-${randomUUID().slice(0, 8)}`
  console.log(
    `node ${process.version}, ${rounds} rounds, each with fresh server processes; redis ${redisUrl}`,
  )

  const columns: Column[] = [
    { name: 'edge replica hit', gateway: 'replica', unique: false, seq: [], rps: [], statuses: new Set() },
    { name: 'Redis hit', gateway: 'redis', unique: false, seq: [], rps: [], statuses: new Set() },
    { name: 'SQLite hit', gateway: 'sqlite', unique: false, seq: [], rps: [], statuses: new Set() },
    {
      name: 'miss (upstream + store)',
      gateway: 'replica',
      unique: true,
      seq: [],
      rps: [],
      statuses: new Set(),
    },
  ]
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-cache-'))
  let serial = 0
  try {
    for (let round = 0; round < rounds; round++) {
      const sim = await spawnServer([MERIDIAN, 'sim', '--port', '0'])
      const gateways = {
        replica: await gateway(dir, sim.url, project, `source: "${redisUrl}"`),
        redis: await gateway(dir, sim.url, project, `source: "${redisUrl}", replica: { max_bytes: 0 }`),
        sqlite: await gateway(
          dir,
          sim.url,
          project,
          `source: "sqlite:${join(dir, `cache-${round}.db`)}", replica: { max_bytes: 0 }`,
        ),
      }
      try {
        for (let k = 0; k < columns.length; k++) {
          const c = columns[(k + round) % columns.length]!
          const url = gateways[c.gateway].url
          const body = c.unique
            ? () => request(`miss ${round} ${serial++}`)
            : () => request('What is the capital of France?')
          await drive(url, body, 1, 300, [], c.statuses) // warm-up (and the first miss that fills the cache)
          await drive(url, body, 1, Math.ceil(requests / rounds), c.seq, c.statuses)
          const many = await drive(url, body, concurrency, Math.ceil(concRequests / rounds), [], c.statuses)
          c.rps.push(many.rps)
        }
      } finally {
        await fetch(`${gateways.replica.url}/admin/cache/projects/${project}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${ADMIN}` },
        })
        await Promise.all([...Object.values(gateways), sim].map((s) => s.stop()))
      }
      console.log(`round ${round + 1}/${rounds} done`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  report(columns, concurrency)
}

function request(content: string): string {
  return JSON.stringify({ model: 'bench', temperature: 0, messages: [{ role: 'user', content }] })
}

async function gateway(dir: string, simUrl: string, project: string, cache: string): Promise<Spawned> {
  const path = join(dir, `${randomUUID()}.yaml`)
  writeFileSync(
    path,
    `providers: [{ id: sim, type: openai, base_url: "${simUrl}/v1", api_key: sim-key-0000 }]
models: [{ name: bench, targets: [{ provider: sim, model: bench }] }]
keys: [{ key: ${KEY}, project: ${project} }]
admin: { token: ${ADMIN} }
log: { requests: false }
cache: { ${cache} }
`,
  )
  return spawnServer([MERIDIAN, 'serve', '--config', path, '--port', '0'])
}

/** `count` requests from `concurrency` workers; records each latency and the x-meridian-cache values seen. */
async function drive(
  url: string,
  body: () => string,
  concurrency: number,
  count: number,
  latencies: number[],
  statuses: Set<string>,
): Promise<{ rps: number }> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }
  let left = count
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const t = performance.now()
        const res = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers,
          body: body(),
        })
        await res.body.text()
        latencies.push(performance.now() - t)
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
        statuses.add(`${res.headers['x-meridian-cache']}/${res.headers['x-meridian-cache-layer'] ?? '-'}`)
      }
    }),
  )
  const rps = (count / (performance.now() - start)) * 1000
  await pool.close()
  return { rps }
}

function report(columns: Column[], concurrency: number) {
  const rows = columns.map((c) => ({
    ...c,
    seq: summarize(c.seq),
    rpsMean: c.rps.reduce((a, b) => a + b, 0) / c.rps.length,
  }))
  const line = (label: string, cell: (r: (typeof rows)[number]) => string) =>
    `| ${label} | ${rows.map(cell).join(' | ')} |`
  const [edge, redis, , miss] = rows as [
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
  ]
  console.log(
    [
      '',
      `| | ${rows.map((r) => r.name).join(' | ')} |`,
      `|---|${rows.map(() => '---:').join('|')}|`,
      line('one at a time, p50 (ms)', (r) => ms(r.seq.p50)),
      line('one at a time, p99 (ms)', (r) => ms(r.seq.p99)),
      line(`${concurrency} concurrent, req/s`, (r) => r.rpsMean.toFixed(0)),
      line('x-meridian-cache seen', (r) => [...r.statuses].sort().join(', ')),
      '',
      `an edge replica hit reaches ${(edge.rpsMean / miss.rpsMean).toFixed(2)}× the miss path's req/s (goal ≥ 2)`,
      `a Redis hit adds ${ms(redis.seq.p50 - edge.seq.p50)} ms at p50 over an edge replica hit (goal ≤ 0.5)`,
    ].join('\n'),
  )
}
