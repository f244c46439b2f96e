import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { getRequestListener, type Http2Bindings, type HttpBindings } from '@hono/node-server'
import type { FetchHandler } from '../../core/gateway.js'

export interface RunningServer {
  url: string
  port: number
  close(): Promise<void>
}

// The gateway answers a stream only once its first chunk is in hand, so sending the head on its own first
// (what @hono/node-server does for a streamed body) only splits head and first chunk into two packets, and
// costs the client an extra read before its first byte. Without the early flush, Node sends them together.
const keepHeadWithFirstChunk = (res: ServerResponse) => {
  res.flushHeaders = noop
}
function noop() {}

const connectionSignals = new WeakMap<Socket, AbortSignal>()

/**
 * The signal that tells the gateway its client has gone: one per connection, aborted when it closes. An
 * HTTP/1.1 client can leave a request only by closing its connection, so this is the request's own signal in
 * all but name, and it spares each request the AbortController (a few microseconds in Node 20) that reading
 * `req.signal` would build. Listeners added to it must be removed when the request ends (`atEnd`).
 */
function connectionSignal(socket: Socket): AbortSignal {
  let signal = connectionSignals.get(socket)
  if (signal === undefined) {
    const controller = new AbortController()
    socket.once('close', () => controller.abort(new Error('the client closed its connection')))
    signal = controller.signal
    connectionSignals.set(socket, signal)
  }
  return signal
}

/**
 * Serves a fetch handler over node:http with @hono/node-server's request listener, chosen by measurement
 * (BENCHMARKS.md): its lazy Request and cached Response build no WHATWG objects on the hot path.
 */
export function listen(handler: FetchHandler, host: string, port: number): Promise<RunningServer> {
  const listener = getRequestListener(
    (req: Request, { incoming }: HttpBindings | Http2Bindings) =>
      handler(req, { signal: connectionSignal(incoming.socket) }),
    { overrideGlobalObjects: true },
  )
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    keepHeadWithFirstChunk(res)
    return listener(req, res)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const { port: bound } = server.address() as AddressInfo
      const shownHost = host.includes(':') ? `[${host}]` : host
      resolve({
        url: `http://${shownHost}:${bound}`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}
