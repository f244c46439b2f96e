/**
 * What does Meridian add to a request? `meridian sim` at 0 ms, measured in one run: direct, through a TCP pipe
 * (the hop alone, no HTTP), through a bare undici proxy (the floor for any Node HTTP proxy), through Meridian,
 * and through the open-source Portkey gateway when it is installed (`npm run bench:portkey-install`). Columns
 * are measured in rounds, interleaved, with fresh processes each round, so machine noise and process placement
 * fall on all of them alike. Where /proc is readable, each server's CPU time per sequential request is read too.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { concurrent, type Load, pool, sequential } from './lib/load.js'
import { freePort, MERIDIAN, ROOT, type Spawned, spawnServer } from './lib/processes.js'
import { ms, summarize } from './lib/stats.js'

const PORTKEY = join(ROOT, 'bench/portkey/node_modules/@portkey-ai/gateway/build/start-server.js')

interface Column {
  name: string
  server: Spawned
  /** Extra request headers this column needs (Portkey is told where the upstream is by headers). */
  headers?: Record<string, string>
  seq: number[]
  /** CPU time (user and system, all threads) the server spent per sequential request, in ms, per round. */
  cpu: number[]
  ttfb: number[]
  conc: number[]
  rps: number[]
}

export async function overhead(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '3000' },
      'concurrent-requests': { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '4' },
    },
  })
  const requests = Number(values.requests)
  const concRequests = Number(values['concurrent-requests'])
  const concurrency = Number(values.concurrency)
  const rounds = Number(values.rounds)
  if (!existsSync(MERIDIAN)) throw new Error('dist/ is missing: run `npm run build` first')
  if (!existsSync(PORTKEY)) console.log('(no portkey column: `npm run bench:portkey-install` adds one)')
  console.log(`node ${process.version}, ${rounds} rounds, each with fresh server processes`)

  const columns = new Map<string, Column>()
  for (let round = 0; round < rounds; round++) {
    // Fresh processes every round: where the scheduler happens to place a process moves its latency by
    // tens of microseconds on this machine; new processes each round spread that luck over every column.
    const servers = await startColumns()
    try {
      for (const c of servers) {
        if (!columns.has(c.name)) columns.set(c.name, { ...c, seq: [], cpu: [], ttfb: [], conc: [], rps: [] })
        await measure(c, concurrency, { seq: 1000, stream: 300, conc: 3000 }) // warm-up, discarded
      }
      // Rotate the order each round so no column always runs first (or last).
      for (let k = 0; k < servers.length; k++) {
        const c = servers[(k + round) % servers.length]!
        const sample = await measure(c, concurrency, {
          seq: Math.ceil(requests / rounds),
          stream: Math.ceil(requests / rounds / 2),
          conc: Math.ceil(concRequests / rounds),
        })
        const column = columns.get(c.name)!
        column.seq.push(...sample.seq)
        if (sample.cpu !== undefined) column.cpu.push(sample.cpu)
        column.ttfb.push(...sample.ttfb)
        column.conc.push(...sample.conc)
        column.rps.push(sample.rps)
      }
    } finally {
      await Promise.all(servers.map((c) => c.server.stop()))
      await Promise.all(servers.map((c) => c.cleanup?.()))
    }
    process.stdout.write(`round ${round + 1}/${rounds} done\n`)
  }
  report([...columns.values()], concurrency)
}

type Server = Pick<Column, 'name' | 'server' | 'headers'> & { cleanup?: () => void }

/** The simulated upstream, then each column's server in front of it. */
async function startColumns(): Promise<Server[]> {
  const sim = await spawnServer([MERIDIAN, 'sim', '--port', '0'])
  const servers: Server[] = [{ name: 'direct', server: sim }]
  servers.push({
    name: 'tcp pipe',
    server: await spawnServer([join(ROOT, 'bench/tcp-pipe.mjs'), sim.url, '0']),
  })
  servers.push({
    name: 'bare undici proxy',
    server: await spawnServer([join(ROOT, 'bench/bare-proxy.mjs'), sim.url, '0']),
  })
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-'))
  const configPath = join(dir, 'meridian.yaml')
  writeFileSync(
    configPath,
    `providers: [{ id: sim, type: openai, base_url: "${sim.url}/v1", api_key: sim-key-0000 }]
models: [{ name: bench, targets: [{ provider: sim, model: bench }] }]
`,
  )
  servers.push({
    name: 'meridian',
    server: await spawnServer([MERIDIAN, 'serve', '--config', configPath, '--port', '0']),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  })
  if (existsSync(PORTKEY)) {
    const port = await freePort()
    const ready = { ready: /Ready for connections/, url: `http://127.0.0.1:${port}` }
    servers.push({
      name: 'portkey',
      server: await spawnServer([PORTKEY, `--port=${port}`, '--headless'], {}, ready),
      headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${sim.url}/v1` },
    })
  }
  return servers
}

const MESSAGES = [{ role: 'user', content: 'What is the capital of France? Answer in one sentence.' }]

/** Sequential non-stream and stream requests on one connection, then `concurrency` at once. */
async function measure(
  c: Server,
  concurrency: number,
  counts: { seq: number; stream: number; conc: number },
) {
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sim-key-0000', ...c.headers }
  const unary: Load = {
    path: '/v1/chat/completions',
    headers,
    body: JSON.stringify({ model: 'bench', messages: MESSAGES }),
  }
  const stream: Load = {
    ...unary,
    body: JSON.stringify({ model: 'bench', messages: MESSAGES, stream: true }),
  }
  const sample = {
    seq: [] as number[],
    cpu: undefined as number | undefined,
    ttfb: [] as number[],
    conc: [] as number[],
    rps: 0,
  }
  const one = pool(c.server.url, 1)
  const pid = c.server.child.pid
  const before = cpuMs(pid)
  await sequential(one, unary, counts.seq, sample.seq)
  const after = cpuMs(pid)
  if (before !== undefined && after !== undefined) sample.cpu = (after - before) / counts.seq
  await sequential(one, stream, counts.stream, [], sample.ttfb)
  await one.close()
  const many = pool(c.server.url, concurrency)
  sample.rps = await concurrent(many, unary, counts.conc, concurrency, sample.conc)
  await many.close()
  return sample
}

/** A process's CPU time so far (user and system, all threads) in ms, from /proc (Linux); undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command (which may hold spaces) start at the last ')'; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return undefined
  }
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks on every architecture it runs on. */
const CLOCK_TICKS = 100

function report(columns: Column[], concurrency: number) {
  const rows = columns.map((c) => {
    const seq = summarize(c.seq)
    const ttfb = summarize(c.ttfb)
    const conc = summarize(c.conc)
    const rps = c.rps.reduce((a, b) => a + b, 0) / c.rps.length
    const cpu = c.cpu.length === 0 ? Number.NaN : c.cpu.reduce((a, b) => a + b, 0) / c.cpu.length
    return { name: c.name, seq, cpu, ttfb, conc, rps }
  })
  const line = (label: string, cell: (r: (typeof rows)[number]) => string) =>
    `| ${label} | ${rows.map(cell).join(' | ')} |`
  const out = [
    '',
    `| | ${rows.map((r) => r.name).join(' | ')} |`,
    `|---|${rows.map(() => '---:').join('|')}|`,
    line('one at a time, p50 (ms)', (r) => ms(r.seq.p50)),
    line('one at a time, p99 (ms)', (r) => ms(r.seq.p99)),
    line('one at a time, server CPU per request (ms)', (r) => (Number.isNaN(r.cpu) ? '–' : ms(r.cpu))),
    line(`${concurrency} concurrent, req/s`, (r) => r.rps.toFixed(0)),
    line(`${concurrency} concurrent, p99 (ms)`, (r) => ms(r.conc.p99)),
    line('stream, time to first byte p50 (ms)', (r) => ms(r.ttfb.p50)),
    line('stream, time to first byte p99 (ms)', (r) => ms(r.ttfb.p99)),
    '',
  ]
  const [direct, pipe, bare, meridian] = rows as [
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
  ]
  const portkey = rows[4]
  out.push(
    `the hop alone (a TCP pipe) adds ${ms(pipe.seq.p50 - direct.seq.p50)} ms at p50; HTTP in and out ` +
      `(the bare proxy) ${ms(bare.seq.p50 - pipe.seq.p50)} ms more`,
    `meridian adds ${ms(meridian.seq.p50 - direct.seq.p50)} ms at p50 over direct, one at a time (goal ≤ 0.3); ` +
      `the bare proxy adds ${ms(bare.seq.p50 - direct.seq.p50)} ms`,
    `meridian reaches ${(meridian.rps / bare.rps).toFixed(2)}× the bare proxy's req/s at ${concurrency} concurrent (goal ≥ 0.5)`,
    `meridian adds ${ms(meridian.ttfb.p50 - direct.ttfb.p50)} ms to the first streamed byte at p50 (goal ≤ 1)`,
  )
  if (portkey) {
    out.push(
      `portkey adds ${ms(portkey.seq.p50 - direct.seq.p50)} ms at p50, reaches ${(portkey.rps / bare.rps).toFixed(2)}× the bare ` +
        `proxy's req/s, adds ${ms(portkey.ttfb.p50 - direct.ttfb.p50)} ms to the first streamed byte`,
    )
  }
  console.log(out.join('\n'))
}
