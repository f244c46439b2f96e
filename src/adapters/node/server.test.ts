import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listen, type RunningServer } from './server.js'

// Echoes what the handler saw of the body, so every way a body can arrive is checked end to end.
let server: RunningServer
beforeAll(async () => {
  server = await listen(
    async (req) => {
      const text = req.method === 'GET' ? '' : await req.text()
      return new Response(JSON.stringify({ method: req.method, length: text.length, text }), {
        headers: { 'content-type': 'application/json' },
      })
    },
    '127.0.0.1',
    0,
  )
})
afterAll(() => server.close())

/** Opens a raw connection; `read(n)` resolves once n complete responses have arrived, with their bodies. */
function raw(): Promise<{ socket: Socket; read(n: number): Promise<{ status: number; body: string }[]> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => {
      let seen = ''
      socket.setEncoding('latin1')
      socket.on('data', (d: string) => {
        seen += d
      })
      const parse = () => {
        const out: { status: number; body: string }[] = []
        let rest = seen
        for (;;) {
          const end = rest.indexOf('\r\n\r\n')
          if (end === -1) return out
          const head = rest.slice(0, end)
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN)
          if (rest.length < end + 4 + length) return out
          const bytes = rest.slice(end + 4, end + 4 + length)
          out.push({ status: Number(head.slice(9, 12)), body: Buffer.from(bytes, 'latin1').toString('utf8') })
          rest = rest.slice(end + 4 + length)
        }
      }
      const read = async (n: number) => {
        const deadline = Date.now() + 5000
        while (parse().length < n) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} responses:\n${seen}`)
          await new Promise((r) => setTimeout(r, 5))
        }
        return parse()
      }
      resolve({ socket, read })
    })
    socket.once('error', reject)
  })
}

const head = (length: number, extra = '') =>
  `POST /x HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${extra}\r\n`

describe('the Node server reads request bodies however they arrive', () => {
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'héllo' }] })
  const bytes = Buffer.byteLength(body)

  it('a body sent with its head (taken whole), many times over one keep-alive connection', async () => {
    const { socket, read } = await raw()
    for (let i = 1; i <= 50; i++) {
      socket.write(head(bytes) + body)
      const all = await read(i)
      expect(all[i - 1]!.status).toBe(200)
      expect(JSON.parse(all[i - 1]!.body)).toEqual({ method: 'POST', length: body.length, text: body })
    }
    socket.destroy()
  })

  it('a body that arrives after its head, in pieces', async () => {
    const { socket, read } = await raw()
    socket.write(head(bytes))
    await new Promise((r) => setTimeout(r, 30))
    const buf = Buffer.from(body)
    socket.write(buf.subarray(0, 10))
    await new Promise((r) => setTimeout(r, 30))
    socket.write(buf.subarray(10))
    const [res] = await read(1)
    expect(JSON.parse(res!.body).text).toBe(body)
    socket.destroy()
  })

  it('a chunked body', async () => {
    const { socket, read } = await raw()
    const first = body.slice(0, 12)
    const second = body.slice(12)
    socket.write(
      'POST /x HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n' +
        `${Buffer.byteLength(first).toString(16)}\r\n${first}\r\n` +
        `${Buffer.byteLength(second).toString(16)}\r\n${second}\r\n0\r\n\r\n`,
    )
    const [res] = await read(1)
    expect(JSON.parse(res!.body).text).toBe(body)
    socket.destroy()
  })

  it('an empty body, and requests pipelined in one write, answered in order', async () => {
    const { socket, read } = await raw()
    const other = '{"n":2}'
    socket.write(
      `${head(0)}${head(bytes)}${body}GET /x HTTP/1.1\r\nhost: t\r\n\r\n${head(other.length)}${other}`,
    )
    const all = await read(4)
    expect(all.map((r) => JSON.parse(r.body))).toEqual([
      { method: 'POST', length: 0, text: '' },
      { method: 'POST', length: body.length, text: body },
      { method: 'GET', length: 0, text: '' },
      { method: 'POST', length: other.length, text: other },
    ])
    socket.destroy()
  })
})
