import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningGateway, startGateway } from '../src/adapters/node/start.js'
import { validateConfig } from '../src/config/load.js'
import { memoryLogger } from './helpers/stack.js'

// An OpenAI-shaped stream (text with multi-byte characters, a tool call in pieces, a usage chunk, fields
// Meridian does not know such as `obfuscation`), replayed over a real socket in awkward pieces.
const fixture = readFileSync(new URL('./fixtures/openai-chat-stream.sse', import.meta.url))

let upstream: Server
let gateway: RunningGateway
let piece = 7
let lineEnd = '\n'

beforeAll(async () => {
  upstream = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const bytes = lineEnd === '\n' ? fixture : Buffer.from(fixture.toString('utf8').replaceAll('\n', lineEnd))
    for (let i = 0; i < bytes.length; i += piece) {
      res.write(bytes.subarray(i, i + piece))
      await new Promise((r) => setImmediate(r))
    }
    res.end()
  })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  const { port } = upstream.address() as AddressInfo
  const config = validateConfig(
    {
      providers: [
        { id: 'up', type: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_key: 'sk-fixture-0000' },
      ],
      models: [{ name: 'm', targets: [{ provider: 'up', model: 'gpt-4o-mini' }] }],
      cache: { source: 'memory' },
      storage: { database: 'memory' },
    },
    {},
  )
  gateway = await startGateway({ config, port: 0, logger: memoryLogger() })
})

afterAll(async () => {
  await gateway.close()
  await new Promise((r) => upstream.close(r))
})

async function streamThrough(): Promise<Buffer> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    }),
  })
  expect(res.status).toBe(200)
  return Buffer.from(await res.arrayBuffer())
}

/**
 * The fixture as the client gets it: byte for byte, and its cost last, as an SSE comment (SDKs skip comments):
 * 21 prompt and 14 completion tokens of gpt-4o-mini at $0.15 and $0.60 per million.
 */
const expected = fixture
  .toString('utf8')
  .replace('data: [DONE]\n\n', ': x-meridian-cost: 0.00001155\n\ndata: [DONE]\n\n')

describe('stream replay', () => {
  it.each([1, 3, 7, 64, 4096])(
    'reproduces the stream byte for byte when it arrives in %i-byte pieces',
    async (size) => {
      piece = size
      lineEnd = '\n'
      expect((await streamThrough()).toString('utf8')).toBe(expected)
    },
  )

  it('normalizes CRLF line ends to LF frames', async () => {
    piece = 5
    lineEnd = '\r\n'
    expect((await streamThrough()).toString('utf8')).toBe(expected)
  })
})
