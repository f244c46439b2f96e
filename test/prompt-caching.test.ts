import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stackBehindAnthropic } from './helpers/anthropic-upstream.js'
import { GATEWAY_KEY, type Stack } from './helpers/stack.js'

// An Anthropic stand-in that keeps every request body it receives and answers with a recorded message whose
// usage reports cache reads and writes, so the test sees what reached "Anthropic" and what came back.
const MESSAGE = readFileSync(new URL('./fixtures/anthropic/message.json', import.meta.url), 'utf8')
const received: Record<string, unknown>[] = []
let stack: Stack

beforeAll(async () => {
  stack = await stackBehindAnthropic((body, res) => {
    received.push(JSON.parse(body))
    res.writeHead(200, { 'content-type': 'application/json' }).end(MESSAGE)
  })
})
afterAll(() => stack.close())

const LONG_CONTEXT = 'A long shared document. '.repeat(200)

describe('prompt caching', () => {
  it('passes cache_control through /v1/messages untouched, and reports cache usage in Anthropic’s shape', async () => {
    const body = {
      model: 'claude',
      max_tokens: 100,
      system: [{ type: 'text', text: LONG_CONTEXT, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'What does it say?', cache_control: { type: 'ephemeral' } }],
        },
      ],
    }
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': GATEWAY_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(200)
    expect(received.at(-1)).toEqual({ ...body, model: 'claude-sonnet-4-5' })
    const message = await res.json()
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 4096, cache_creation_input_tokens: 2051 })
  })

  it('carries cache_control from OpenAI content parts to Anthropic blocks, and reports cached tokens in OpenAI’s shape', async () => {
    const res = await stack.post('/v1/chat/completions', {
      model: 'claude',
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: LONG_CONTEXT, cache_control: { type: 'ephemeral' } }],
        },
        { role: 'user', content: 'What does it say?' },
      ],
    })
    expect(res.status).toBe(200)
    expect(received.at(-1)!.system).toEqual([
      { type: 'text', text: LONG_CONTEXT, cache_control: { type: 'ephemeral' } },
    ])
    const completion = await res.json()
    expect(completion.usage.prompt_tokens).toBe(14 + 2051 + 4096)
    expect(completion.usage.prompt_tokens_details.cached_tokens).toBe(4096)
    expect(completion.usage.prompt_tokens_details.cache_write_tokens).toBe(2051)
  })
})
