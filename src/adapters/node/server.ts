import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
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
 * `req.signal` would build. Listeners added to it must be removed when the request ends (`onAbortWhileOpen`).
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
 * When a request's whole body arrived with its head (the usual case for an API call: one write from the
 * client), hands it to @hono/node-server as `rawBody`, which its Request reads without a stream: no `data`
 * listeners, no `resume`, no `end` event on the way to the handler (~11,000 instructions a request, see
 * BENCHMARKS.md). Anything else (a body still arriving, a chunked one) is left to the stream as before.
 * The stream is ended once the response is finishing, so @hono/node-server finds it consumed and leaves the
 * connection alone.
 */
function takeWholeBody(req: IncomingMessage, res: ServerResponse): void {
  const length = req.headers['content-length']
  if (length === undefined || req.headers['transfer-encoding'] !== undefined) return
  if (req.readableLength !== Number(length)) return
  const body: Buffer | null = req.read()
  ;(req as IncomingMessage & { rawBody?: Buffer }).rawBody = body ?? EMPTY
  res.once('prefinish', () => req.read(0))
}
const EMPTY = Buffer.alloc(0)

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
    if (req.method === 'GET' || req.method === 'HEAD') return listener(req, res)
    // Node parses the body just after this event, from the same read: look for it once that is done.
    queueMicrotask(() => {
      takeWholeBody(req, res)
      listener(req, res)
    })
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
