import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateAgainstSpec } from './helpers/openai-spec.js'
import { chatBody, type Stack, sseFrames, startStack } from './helpers/stack.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack.close())

describe('POST /v1/chat/completions', () => {
  it('answers in OpenAI shape with request id and Server-Timing', async () => {
    const res = await stack.post('/v1/chat/completions', chatBody())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('server-timing')).toMatch(/^gateway;dur=\d+\.\d+, upstream;dur=\d+\.\d+$/)
    const body = await res.json()
    expect(validateAgainstSpec('CreateChatCompletionResponse', body)).toEqual([])
    expect(body.choices[0].message.content.length).toBeGreaterThan(0)
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens)
  })

  it("keeps the client's x-request-id", async () => {
    const res = await stack.post('/v1/chat/completions', chatBody(), { 'x-request-id': 'req-abc.123' })
    expect(res.headers.get('x-request-id')).toBe('req-abc.123')
  })

  it('replaces an x-request-id that is unsafe to echo', async () => {
    const res = await stack.post('/v1/chat/completions', chatBody(), { 'x-request-id': 'a'.repeat(300) })
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('forwards the request untouched but for the model, unknown fields included', async () => {
    const tools = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
    ]
    const sent = chatBody({
      tools,
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      n: 2,
      logprobs: true,
      seed: 7,
      temperature: 0,
      some_future_field: { nested: [1, 'two', null] },
      messages: [{ role: 'user', content: 'hi', vendor_extension: true }],
    })
    const res = await stack.post('/v1/chat/completions', sent)
    expect(res.status).toBe(200)
    const forwarded = stack.sim.stats().last_request!
    expect(forwarded.path).toBe('/v1/chat/completions')
    expect(forwarded.body).toEqual({ ...sent, model: 'sim-small' })
    expect(forwarded.headers.authorization).toBe('Bearer sk-sim-secret-0123456789abcdef')
    // The client's gateway key never reaches the provider.
    expect(JSON.stringify(forwarded.headers)).not.toContain('mk-test-key')
    const body = await res.json()
    expect(body.choices).toHaveLength(2)
  })

  it('gives the same answer to the same request and another to another', async () => {
    const a = await (await stack.post('/v1/chat/completions', chatBody())).json()
    const b = await (await stack.post('/v1/chat/completions', chatBody())).json()
    const c = await (
      await stack.post('/v1/chat/completions', chatBody({ messages: [{ role: 'user', content: 'Other' }] }))
    ).json()
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content)
    expect(a.choices[0].message.content).not.toBe(c.choices[0].message.content)
  })

  it('streams SSE chunks ending with [DONE], with a usage chunk when asked', async () => {
    const res = await stack.post(
      '/v1/chat/completions',
      chatBody({ stream: true, stream_options: { include_usage: true } }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    expect(res.headers.get('x-request-id')).toBeTruthy()
    expect(res.headers.get('server-timing')).toContain('upstream;dur=')
    const frames = sseFrames(await res.text())
    expect(frames.at(-1)).toBe('[DONE]')
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f))
    for (const chunk of chunks)
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
    const usage = chunks.at(-1)
    expect(usage.choices).toEqual([])
    expect(usage.usage.completion_tokens).toBeGreaterThan(0)
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true)
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    expect(text.length).toBeGreaterThan(0)
  })

  it('streams without a usage chunk when not asked', async () => {
    const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
    const frames = sseFrames(await res.text())
    expect(frames.at(-1)).toBe('[DONE]')
    expect(frames.slice(0, -1).every((f) => JSON.parse(f).usage == null)).toBe(true)
  })
})

describe('other routes', () => {
  it('POST /v1/embeddings', async () => {
    const res = await stack.post('/v1/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'] })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(validateAgainstSpec('CreateEmbeddingResponse', body)).toEqual([])
    expect(body.data).toHaveLength(2)
    expect((stack.sim.stats().last_request!.body as { model: string }).model).toBe('sim-embed')
  })

  it('GET /v1/models lists the configured names, then the auto-routing aliases', async () => {
    const res = await fetch(`${stack.url}/v1/models`, {
      headers: { authorization: 'Bearer mk-test-key-0123456789' },
    })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(validateAgainstSpec('ListModelsResponse', body)).toEqual([])
    expect(body.data.map((m: { id: string }) => m.id)).toEqual([
      'gpt-4o-mini',
      'text-embedding-3-small',
      'auto',
      'auto:eco',
      'auto:balanced',
      'auto:sport',
    ])
  })

  it('GET /health needs no key', async () => {
    const res = await fetch(`${stack.url}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect(res.headers.get('x-request-id')).toBeTruthy()
  })

  it('GET /ready reports its checks', async () => {
    const res = await fetch(`${stack.url}/ready`)
    expect(res.status).toBe(200)
    expect((await res.json()).status).toBe('ready')
  })
})

describe('GET /ready with a dependency down', () => {
  it('answers 503 naming it', async () => {
    const down = await startStack(undefined, {
      readiness: [
        { name: 'store', check: async () => {} },
        { name: 'queue', check: () => Promise.reject(new Error('connection refused')) },
      ],
    })
    try {
      const res = await fetch(`${down.url}/ready`)
      expect(res.status).toBe(503)
      const body = await res.json()
      expect(body.error.code).toBe('MERIDIAN_NOT_READY')
      expect(body.error.message).toContain('queue: connection refused')
      expect(body.checks).toEqual({ database: 'ok', store: 'ok', queue: 'connection refused' })
    } finally {
      await down.close()
    }
  })
})
