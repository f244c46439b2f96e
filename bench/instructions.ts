/**
 * How much work does Meridian do per request, apart from the machine's noise? Instructions counted by
 * valgrind's callgrind on the server's main thread (the JavaScript thread), per request, after a warm-up:
 * repeatable where wall-clock time on a shared virtual machine is not. Slow (valgrind), so a few thousand
 * requests only. Needs valgrind (Debian's package).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Load, pool, sequential } from './lib/load.js'
import { MERIDIAN, ROOT, spawnServer } from './lib/processes.js'

export async function instructions(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      warmup: { type: 'string', default: '2000' },
      requests: { type: 'string', default: '1000' },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  })
  const warmup = Number(values.warmup)
  const requests = Number(values.requests)
  const dir = mkdtempSync(join(tmpdir(), 'meridian-instructions-'))
  const sim = await spawnServer([MERIDIAN, 'sim', '--port', '0'])
  try {
    const configPath = join(dir, 'meridian.yaml')
    writeFileSync(
      configPath,
      `providers: [{ id: sim, type: openai, base_url: "${sim.url}/v1", api_key: sim-key-0000 }]
models: [{ name: bench, targets: [{ provider: sim, model: bench }] }]
`,
    )
    const targets = [
      { name: 'bare undici proxy', args: [join(ROOT, 'bench/bare-proxy.mjs'), sim.url, '0'] },
      { name: 'meridian', args: [MERIDIAN, 'serve', '--config', configPath, '--port', '0'] },
    ]
    const load: Load = {
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sim-key-0000' },
      body: JSON.stringify({
        model: 'bench',
        messages: [{ role: 'user', content: 'What is the capital of France?' }],
      }),
    }
    const rows: string[] = []
    for (const target of targets.filter((t) => !values.only || t.name === values.only)) {
      const out = join(dir, target.name.replaceAll(' ', '-'))
      const valgrind = [
        'valgrind',
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${out}.%p`,
      ]
      const server = await spawnServer(target.args, {}, undefined, valgrind)
      try {
        const one = pool(server.url, 1)
        await sequential(one, load, warmup, [])
        execFileSync('callgrind_control', ['-z', String(server.child.pid)])
        await sequential(one, load, requests, [])
        execFileSync('callgrind_control', ['-d', String(server.child.pid)])
        await one.close()
      } finally {
        await server.stop()
      }
      // The main (JavaScript) thread's file ends in -01; the dump we asked for is part .1.
      const file = readdirSync(dir).find(
        (f) => f.startsWith(`${target.name.replaceAll(' ', '-')}.`) && f.endsWith('.1-01'),
      )
      if (!file) throw new Error(`no callgrind dump for ${target.name}`)
      const summary = /^summary: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
      const perRequest = Number(summary?.[1]) / requests
      rows.push(`| ${target.name} | ${Math.round(perRequest).toLocaleString('en-US')} |`)
    }
    console.log(`\n| server | instructions per request, main thread |\n|---|---:|\n${rows.join('\n')}`)
  } finally {
    await sim.stop()
    if (values.keep) console.log(`callgrind files kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}
