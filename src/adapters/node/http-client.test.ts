import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TransportError } from '../../core/http-client.js'
import { undiciClient } from './http-client.js'

let server: Server
let origin: string
let connections = 0
let route: (req: IncomingMessage, res: ServerResponse) => void = () => {}
const client = undiciClient()

beforeAll(async () => {
  server = createServer((req, res) => route(req, res))
  server.on('connection', () => {
    connections++
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await client.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

const get = (path = '/', timeoutMs = 5000, signal = new AbortController().signal) =>
  client.request({ origin, path, method: 'GET', headers: {} }, { signal, timeoutMs })

describe('undiciClient', () => {
  it('reads a whole body and its headers', async () => {
    route = (_req, res) => {
      res.writeHead(201, { 'x-a': '1', 'set-cookie': ['a=1', 'b=2'] })
      res.write('hé')
      res.end('llo')
    }
    const res = await get()
    expect(res.status).toBe(201)
    expect(res.header('x-a')).toBe('1')
    expect(res.header('set-cookie')).toBe('a=1, b=2')
    expect(await res.text()).toBe('héllo')
  })

  it('applies backpressure: a slow reader pauses the upstream instead of buffering it', async () => {
    const chunk = Buffer.alloc(64 * 1024, 120)
    let written = 0
    let blocked = false
    route = (_req, res) => {
      res.writeHead(200)
      const pump = () => {
        while (written < 2000) {
          written++
          if (!res.write(chunk)) {
            blocked = true
            res.once('drain', pump)
            return
          }
        }
        res.end()
      }
      pump()
    }
    const res = await get()
    const reader = res.body[Symbol.asyncIterator]()
    await reader.next()
    await new Promise((r) => setTimeout(r, 300))
    // 2000 × 64 KB = 125 MB on offer; with the reader idle, only socket buffers and a few chunks are in flight.
    expect(blocked).toBe(true)
    expect(written).toBeLessThan(400)
    let read = 1
    for (;;) {
      const { done } = await reader.next()
      if (done) break
      read++
    }
    expect(written).toBe(2000)
    expect(read).toBeGreaterThan(0)
  })

  it('a reader that stops early leaves the connection usable', async () => {
    route = (_req, res) => {
      res.writeHead(200)
      res.write('data: 1\n\n')
      setTimeout(() => res.end('data: [DONE]\n\n'), 20)
    }
    const before = connections
    const first = await get()
    const it = first.body[Symbol.asyncIterator]()
    await it.next()
    await it.return?.()
    await new Promise((r) => setTimeout(r, 60))
    route = (_req, res) => res.end('ok')
    expect(await (await get()).text()).toBe('ok')
    expect(connections - before).toBe(0)
  })

  it('turns an abort, a timeout and a refused connection into transport errors', async () => {
    route = () => {} // never answers
    const controller = new AbortController()
    const pending = get('/', 5000, controller.signal)
    setTimeout(() => controller.abort(), 20)
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' })
    await expect(get('/', 50)).rejects.toMatchObject({ kind: 'timeout' })
    const refused = client.request(
      { origin: 'http://127.0.0.1:1', path: '/', method: 'GET', headers: {} },
      { signal: new AbortController().signal, timeoutMs: 1000 },
    )
    await expect(refused).rejects.toBeInstanceOf(TransportError)
    await expect(refused).rejects.toMatchObject({ kind: 'network' })
  })

  it('a body that stalls past the timeout fails its reader', async () => {
    route = (_req, res) => {
      res.writeHead(200)
      res.write('part')
    }
    const res = await get('/', 100)
    const it = res.body[Symbol.asyncIterator]()
    expect((await it.next()).done).toBe(false)
    await expect(it.next()).rejects.toMatchObject({ kind: 'timeout' })
  })
})
