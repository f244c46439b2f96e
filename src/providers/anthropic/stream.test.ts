import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { validateAgainstSpec } from '../../../test/helpers/openai-spec.js'
import { translateStream } from './stream.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/anthropic/${name}`, import.meta.url))
const clock = { epoch: () => 1_760_000_000_500 }

async function* reads(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

/** The batches of a translation, and the error it ended with, if any. */
async function run(source: AsyncIterable<Uint8Array>, includeUsage = false) {
  const batches: string[][] = []
  let error: unknown
  try {
    for await (const batch of translateStream(source, { providerId: 'claude', includeUsage, clock })) {
      batches.push(batch)
    }
  } catch (err) {
    error = err
  }
  return { batches, chunks: batches.flat().map((c) => JSON.parse(c)), error }
}

const head = (id: string, model: string) => ({
  id,
  object: 'chat.completion.chunk',
  created: 1_760_000_000,
  model,
})
const choice = (delta: object, finish: string | null = null) => ({
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
})

describe('anthropic stream → chat.completion.chunk', () => {
  it('text: role chunk, one chunk per text delta, the finish chunk; nothing for ping or block stops', async () => {
    const { batches, chunks, error } = await run(reads(fixture('text.sse'), 1 << 16))
    expect(error).toBeUndefined()
    expect(batches).toHaveLength(1)
    const h = head('msg_01XFDUDYJgAACzvnptvVoYEL', 'claude-sonnet-4-5-20250929')
    expect(chunks).toEqual([
      { ...h, ...choice({ role: 'assistant', content: '', refusal: null }) },
      { ...h, ...choice({ content: 'Hello' }) },
      { ...h, ...choice({ content: '! How can I help' }) },
      { ...h, ...choice({ content: ' you today? ☀️' }) },
      { ...h, ...choice({}, 'stop') },
    ])
    for (const chunk of chunks)
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
  })

  it('text with include_usage: usage null on every chunk, then a usage chunk with choices []', async () => {
    const { chunks } = await run(reads(fixture('text.sse'), 1 << 16), true)
    expect(chunks).toHaveLength(6)
    for (const chunk of chunks.slice(0, 5)) expect(chunk.usage).toBeNull()
    expect(chunks[5]).toEqual({
      ...head('msg_01XFDUDYJgAACzvnptvVoYEL', 'claude-sonnet-4-5-20250929'),
      choices: [],
      usage: {
        prompt_tokens: 21 + 2048,
        completion_tokens: 12,
        total_tokens: 21 + 2048 + 12,
        prompt_tokens_details: { cached_tokens: 2048, cache_write_tokens: 0 },
      },
    })
    for (const chunk of chunks)
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
  })

  it('tool calls: indices count tool calls from 0, argument pieces as sent, "{}" for a tool with no input', async () => {
    const { chunks, error } = await run(reads(fixture('tool-call.sse'), 1 << 16))
    expect(error).toBeUndefined()
    const h = head('msg_014p7gG3wDgGV9EUtLvnow3U', 'claude-haiku-4-5-20251001')
    const start = (index: number, id: string, name: string) =>
      choice({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] })
    const args = (index: number, piece: string) =>
      choice({ tool_calls: [{ index, function: { arguments: piece } }] })
    expect(chunks).toEqual([
      { ...h, ...choice({ role: 'assistant', content: '', refusal: null }) },
      { ...h, ...choice({ content: "I'll check the weather in both cities." }) },
      { ...h, ...start(0, 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather') },
      { ...h, ...args(0, '{"location": "San Fra') },
      { ...h, ...args(0, 'ncisco, CA", "unit": "celsius"}') },
      { ...h, ...start(1, 'toolu_01VjR5oGrhMGx3yJuPFvxX3r', 'get_weather') },
      { ...h, ...args(1, '{"location": "Paris, France"}') },
      { ...h, ...start(2, 'toolu_01Kp4rJz8WcQvXn2aYb6eDfG', 'get_time') },
      { ...h, ...args(2, '{}') },
      { ...h, ...choice({}, 'tool_calls') },
    ])
    for (const chunk of chunks)
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
  })

  it('tool calls with include_usage: output tokens from message_delta, input from message_start', async () => {
    const { chunks } = await run(reads(fixture('tool-call.sse'), 1 << 16), true)
    expect(chunks.at(-1).usage).toEqual({
      prompt_tokens: 472 + 1536,
      completion_tokens: 143,
      total_tokens: 472 + 1536 + 143,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 1536 },
    })
  })

  it('an error event: the chunks before it are handed on, then a retryable 503', async () => {
    const { chunks, error } = await run(reads(fixture('error-midway.sse'), 1 << 16))
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'Once upon a time' },
      { content: ', in a quiet valley,' },
    ])
    expect(error).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_ERROR',
      status: 503,
      retryable: true,
      message: expect.stringContaining('Overloaded'),
    })
  })

  it('1-byte reads give the same chunks as one read, one batch per read that completed any', async () => {
    for (const name of ['text.sse', 'tool-call.sse', 'error-midway.sse']) {
      for (const includeUsage of [false, true]) {
        const whole = await run(reads(fixture(name), 1 << 16), includeUsage)
        const bytewise = await run(reads(fixture(name), 1), includeUsage)
        expect(bytewise.chunks, name).toEqual(whole.chunks)
        expect(bytewise.error, name).toEqual(whole.error)
        expect(bytewise.batches.every((b) => b.length > 0)).toBe(true)
        // Byte by byte, each read completes at most one event, and no event makes more than two chunks.
        expect(bytewise.batches.every((b) => b.length <= 2)).toBe(true)
      }
    }
  })

  it('a multi-byte character split across reads arrives whole', async () => {
    const { chunks } = await run(reads(fixture('text.sse'), 3))
    expect(chunks[3].choices[0].delta.content).toBe(' you today? ☀️')
  })

  it('a stream cut before message_stop is MERIDIAN_UPSTREAM_INVALID_RESPONSE, after its chunks', async () => {
    const text = fixture('text.sse').toString('utf8')
    const cut = new TextEncoder().encode(text.slice(0, text.indexOf('event: message_delta')))
    const { chunks, error } = await run(reads(cut, 1 << 16))
    expect(chunks).toHaveLength(4)
    expect(error).toMatchObject({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' })
  })

  it('stops at message_stop: neither the rest of that read nor the next one is looked at', async () => {
    const text = `${fixture('text.sse').toString('utf8')}event: content_block_delta\ndata: not json\n\n`
    async function* source() {
      yield new TextEncoder().encode(text)
      throw new Error('read after message_stop')
    }
    const { chunks, error } = await run(source())
    expect(error).toBeUndefined()
    expect(chunks).toHaveLength(5)
  })

  it('a message_stop with no message_delta before it still ends with a finish chunk', async () => {
    const events = [
      '{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":1,"output_tokens":1}}}',
      '{"type":"message_stop"}',
    ]
    const source = reads(new TextEncoder().encode(events.map((d) => `data: ${d}\n\n`).join('')), 1 << 16)
    const { chunks } = await run(source, true)
    expect(chunks.map((c) => [c.choices[0]?.finish_reason, c.usage?.total_tokens])).toEqual([
      [null, undefined],
      ['stop', undefined],
      [undefined, 2],
    ])
  })

  it('protocol breaks are MERIDIAN_UPSTREAM_INVALID_RESPONSE', async () => {
    const events = (...data: string[]) =>
      reads(new TextEncoder().encode(data.map((d) => `data: ${d}\n\n`).join('')), 64)
    const start = '{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":1}}}'
    for (const source of [
      events('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}'),
      events(start, '{"type":"content_block_delta","index":4,"delta":{"type":"text_delta","text":"x"}}'),
      events(start, '{not json'),
    ]) {
      expect((await run(source)).error).toMatchObject({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' })
    }
  })

  it('an error before any content (rate limit) maps as its HTTP status would', async () => {
    const data =
      '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}'
    const { chunks, error } = await run(reads(new TextEncoder().encode(`event: error\ndata: ${data}\n\n`), 8))
    expect(chunks).toEqual([])
    expect(error).toMatchObject({ code: 'MERIDIAN_UPSTREAM_RATE_LIMITED', status: 429 })
  })
})
