import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { FetchHandler } from '../../core/gateway.js'

export interface RunningServer {
  url: string
  port: number
  close(): Promise<void>
}

/**
 * Serves a fetch handler over node:http with @hono/node-server, chosen by measurement (bench/server-layer.ts):
 * its lazy Request and cached Response avoid building WHATWG objects on the hot path.
 */
export function listen(handler: FetchHandler, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: handler, hostname: host, port, overrideGlobalObjects: true },
      (info: AddressInfo) => {
        const shownHost = host.includes(':') ? `[${host}]` : host
        resolve({
          url: `http://${shownHost}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done())
              if ('closeAllConnections' in server) server.closeAllConnections()
            }),
        })
      },
    )
    server.once('error', reject)
    if ('keepAliveTimeout' in server) server.keepAliveTimeout = 65_000
  })
}
