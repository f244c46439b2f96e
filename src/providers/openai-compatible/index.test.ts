import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../config/load.js'
import type { ConfigInput } from '../../config/schema.js'
import { createOpenAICompatible } from './index.js'

const NO_USAGE = { includeUsage: false }

function provider(p: NonNullable<ConfigInput['providers']>[number]) {
  return createOpenAICompatible(validateConfig({ providers: [p] }, {}).providers[0]!)
}

describe('openai-compatible presets', () => {
  it('openai: bearer auth at api.openai.com', () => {
    const req = provider({ id: 'o', type: 'openai', api_key: 'sk-1234567' }).buildRequest(
      'chat',
      { model: 'x', messages: [] },
      'gpt-4o',
      false,
    )
    expect(req.origin).toBe('https://api.openai.com')
    expect(req.path).toBe('/v1/chat/completions')
    expect(req.headers.authorization).toBe('Bearer sk-1234567')
    expect(JSON.parse(req.body!).model).toBe('gpt-4o')
  })

  it('azure: deployment path, api-version and the api-key header', () => {
    const p = provider({
      id: 'az',
      type: 'openai',
      preset: 'azure',
      base_url: 'https://res.openai.azure.com',
      api_key: 'azure-key-123',
      api_version: '2024-10-21',
    })
    const req = p.buildRequest('embeddings', { model: 'x', input: 'a' }, 'my deploy', false)
    expect(req.origin).toBe('https://res.openai.azure.com')
    expect(req.path).toBe('/openai/deployments/my%20deploy/embeddings?api-version=2024-10-21')
    expect(req.headers['api-key']).toBe('azure-key-123')
    expect(req.headers.authorization).toBeUndefined()
    expect(p.secrets).toEqual(['azure-key-123'])
  })

  it('mistral: seed is sent as random_seed', () => {
    const req = provider({ id: 'm', type: 'openai', preset: 'mistral', api_key: 'mistral-123' }).buildRequest(
      'chat',
      { model: 'x', messages: [], seed: 4 },
      'mistral-small-latest',
      false,
    )
    expect(req.origin).toBe('https://api.mistral.ai')
    expect(JSON.parse(req.body!)).toEqual({ model: 'mistral-small-latest', messages: [], random_seed: 4 })
  })

  it('local servers need no key; streams ask for event-stream', () => {
    const req = provider({ id: 'l', type: 'openai', preset: 'ollama' }).buildRequest(
      'chat',
      { model: 'x' },
      'llama3',
      true,
    )
    expect(`${req.origin}${req.path}`).toBe('http://127.0.0.1:11434/v1/chat/completions')
    expect(req.headers.authorization).toBeUndefined()
    expect(req.headers.accept).toBe('text/event-stream')
  })

  it('extra headers are sent', () => {
    const req = provider({
      id: 'r',
      type: 'openai',
      preset: 'openrouter',
      api_key: 'or-123456',
      headers: { 'HTTP-Referer': 'https://example.com' },
    }).buildRequest('chat', { model: 'x' }, 'openai/gpt-4o', false)
    expect(req.headers['HTTP-Referer']).toBe('https://example.com')
    expect(req.origin).toBe('https://openrouter.ai')
    expect(req.path).toBe('/api/v1/chat/completions')
  })

  it('maps upstream statuses', () => {
    const p = provider({ id: 'o', type: 'openai', api_key: 'sk-1234567' })
    const none = () => undefined
    expect(
      p.mapError(429, '{"error":{"message":"slow down"}}', (h) => (h === 'retry-after' ? '7' : undefined)),
    ).toMatchObject({
      status: 429,
      headers: { 'retry-after': '7' },
    })
    expect(p.mapError(503, 'oops', none)).toMatchObject({
      status: 502,
      message: 'upstream o returned 503: oops',
    })
    expect(p.mapError(400, '{"error":{"message":"bad","param":"tools"}}', none)).toMatchObject({
      status: 400,
      param: 'tools',
      retryable: false,
    })
    expect(p.mapError(401, '{}', none)).toMatchObject({ status: 502, code: 'MERIDIAN_UPSTREAM_AUTH' })
  })

  it('stream transform: passes chunks, stops at [DONE], fails on a cut stream', async () => {
    const p = provider({ id: 'o', type: 'openai', api_key: 'sk-1234567' })
    const source = async function* (text: string) {
      yield new TextEncoder().encode(text)
    }
    const out: string[][] = []
    const text = 'data: {"x":1}\n\ndata: {"y":2}\n\ndata: [DONE]\n\ndata: {"late":1}\n\n'
    for await (const batch of p.transformStream(source(text), NO_USAGE)) out.push(batch)
    expect(out).toEqual([['{"x":1}', '{"y":2}']])
    const cut = async () => {
      for await (const _ of p.transformStream(
        source('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'),
        NO_USAGE,
      )) {
        // consume
      }
    }
    await expect(cut()).rejects.toMatchObject({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' })
  })
})

describe('openai-compatible stream transform', () => {
  const p = provider({ id: 'o', type: 'openai', api_key: 'sk-1234567' })
  async function run(...reads: string[]) {
    async function* source() {
      for (const r of reads) yield new TextEncoder().encode(r)
    }
    const out: string[][] = []
    for await (const batch of p.transformStream(source(), NO_USAGE)) out.push(batch)
    return out
  }

  it('batches by read', async () => {
    expect(await run('data: 1\n\ndata: 2\n\nda', 'ta: 3\n\n', ': ping\n\n', 'data: [DONE]\n\n')).toEqual([
      ['1', '2'],
      ['3'],
    ])
  })

  it('keeps a last chunk that lacks its blank line when the stream finished', async () => {
    const last = '{"choices":[{"delta":{},"finish_reason":"stop"}]}'
    expect(await run(`data: 1\n\ndata: ${last}`)).toEqual([['1'], [last]])
  })

  it('raises an error event sent inside the stream', async () => {
    await expect(run('data: 1\n\n', 'data: {"error":{"message":"overloaded"}}\n\n')).rejects.toMatchObject({
      code: 'MERIDIAN_UPSTREAM_ERROR',
      message: expect.stringContaining('overloaded'),
    })
  })
})
