import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../bench/lib/processes.js'

const ROOT = join(import.meta.dirname, '..', '..')
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler')

export const EDGE_SECRET = 'edge-secret-0123456789abcdef0123456789'

export interface RunningEdge {
  url: string
  /** Everything wrangler and the worker printed. */
  output(): string
  stop(): Promise<void>
}

/**
 * The edge worker under `wrangler dev` (real workerd, local KV and Durable Objects in a fresh directory), in
 * front of `origins`, as `npm run edge:dev` runs it. Telemetry is off.
 */
export async function startEdge(origins: string[], secret = EDGE_SECRET): Promise<RunningEdge> {
  const [port, inspector] = [await freePort(), await freePort()]
  const state = mkdtempSync(join(tmpdir(), 'meridian-edge-'))
  const child: ChildProcess = spawn(
    WRANGLER,
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--persist-to',
      state,
      '--show-interactive-dev-session=false',
      '--var',
      `ORIGIN_URL:${origins.join(',')}`,
      '--var',
      `EDGE_SECRET:${secret}`,
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`wrangler dev did not start:\n${out}`)), 60_000)
    const check = setInterval(() => {
      const ready = /Ready on (http:\/\/\S+)/.exec(out)
      if (ready || child.exitCode !== null) {
        clearInterval(check)
        clearTimeout(deadline)
        if (ready) resolve(ready[1]!)
        else reject(new Error(`wrangler dev exited:\n${out}`))
      }
    }, 50)
  })
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      rmSync(state, { recursive: true, force: true })
    },
  }
}
