import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const MERIDIAN = `${ROOT}dist/adapters/node/main.js`

export interface Spawned {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

/** A free loopback port, for servers that cannot be told to pick one and report it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts a server process and waits for the `listening on http://…` URL it prints, or, given `ready` and `url`,
 * for a line matching `ready`.
 */
export function spawnServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  known?: { ready: RegExp; url: string },
  /** A command to run Node under (valgrind …). */
  wrapper: string[] = [],
): Promise<Spawned> {
  const [command, ...rest] = [...wrapper, process.execPath, ...args] as [string, ...string[]]
  // Each server starts in an empty directory of its own: a gateway's embedded storage (`.meridian/`, relative to
  // it) starts fresh every time, as it would on a new machine, instead of growing in the checkout run after run
  // (and carrying one run's keys, which switch auth on, into the next).
  const cwd = mkdtempSync(join(tmpdir(), 'meridian-bench-server-'))
  const child = spawn(command, rest, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (data: Buffer) => {
      seen += data.toString()
      const match = known
        ? known.ready.test(seen)
          ? [seen, known.url]
          : null
        : /listening on (http:\/\/[^\s]+)/.exec(seen)
      if (!match) return
      child.stdout!.off('data', onData)
      child.stdout!.resume() // keep draining (request logs) so the child never blocks on a full pipe
      resolve({
        url: match[1]!,
        child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString()
    })
    child.once('exit', (code) => {
      rmSync(cwd, { recursive: true, force: true })
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${seen}`))
    })
  })
}
