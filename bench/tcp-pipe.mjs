// Below any HTTP proxy: bytes piped between two sockets, parsing nothing. What the extra hop alone costs on this
// machine (its wake-ups and system calls), so the bare proxy's column can be read as hop plus HTTP work.
import { connect, createServer } from 'node:net'

const upstream = new URL(process.argv[2])
const server = createServer({ noDelay: true }, (client) => {
  const up = connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true })
  client.pipe(up)
  up.pipe(client)
  client.on('error', () => up.destroy())
  up.on('error', () => client.destroy())
})
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  console.log(`tcp pipe listening on http://127.0.0.1:${server.address().port}`)
})
