import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
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

/**
 * Serves a fetch handler over node:http with @hono/node-server's request listener, chosen by measurement
 * (BENCHMARKS.md): its lazy Request and cached Response build no WHATWG objects on the hot path.
 */
export function listen(handler: FetchHandler, host: string, port: number): Promise<RunningServer> {
  const listener = getRequestListener(handler, { overrideGlobalObjects: true })
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
