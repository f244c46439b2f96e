import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const MERIDIAN = `${ROOT}dist/adapters/node/main.js`

export interface Spawned {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts a server process and waits for the `http://…` URL it prints when it listens. */
export function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Spawned> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (data: Buffer) => {
      seen += data.toString()
      const match = /listening on (http:\/\/[^\s]+)/.exec(seen)
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
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${seen}`)))
  })
}
