// The floor for a Node proxy: node:http in, undici out, nothing else (no validation, no auth, no logs).
import { createServer } from 'node:http'
import { Pool } from 'undici'

const pool = new Pool(process.argv[2], { connections: 256, pipelining: 1 })
const server = createServer(async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const up = await pool.request({
    path: req.url,
    method: req.method,
    headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
    body: Buffer.concat(chunks),
  })
  res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] })
  for await (const chunk of up.body) res.write(chunk)
  res.end()
})
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  console.log(`bare proxy listening on http://127.0.0.1:${server.address().port}`)
})
