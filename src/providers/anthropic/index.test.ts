import { describe, expect, it } from 'vitest'
import { createAnthropic } from './index.js'

const messages = [{ role: 'user', content: 'Hi' }]

describe('anthropic provider', () => {
  const claude = createAnthropic({ id: 'claude', apiKey: 'sk-ant-api03-test', timeoutMs: 30_000 })

  it('posts to /v1/messages with x-api-key and anthropic-version', () => {
    const req = claude.buildRequest('chat', { model: 'x', messages, seed: 3 }, 'claude-haiku-4-5', false)
    expect(req).toMatchObject({ origin: 'https://api.anthropic.com', path: '/v1/messages', method: 'POST' })
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-ant-api03-test',
    })
    expect(JSON.parse(req.body!)).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    })
    expect(req.warnings).toEqual(['seed'])
    expect(claude.secrets).toEqual(['sk-ant-api03-test'])
    expect(claude.dialect).toBe('anthropic')
  })

  it('streams ask for event-stream and send stream: true', () => {
    const req = claude.buildRequest('chat', { model: 'x', messages, stream: true }, 'claude-haiku-4-5', true)
    expect(req.headers.accept).toBe('text/event-stream')
    expect(JSON.parse(req.body!).stream).toBe(true)
    expect(req).not.toHaveProperty('warnings')
  })

  it('options: base URL, version, headers, default max tokens per model', () => {
    const p = createAnthropic({
      id: 'proxy',
      baseUrl: 'http://127.0.0.1:9000/anthropic/v1/',
      version: '2024-01-01',
      headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' },
      defaultMaxTokens: 1024,
      maxTokensByModel: { 'claude-opus-4-1': 32_000 },
      timeoutMs: 1000,
    })
    const req = p.buildRequest('chat', { messages }, 'claude-opus-4-1', false)
    expect(`${req.origin}${req.path}`).toBe('http://127.0.0.1:9000/anthropic/v1/messages')
    expect(req.headers['anthropic-version']).toBe('2024-01-01')
    expect(req.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31')
    expect(req.headers['x-api-key']).toBeUndefined()
    expect(JSON.parse(req.body!).max_tokens).toBe(32_000)
    expect(JSON.parse(p.buildRequest('chat', { messages }, 'claude-haiku-4-5', false).body!).max_tokens).toBe(
      1024,
    )
    expect(p.secrets).toEqual([])
  })

  it('native passthrough: the Messages body untouched but for the model', () => {
    const native = {
      model: 'alias',
      max_tokens: 100,
      system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    }
    const req = claude.buildNativeRequest!(native, 'claude-sonnet-4-5', true)
    expect(req.path).toBe('/v1/messages')
    expect(req.headers['x-api-key']).toBe('sk-ant-api03-test')
    expect(req.headers.accept).toBe('text/event-stream')
    expect(JSON.parse(req.body!)).toEqual({ ...native, model: 'claude-sonnet-4-5' })
  })

  it('embeddings are a 400', () => {
    expect(() => claude.buildRequest('embeddings', { input: 'x' }, 'm', false)).toThrow(
      expect.objectContaining({
        code: 'MERIDIAN_INVALID_REQUEST',
        status: 400,
        message: expect.stringContaining('anthropic has no embeddings API'),
      }),
    )
  })

  it('parseResponse stamps created from the clock', () => {
    const p = createAnthropic({ id: 'c', timeoutMs: 1, clock: { epoch: () => 1_700_000_000_999 } })
    const text = JSON.stringify({
      id: 'msg_1',
      type: 'message',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 1, output_tokens: 1 },
    })
    expect(JSON.parse(p.parseResponse('chat', text)).created).toBe(1_700_000_000)
  })

  it('mapError: 529 → 503', () => {
    expect(
      claude.mapError(
        529,
        '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        () => undefined,
      ),
    ).toMatchObject({ status: 503, retryable: true })
  })
})
