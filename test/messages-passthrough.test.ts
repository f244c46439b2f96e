import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { GATEWAY_KEY, type Stack, startStack } from './helpers/stack.js'

// An Anthropic stand-in that starts a 200 answer and drops the connection halfway through its body.
let upstream: Server
let stack: Stack

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' })
      res.write('{"id":"msg_01","type":"message","content":[{"type":"text","text":"Half an ans')
      setTimeout(() => res.socket?.destroy(), 20)
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const { port } = upstream.address() as AddressInfo
  stack = await startStack((config) => {
    config.providers!.push({
      id: 'claude',
      type: 'anthropic',
      base_url: `http://127.0.0.1:${port}/v1`,
      api_key: 'sk-ant-test-0000',
    })
    config.models!.push({ name: 'claude', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] })
  })
})
afterAll(async () => {
  await stack.close()
  await new Promise((resolve) => upstream.close(resolve))
})

it('a passed-through answer cut off mid-body is a 502 api_error in Anthropic’s shape, not a 500', async () => {
  const res = await fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
  })
  expect(res.status).toBe(502)
  const body = await res.json()
  expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } })
  expect(body.error.message).toMatch(/claude/)
})
