/**
 * Which Node server layer should carry the gateway's fetch handler? Each candidate serves the same small
 * handler in its own process; raw node:http (no Request or Response objects) is the floor.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { concurrent, type Load, pool, sequential } from './lib/load.js'
import { ROOT, type Spawned, spawnServer } from './lib/processes.js'
import { ms, summarize } from './lib/stats.js'

const LAYERS = ['raw', 'hono-node-server', 'srvx'] as const

export async function serverLayer(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { requests: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '5' } },
  })
  const requests = Number(values.requests)
  const rounds = Number(values.rounds)
  const servers: Spawned[] = []
  for (const layer of LAYERS)
    servers.push(await spawnServer([join(ROOT, 'bench/layers/serve.mjs'), layer, '0']))
  const load: Load = {
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Capital of France?' }] }),
  }
  const seq = LAYERS.map(() => [] as number[])
  const rps = LAYERS.map(() => [] as number[])
  try {
    for (const s of servers) await sequential(pool(s.url, 1), load, 1000, [])
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (k + round) % servers.length
        const one = pool(servers[i]!.url, 1)
        await sequential(one, load, Math.ceil(requests / rounds), seq[i]!)
        await one.close()
        const many = pool(servers[i]!.url, 50)
        rps[i]!.push(await concurrent(many, load, Math.ceil((requests * 4) / rounds), 50, []))
        await many.close()
      }
    }
  } finally {
    for (const s of servers) await s.stop()
  }
  console.log('\n| layer | one at a time, p50 (ms) | p99 (ms) | 50 concurrent, req/s |\n|---|---:|---:|---:|')
  LAYERS.forEach((layer, i) => {
    const s = summarize(seq[i]!)
    const mean = rps[i]!.reduce((a, b) => a + b, 0) / rps[i]!.length
    console.log(`| ${layer} | ${ms(s.p50)} | ${ms(s.p99)} | ${mean.toFixed(0)} |`)
  })
}
