import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const MAIN = join(ROOT, 'src', 'adapters', 'node', 'main.ts')

// A clean environment: no provider keys, so `serve` falls back to the demo.
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }
const children: ChildProcess[] = []
const dirs: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-cli-'))
  dirs.push(dir)
  return dir
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM')
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function run(args: string[], env: Record<string, string> = {}, cwd = tempDir()) {
  const child = spawn(TSX, [MAIN, ...args], { cwd, env: { ...baseEnv, ...env } })
  children.push(child)
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)))
  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 15_000
    for (;;) {
      const match = pattern.exec(out)
      if (match) return match
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`no ${pattern} in output:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return { child, exited, waitFor, output: () => out }
}

describe('meridian serve', () => {
  it('with no config and no provider keys starts the demo, which answers a chat completion', async () => {
    const cli = run(['serve', '--port', '0'])
    await cli.waitFor(/starting the demo/)
    const [, url] = await cli.waitFor(/listening on (http:\/\/\S+)/)
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'demo',
        messages: [{ role: 'user', content: 'Bonjour, secret prompt' }],
      }),
    })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.object).toBe('chat.completion')
    expect(body.choices[0].message.content.length).toBeGreaterThan(0)
    // The request log line goes to stdout, without the body.
    await cli.waitFor(/"msg":"request".*"status":200/)
    expect(cli.output()).not.toContain('secret prompt')
    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
  })

  it('configures providers from their keys in the environment', async () => {
    const cli = run(['serve', '--port', '0'], {
      OPENAI_API_KEY: 'sk-env-test-123456',
      GROQ_API_KEY: 'gsk-env-123456',
    })
    await cli.waitFor(/config from the environment \(openai, groq\)/)
    const [, url] = await cli.waitFor(/listening on (http:\/\/\S+)/)
    const res = await fetch(`${url}/v1/models`)
    const ids = (await res.json()).data.map((m: { id: string }) => m.id)
    expect(ids).toContain('gpt-4o-mini')
    expect(ids).toContain('llama-3.1-8b-instant')
    expect(cli.output()).not.toContain('sk-env-test-123456')
  })

  it('reads --config and refuses a non-loopback address without gateway keys', async () => {
    const dir = tempDir()
    const file = join(dir, 'gw.yaml')
    writeFileSync(file, 'providers: [{ id: p, type: openai, base_url: "http://127.0.0.1:9/v1" }]\n')
    const cli = run(['serve', '--config', file, '--host', '0.0.0.0', '--port', '0'])
    expect(await cli.exited).toBe(1)
    expect(cli.output()).toContain('refusing to listen on 0.0.0.0 without gateway keys')
  })

  it('finds ./meridian.yaml', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'meridian.yaml'), 'models: []\n')
    const cli = run(['serve', '--port', '0'], {}, dir)
    await cli.waitFor(/config from meridian\.yaml: 0 models/)
  })
})

describe('meridian check-config', () => {
  it('names the path of each problem and exits 1', async () => {
    const dir = tempDir()
    const file = join(dir, 'bad.yaml')
    writeFileSync(
      file,
      'providers: [{ id: p, type: openai, base_url: "http://h/v1" }]\nmodels: [{ name: m, targets: [{ provider: x, model: m }] }]\n',
    )
    const cli = run(['check-config', file])
    expect(await cli.exited).toBe(1)
    expect(cli.output()).toContain('models[0].targets[0].provider: unknown provider "x"')
  })

  it('says ok for a good file', async () => {
    const dir = tempDir()
    const file = join(dir, 'good.yaml')
    writeFileSync(file, 'providers: [{ id: p, type: openai, base_url: "http://h/v1" }]\n')
    const cli = run(['check-config', file])
    expect(await cli.exited).toBe(0)
    expect(cli.output()).toContain('ok (1 providers, 0 models, 0 keys)')
  })
})

describe('meridian sim', () => {
  it('serves the simulated upstream with flags', async () => {
    const cli = run(['sim', '--port', '0', '--status', '503'])
    const [, url] = await cli.waitFor(/listening on (http:\/\/\S+)/)
    const res = await fetch(`${url}/v1/models`)
    expect(res.status).toBe(503)
    const stats = await (await fetch(`${url}/sim/stats`)).json()
    expect(stats.requests).toBe(1)
  })

  it('rejects an unknown command', async () => {
    const cli = run(['frobnicate'])
    expect(await cli.exited).toBe(2)
    expect(cli.output()).toContain('unknown command "frobnicate"')
  })
})

describe('meridian health', () => {
  it("prints the health gate's view of a running gateway, and needs the admin token", async () => {
    const { startStack } = await import('./helpers/stack.js')
    const token = 'admin-token-0123456789abcdef'
    const stack = await startStack((config) => {
      config.admin = { token }
    })
    try {
      stack.sim.setBehaviour({ status: 503 })
      await (
        await stack.post('/v1/chat/completions', {
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'x' }],
        })
      ).text()
      const cli = run(['health', '--url', stack.url, '--token', token])
      expect(await cli.exited).toBe(0)
      expect(cli.output()).toMatch(/^target\s+state\s+requests\s+errors/m)
      expect(cli.output()).toMatch(/^sim\/sim-small\s+healthy\s+3\s+100%/m)
      const refused = run(['health', '--url', stack.url, '--token', 'wrong-token-0123456789'])
      expect(await refused.exited).toBe(1)
      expect(refused.output()).toContain('missing or invalid admin token')
    } finally {
      await stack.close()
    }
  })
})
