import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy in front of a real service (Redis, Postgres, an origin) that can be closed, reopened on the same
 * port, stalled, or pointed elsewhere; it counts the connections it accepted.
 */
export async function tcpProxy(target: URL) {
  let connections = 0
  const sockets = new Set<Socket>()
  let stalled = false
  const pipe = (from: Socket, to: Socket) => {
    sockets.add(from)
    if (stalled) from.pause()
    from.on('data', (d) => to.write(d))
    from.on('close', () => {
      sockets.delete(from)
      to.destroy()
    })
    from.on('error', () => to.destroy())
  }
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve(portOf(server))))
  const portOf = (server: Server) => {
    const address = server.address()
    return typeof address === 'object' && address ? address.port : 0
  }
  const serve = () =>
    createServer((client) => {
      connections++
      const upstream = netConnect(Number(target.port || 6379), target.hostname)
      pipe(client, upstream)
      pipe(upstream, client)
    })
  let server = serve()
  const port = await listen(server, 0)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
    async reopen() {
      server = serve()
      await listen(server, port)
    },
    /** Connections accepted so far. */
    get connections() {
      return connections
    },
    /** Connections go to `to` from now on: open ones are cut, so the next request reconnects there. */
    retarget(to: URL) {
      target = to
      for (const s of sockets) s.destroy()
    },
    stall(on: boolean) {
      stalled = on
      for (const s of sockets) on ? s.pause() : s.resume()
    },
  }
}
