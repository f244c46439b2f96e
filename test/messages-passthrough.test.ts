import { afterAll, beforeAll, expect, it } from 'vitest'
import { stackBehindAnthropic } from './helpers/anthropic-upstream.js'
import { GATEWAY_KEY, type Stack } from './helpers/stack.js'

let stack: Stack

// An Anthropic stand-in that starts a 200 answer and drops the connection halfway through its body.
beforeAll(async () => {
  stack = await stackBehindAnthropic((_, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' })
    res.write('{"id":"msg_01","type":"message","content":[{"type":"text","text":"Half an ans')
    setTimeout(() => res.socket?.destroy(), 20)
  })
})
afterAll(() => stack.close())

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
