import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_KEY, type Stack, startStack } from './helpers/stack.js'

let stack: Stack
let client: OpenAI

beforeAll(async () => {
  stack = await startStack()
  client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 })
})
afterAll(() => stack.close())
afterEach(() => stack.sim.reset())

describe('the official openai SDK against Meridian', () => {
  it('chat.completions.create', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(completion.object).toBe('chat.completion')
    expect(completion.choices[0]?.message.content).toBeTruthy()
    expect(completion.usage?.total_tokens).toBeGreaterThan(0)
  })

  it('streams with include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: OpenAI.CompletionUsage | null | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(text.length).toBeGreaterThan(0)
    expect(usage?.completion_tokens).toBeGreaterThan(0)
  })

  it('streams tool calls through', async () => {
    const stream = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      tool_choice: 'required',
    })
    const final = await stream.finalChatCompletion()
    const call = final.choices[0]?.message.tool_calls?.[0]
    expect(call?.type === 'function' && call.function.name).toBe('get_weather')
    expect(() => JSON.parse(call?.type === 'function' ? call.function.arguments : '')).not.toThrow()
  })

  it('embeddings.create', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' })
    expect(res.data[0]?.embedding.length).toBeGreaterThan(0)
  })

  it('models.list', async () => {
    const ids: string[] = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids.slice(0, 3)).toEqual(['gpt-4o-mini', 'text-embedding-3-small', 'auto'])
  })

  it('raises its own error classes', async () => {
    const bad = new OpenAI({ apiKey: 'mk-nope-nope-nope', baseURL: `${stack.url}/v1`, maxRetries: 0 })
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
    await expect(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    await expect(
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        temperature: 9,
      }),
    ).rejects.toMatchObject({ status: 400, param: 'temperature', code: 'MERIDIAN_INVALID_REQUEST' })
    stack.sim.setBehaviour({ status: 429 })
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError)
    stack.sim.setBehaviour({ status: 500 })
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 502 })
  })

  it('raises an error for a stream that fails midway', async () => {
    const slow = await startStack((config) => {
      config.providers![0]!.timeout_ms = 300
    })
    slow.sim.setBehaviour({ chunks: 10, stall_after_chunks: 3 })
    const sdk = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${slow.url}/v1`, maxRetries: 0 })
    try {
      const stream = await sdk.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      })
      const consume = async () => {
        for await (const _ of stream) {
          // read until it fails
        }
      }
      await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError)
    } finally {
      await slow.close()
    }
  })
})
