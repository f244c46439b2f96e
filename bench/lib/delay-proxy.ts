import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy that delays every piece of data by `oneWayMs` in each direction: a wide-area link on loopback
 * (the kernel here has no netem). Order is kept (timers of one delay fire in order). Connection set-up is not
 * delayed, so a new connection costs no extra round trip: the numbers are for warm, kept-alive connections.
 */
export async function delayProxy(target: { host: string; port: number }, oneWayMs: number) {
  const sockets = new Set<Socket>()
  const pipe = (from: Socket, to: Socket) => {
    sockets.add(from)
    from.on('data', (data) => {
      setTimeout(() => {
        if (!to.destroyed) to.write(data)
      }, oneWayMs)
    })
    from.on('end', () => setTimeout(() => to.end(), oneWayMs))
    from.on('close', () => {
      sockets.delete(from)
      setTimeout(() => to.destroy(), oneWayMs)
    })
    from.on('error', () => to.destroy())
  }
  const server = createServer((client) => {
    client.setNoDelay(true)
    const upstream = connect(target.port, target.host)
    upstream.setNoDelay(true)
    pipe(client, upstream)
    pipe(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
