/**
 * What does Meridian add to a request? `meridian sim` at 0 ms, measured three ways in one run: direct, through
 * a bare undici proxy (the floor for any Node proxy), and through Meridian. Targets are measured in rounds,
 * interleaved, so machine noise falls on all of them alike.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { concurrent, type Load, pool, sequential } from './lib/load.js'
import { MERIDIAN, ROOT, type Spawned, spawnServer } from './lib/processes.js'
import { ms, summarize } from './lib/stats.js'

interface Column {
  name: string
  server: Spawned
  seq: number[]
  ttfb: number[]
  conc: number[]
  rps: number[]
}

export async function overhead(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '2000' },
      'concurrent-requests': { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '5' },
    },
  })
  const requests = Number(values.requests)
  const concRequests = Number(values['concurrent-requests'])
  const concurrency = Number(values.concurrency)
  const rounds = Number(values.rounds)
  if (!existsSync(MERIDIAN)) throw new Error('dist/ is missing: run `npm run build` first')

  const sim = await spawnServer([MERIDIAN, 'sim', '--port', '0'])
  const bare = await spawnServer([join(ROOT, 'bench/bare-proxy.mjs'), sim.url, '0'])
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-'))
  const configPath = join(dir, 'meridian.yaml')
  writeFileSync(
    configPath,
    `providers: [{ id: sim, type: openai, base_url: "${sim.url}/v1", api_key: sim-key-0000 }]
models: [{ name: bench, targets: [{ provider: sim, model: bench }] }]
`,
  )
  const gateway = await spawnServer([MERIDIAN, 'serve', '--config', configPath, '--port', '0'])
  const columns: Column[] = [
    { name: 'direct', server: sim },
    { name: 'bare undici proxy', server: bare },
    { name: 'meridian', server: gateway },
  ].map((c) => ({ ...c, seq: [], ttfb: [], conc: [], rps: [] }))

  const headers = { 'content-type': 'application/json', authorization: 'Bearer sim-key-0000' }
  const messages = [{ role: 'user', content: 'What is the capital of France? Answer in one sentence.' }]
  const unary: Load = {
    path: '/v1/chat/completions',
    headers,
    body: JSON.stringify({ model: 'bench', messages }),
  }
  const stream: Load = { ...unary, body: JSON.stringify({ model: 'bench', messages, stream: true }) }

  try {
    console.log(`warming up (node ${process.version})…`)
    for (const c of columns) {
      const one = pool(c.server.url, 1)
      const many = pool(c.server.url, concurrency)
      await sequential(one, unary, 500, [])
      await sequential(one, stream, 200, [], [])
      await concurrent(many, unary, 2000, concurrency, [])
      await one.close()
      await many.close()
    }
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no target always runs first (or last).
      const order = columns.map((_, i) => columns[(i + round) % columns.length]!)
      for (const c of order) {
        const one = pool(c.server.url, 1)
        await sequential(one, unary, Math.ceil(requests / rounds), c.seq)
        await sequential(one, stream, Math.ceil(requests / rounds / 2), [], c.ttfb)
        await one.close()
        const many = pool(c.server.url, concurrency)
        c.rps.push(await concurrent(many, unary, Math.ceil(concRequests / rounds), concurrency, c.conc))
        await many.close()
      }
      process.stdout.write(`round ${round + 1}/${rounds} done\n`)
    }
  } finally {
    await gateway.stop()
    await bare.stop()
    await sim.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  report(columns, concurrency)
}

function report(columns: Column[], concurrency: number) {
  const rows = columns.map((c) => {
    const seq = summarize(c.seq)
    const ttfb = summarize(c.ttfb)
    const conc = summarize(c.conc)
    const rps = c.rps.reduce((a, b) => a + b, 0) / c.rps.length
    return { name: c.name, seq, ttfb, conc, rps }
  })
  const line = (label: string, cell: (r: (typeof rows)[number]) => string) =>
    `| ${label} | ${rows.map(cell).join(' | ')} |`
  const out = [
    '',
    `| | ${rows.map((r) => r.name).join(' | ')} |`,
    `|---|${rows.map(() => '---:').join('|')}|`,
    line('one at a time, p50 (ms)', (r) => ms(r.seq.p50)),
    line('one at a time, p99 (ms)', (r) => ms(r.seq.p99)),
    line(`${concurrency} concurrent, req/s`, (r) => r.rps.toFixed(0)),
    line(`${concurrency} concurrent, p99 (ms)`, (r) => ms(r.conc.p99)),
    line('stream, time to first byte p50 (ms)', (r) => ms(r.ttfb.p50)),
    line('stream, time to first byte p99 (ms)', (r) => ms(r.ttfb.p99)),
    '',
  ]
  const [direct, bare, meridian] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]]
  out.push(
    `meridian adds ${ms(meridian.seq.p50 - direct.seq.p50)} ms at p50 over direct, one at a time (goal ≤ 0.3); ` +
      `the bare proxy adds ${ms(bare.seq.p50 - direct.seq.p50)} ms`,
    `meridian reaches ${(meridian.rps / bare.rps).toFixed(2)}× the bare proxy's req/s at ${concurrency} concurrent (goal ≥ 0.5)`,
    `meridian adds ${ms(meridian.ttfb.p50 - direct.ttfb.p50)} ms to the first streamed byte at p50 (goal ≤ 1)`,
  )
  console.log(out.join('\n'))
}
