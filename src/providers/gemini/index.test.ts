import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createGemini } from './index.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8')

const gemini = createGemini({
  id: 'google',
  apiKey: 'AIzaSy-test-key-0000',
  timeoutMs: 30_000,
  clock: { epoch: () => 1_762_000_000_999 },
})
const chat = { model: 'alias', messages: [{ role: 'user', content: 'Hi' }] }

describe('createGemini', () => {
  it('declares itself: contract v1, gemini dialect, its key as a secret', () => {
    expect(gemini).toMatchObject({ contract: 'v1', id: 'google', timeoutMs: 30_000, dialect: 'gemini' })
    expect(gemini.secrets).toEqual(['AIzaSy-test-key-0000'])
  })

  it('chat → generateContent, the key in x-goog-api-key and never in the URL', () => {
    const req = gemini.buildRequest('chat', chat, 'gemini-2.5-flash', false)
    expect(req).toEqual({
      origin: 'https://generativelanguage.googleapis.com',
      path: '/v1beta/models/gemini-2.5-flash:generateContent',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIzaSy-test-key-0000' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }),
    })
    expect(`${req.origin}${req.path}`).not.toContain('AIzaSy')
  })

  it('stream → streamGenerateContent?alt=sse, asking for event-stream', () => {
    const req = gemini.buildRequest('chat', { ...chat, stream: true }, 'gemini-2.5-flash', true)
    expect(req.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')
    expect(req.headers.accept).toBe('text/event-stream')
  })

  it('a base URL, extra headers, full resource names and the dropped parameters as warnings', () => {
    const p = createGemini({
      id: 'g',
      baseUrl: 'http://127.0.0.1:9100/v1beta/',
      headers: { 'x-extra': '1' },
      timeoutMs: 1,
    })
    const req = p.buildRequest('chat', { ...chat, user: 'u-1' }, 'tunedModels/my-model', false)
    expect(`${req.origin}${req.path}`).toBe(
      'http://127.0.0.1:9100/v1beta/tunedModels/my-model:generateContent',
    )
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-extra': '1' })
    expect(req.warnings).toEqual(['user'])
    expect(p.secrets).toEqual([])
  })

  it('embeddings → one batchEmbedContents call, dimensions → outputDimensionality', () => {
    const req = gemini.buildRequest(
      'embeddings',
      { model: 'e', input: ['a', 'b'], dimensions: 256, encoding_format: 'base64' },
      'gemini-embedding-001',
      false,
    )
    expect(req.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents')
    expect(JSON.parse(req.body!)).toEqual({
      requests: [
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'a' }] },
          outputDimensionality: 256,
        },
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'b' }] },
          outputDimensionality: 256,
        },
      ],
    })
    expect(req.warnings).toBeUndefined()
    const single = gemini.buildRequest(
      'embeddings',
      { model: 'e', input: 'one', user: 'u' },
      'text-embedding-004',
      false,
    )
    expect(JSON.parse(single.body!)).toEqual({
      requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'one' }] } }],
    })
    expect(single.warnings).toEqual(['user'])
  })

  it('embeddings of token arrays → 400 naming input', () => {
    for (const input of [[1, 2, 3], [[1, 2]]]) {
      expect(() =>
        gemini.buildRequest('embeddings', { model: 'e', input }, 'gemini-embedding-001', false),
      ).toThrow(expect.objectContaining({ status: 400, param: 'input' }))
    }
  })

  it('parseResponse: chat with the clock’s time; embeddings named and encoded from the request', () => {
    const completion = JSON.parse(gemini.parseResponse('chat', fixture('response.json')))
    expect(completion.created).toBe(1_762_000_000)
    expect(completion.model).toBe('gemini-2.5-flash')
    const list = JSON.parse(
      gemini.parseResponse('embeddings', fixture('embeddings.json'), {
        model: 'gemini-embedding-001',
        body: { input: ['a', 'b'], encoding_format: 'base64' },
      }),
    )
    expect(list.model).toBe('gemini-embedding-001')
    expect(typeof list.data[0].embedding).toBe('string')
    expect(list.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 })
  })

  it('transformStream and mapError are wired to the Gemini transforms', async () => {
    async function* source() {
      yield new TextEncoder().encode(fixture('text.sse'))
    }
    const batches: string[][] = []
    for await (const batch of gemini.transformStream(source(), { includeUsage: false })) batches.push(batch)
    expect(JSON.parse(batches[0]![0]!)).toMatchObject({ created: 1_762_000_000, model: 'gemini-2.5-flash' })
    expect(gemini.mapError(429, '{"error":{"code":429,"message":"q"}}', () => '3')).toMatchObject({
      status: 429,
      headers: { 'retry-after': '3' },
    })
  })
})
