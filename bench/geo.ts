/**
 * What does the edge buy a client far from the origin? The seed's three requests, timed through simulated
 * distance: client ⇄ edge 10 ms each way, edge ⇄ origin 120 ms each way (delay proxies on loopback; flags
 * change them). The edge is the worker as `wrangler deploy` bundles it, run by Miniflare in workerd with local
 * KV and Durable Objects (not under `wrangler dev`, whose own proxy adds ~5 ms to every request); the origin is
 * `meridian serve` (dist) with its cache in SQLite, in front of `meridian sim` at 0 ms. Each round asks a new
 * question three times: a miss (passthrough to the origin and the upstream), a hit from the origin while KV
 * is cold (the edge reads through and writes KV back), and a hit from KV at the edge. Medians over rounds.
 */

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Miniflare } from 'miniflare'
import { Pool } from 'undici'
import { delayProxy } from './lib/delay-proxy.js'
import { freePort, MERIDIAN, ROOT, spawnServer } from './lib/processes.js'
import { ms, summarize } from './lib/stats.js'

const KEY = 'mk-geo-bench-key-0123456789'
const SECRET = 'geo-bench-edge-secret-0123456789abcdef'

export async function geo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '20' },
      'client-edge-ms': { type: 'string', default: '10' },
      'edge-origin-ms': { type: 'string', default: '120' },
    },
  })
  const rounds = Number(values.rounds)
  const near = Number(values['client-edge-ms'])
  const far = Number(values['edge-origin-ms'])
  const dir = mkdtempSync(join(tmpdir(), 'meridian-geo-'))
  const stops: (() => Promise<void>)[] = []
  try {
    const sim = await spawnServer([MERIDIAN, 'sim', '--port', '0'])
    stops.push(sim.stop)
    const config = join(dir, 'origin.yaml')
    writeFileSync(
      config,
      `providers: [{ id: sim, type: openai, base_url: "${sim.url}/v1", api_key: sim-key-0000 }]
models: [{ name: gpt-4o-mini, targets: [{ provider: sim, model: sim-small }] }]
keys: [{ key: ${KEY}, name: geo, project: geo }]
cache: { source: "sqlite:${dir}/cache.db" }
storage: { database: "sqlite:${dir}/meridian.db" }
edge: { secret: ${SECRET} }
log: { requests: false }
`,
    )
    const origin = await spawnServer([MERIDIAN, 'serve', '--config', config, '--port', '0'])
    stops.push(origin.stop)
    const originUrl = new URL(origin.url)
    const farLink = await delayProxy({ host: originUrl.hostname, port: Number(originUrl.port) }, far)
    stops.push(farLink.close)
    const edge = await startWorker(dir, farLink.url)
    stops.push(edge.stop)
    const edgeUrl = new URL(edge.url)
    const nearLink = await delayProxy({ host: edgeUrl.hostname, port: Number(edgeUrl.port) }, near)
    stops.push(nearLink.close)

    const pool = new Pool(nearLink.url, { connections: 1, keepAliveTimeout: 60_000 })
    stops.push(() => pool.close())
    const ask = async (content: string) => {
      const start = performance.now()
      const res = await pool.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content }] }),
      })
      await res.body.text()
      const elapsed = performance.now() - start
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      return {
        ms: elapsed,
        layer: `${res.headers['x-meridian-cache']}/${res.headers['x-meridian-cache-layer'] ?? '-'}`,
      }
    }
    /** A request the edge answers with no work (`/health`): the client⇄edge round trip as a request sees it. */
    const ping = async () => {
      const start = performance.now()
      const res = await pool.request({ path: '/health', method: 'GET' })
      await res.body.text()
      return performance.now() - start
    }
    const sleep = (t: number) => new Promise((r) => setTimeout(r, t))
    // Warm every connection on the way (client→edge, edge→origin, origin→sim) and the edge's key and config.
    for (let i = 0; i < 3; i++) await ask(`warm-up ${i}`)
    const rows = { miss: [] as number[], origin: [] as number[], edge: [] as number[], ping: [] as number[] }
    const seen = new Set<string>()
    for (let r = 0; r < rounds; r++) {
      const question = `Geo round ${r} ${Date.now()}: what is the capital of France?`
      const miss = await ask(question)
      const originHit = await ask(question)
      await sleep(200) // the write-back to KV (waitUntil) lands
      rows.ping.push(await ping())
      const edgeHit = await ask(question)
      for (const x of [miss, originHit, edgeHit]) seen.add(x.layer)
      rows.miss.push(miss.ms)
      rows.origin.push(originHit.ms)
      rows.edge.push(edgeHit.ms)
    }
    const m = (x: number[]) => summarize(x).p50
    const edgeHit = m(rows.edge)
    const originHit = m(rows.origin)
    console.log(
      `\nnode ${process.version}, ${rounds} rounds; client⇄edge ${near} ms each way, edge⇄origin ${far} ms each way\n`,
    )
    console.log('| request | median (ms) | p99 (ms) | answered by |')
    console.log('|---|---:|---:|---|')
    console.log(
      `| GET /health: the client⇄edge round trip | ${ms(m(rows.ping))} | ${ms(summarize(rows.ping).p99)} | the edge, no work |`,
    )
    console.log(
      `| 1: miss, passthrough to the origin | ${ms(m(rows.miss))} | ${ms(summarize(rows.miss).p99)} | miss |`,
    )
    console.log(
      `| 2: hit at the origin, KV cold | ${ms(originHit)} | ${ms(summarize(rows.origin).p99)} | hit/origin |`,
    )
    console.log(
      `| 3: hit at the edge, from KV | ${ms(edgeHit)} | ${ms(summarize(rows.edge).p99)} | hit/edge |`,
    )
    console.log(`\ncache answers seen: ${[...seen].sort().join(', ')}`)
    const rtt = m(rows.ping)
    console.log(
      `edge hit: ${ms(edgeHit)} ms = the client⇄edge round trip (${ms(rtt)} ms measured, ${2 * near} ms nominal) + ${ms(edgeHit - rtt)} ms (goal ≤ 5)`,
    )
    console.log(`edge hit is ${(originHit / edgeHit).toFixed(1)}× faster than an origin hit (goal ≥ 10)`)
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The worker, bundled by wrangler as it would deploy it, served by Miniflare (workerd) on a free port. */
async function startWorker(dir: string, origin: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const out = join(dir, 'worker')
  execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    stdio: 'ignore',
  })
  const port = await freePort()
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(out, 'index.js'),
    modulesRoot: out,
    compatibilityDate: '2026-04-01',
    kvNamespaces: ['CACHE', 'KEYS'],
    durableObjects: { LIMITS: { className: 'LimitsDurableObject', useSQLite: true } },
    bindings: { ORIGIN_URL: origin, EDGE_SECRET: SECRET },
    host: '127.0.0.1',
    port,
  })
  const url = await mf.ready
  return { url: url.origin, stop: () => mf.dispose() }
}
