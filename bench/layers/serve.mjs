// One server layer serving the same small fetch handler: read the JSON body, answer JSON.
// usage: node bench/layers/serve.mjs <raw|hono-node-server|srvx> <port>
import { createServer } from 'node:http'

const [layer, port] = process.argv.slice(2)
const answer = JSON.stringify({
  id: 'x',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' } }],
})
const headers = { 'content-type': 'application/json', 'x-request-id': 'r' }
const fetchHandler = async (req) => {
  JSON.parse(await req.text())
  return new Response(answer, { status: 200, headers })
}

let listener
if (layer === 'raw') {
  // The floor: node:http with no Request or Response objects at all.
  listener = (req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString())
      res.writeHead(200, headers)
      res.end(answer)
    })
  }
} else if (layer === 'hono-node-server') {
  const { getRequestListener } = await import('@hono/node-server')
  listener = getRequestListener(fetchHandler)
} else if (layer === 'srvx') {
  const { toNodeHandler } = await import('srvx/node')
  listener = toNodeHandler(fetchHandler)
} else throw new Error(`unknown layer ${layer}`)

const server = createServer(listener)
server.listen(Number(port ?? 0), '127.0.0.1', () =>
  console.log(`${layer} listening on http://127.0.0.1:${server.address().port}`),
)
