import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { validateAgainstSpec } from '../../../test/helpers/openai-spec.js'
import type { JsonObject } from '../provider.js'
import { toolCallId } from './response.js'
import { transformGeminiStream } from './stream.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url))
const CREATED = 1_762_000_000

/** The transform over `bytes` delivered in reads of `size` bytes (whole when omitted). */
async function run(bytes: Uint8Array, includeUsage: boolean, size = bytes.length): Promise<string[][]> {
  async function* source() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
  }
  const batches: string[][] = []
  for await (const batch of transformGeminiStream(source(), {
    providerId: 'g',
    includeUsage,
    model: 'fallback-model',
    created: CREATED,
  })) {
    batches.push(batch)
  }
  return batches
}

const text = (s: string) => new TextEncoder().encode(s)

/** The chunk texts expected, in Meridian's key order (compared as text: byte for byte). */
function chunks(id: string, model: string, includeUsage: boolean) {
  const envelope = { id: `chatcmpl-${id}`, object: 'chat.completion.chunk', created: CREATED, model }
  const chunk = (delta: JsonObject, finish: string | null = null) =>
    JSON.stringify({
      ...envelope,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    })
  const usage = (u: JsonObject) => JSON.stringify({ ...envelope, choices: [], usage: u })
  return { chunk, usage }
}

function expectValid(batches: string[][]): void {
  for (const json of batches.flat()) {
    expect(validateAgainstSpec('CreateChatCompletionStreamResponse', JSON.parse(json))).toEqual([])
  }
}

describe('streamGenerateContent → chat.completion.chunk', () => {
  const TEXT_USAGE = {
    prompt_tokens: 12,
    completion_tokens: 33,
    total_tokens: 45,
    prompt_tokens_details: { cached_tokens: 4 },
    completion_tokens_details: { reasoning_tokens: 24 },
  }

  it('text.sse: role, one content chunk per event, finish; one batch per read', async () => {
    const { chunk } = chunks('mFkDaPLyK8a7nvgP4p2K2Ak', 'gemini-2.5-flash', false)
    const batches = await run(fixture('text.sse'), false)
    expect(batches).toEqual([
      [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Bonjour' }),
        chunk({ content: ' — voilà un café ☕' }),
        chunk({ content: ', 日本語も.' }),
        chunk({}, 'stop'),
      ],
    ])
    expectValid(batches)
  })

  it('text.sse with include_usage: usage null on every chunk, then a usage chunk', async () => {
    const { chunk, usage } = chunks('mFkDaPLyK8a7nvgP4p2K2Ak', 'gemini-2.5-flash', true)
    const batches = await run(fixture('text.sse'), true)
    expect(batches).toEqual([
      [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Bonjour' }),
        chunk({ content: ' — voilà un café ☕' }),
        chunk({ content: ', 日本語も.' }),
        chunk({}, 'stop'),
      ],
      [usage(TEXT_USAGE)],
    ])
    expectValid(batches)
  })

  it('tool-call.sse: each function call whole, with its index, id and arguments; finish tool_calls', async () => {
    const key = 'Vf4DaJ6xE-Oq1MkPz9i5sQg'
    const { chunk, usage } = chunks(key, 'gemini-2.5-pro', true)
    const batches = await run(fixture('tool-call.sse'), true)
    expect(batches).toEqual([
      [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Let me check both cities.' }),
        chunk({
          tool_calls: [
            {
              index: 0,
              id: toolCallId(key, 0, 0, 'CiQBVKhc7Zq3pL0sAbc+/9xyZ=='),
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
            },
          ],
        }),
        chunk({
          tool_calls: [
            {
              index: 1,
              id: toolCallId(key, 0, 1),
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Zürich"}' },
            },
          ],
        }),
        chunk({}, 'tool_calls'),
      ],
      [
        usage({
          prompt_tokens: 81,
          completion_tokens: 118,
          total_tokens: 199,
          completion_tokens_details: { reasoning_tokens: 82 },
        }),
      ],
    ])
    expectValid(batches)
  })

  it('error-midway.sse: the text that came first, then the mapped error (503 → retryable 502)', async () => {
    const { chunk } = chunks('q2EDaNn7Ep2Q1MkP3d7B6Qc', 'gemini-2.5-flash', false)
    const seen: string[][] = []
    const failure = (async () => {
      async function* source() {
        yield fixture('error-midway.sse')
      }
      for await (const batch of transformGeminiStream(source(), {
        providerId: 'g',
        includeUsage: false,
        model: 'm',
        created: CREATED,
      })) {
        seen.push(batch)
      }
    })()
    await expect(failure).rejects.toMatchObject({
      code: 'MERIDIAN_UPSTREAM_ERROR',
      status: 502,
      retryable: true,
      message: expect.stringContaining('The model is overloaded'),
    })
    expect(seen).toEqual([
      [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Once upon a time' })],
    ])
  })

  it.each(['text.sse', 'tool-call.sse'])('%s split into 1-byte reads gives the same chunks', async (name) => {
    for (const includeUsage of [false, true]) {
      const whole = (await run(fixture(name), includeUsage)).flat()
      const split = await run(fixture(name), includeUsage, 1)
      expect(split.flat()).toEqual(whole)
      expect(split.every((batch) => batch.length > 0)).toBe(true)
    }
  })

  it('a blocked prompt: one filtered choice with no content, then usage', async () => {
    const event = {
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
      usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'blk',
    }
    const { chunk, usage } = chunks('blk', 'gemini-2.5-flash', true)
    const batches = await run(text(`data: ${JSON.stringify(event)}\r\n\r\n`), true)
    expect(batches).toEqual([
      [chunk({ role: 'assistant', content: null }), chunk({}, 'content_filter')],
      [usage({ prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 })],
    ])
    expectValid(batches)
  })

  it('a safety stop mid-answer → content_filter', async () => {
    const events = [
      { candidates: [{ content: { parts: [{ text: 'Here is' }] } }], responseId: 's' },
      { candidates: [{ content: { parts: [] }, finishReason: 'SAFETY' }], responseId: 's' },
    ]
    const batches = await run(text(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')), false)
    const { chunk } = chunks('s', 'fallback-model', false)
    expect(batches.flat()).toEqual([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Here is' }),
      chunk({}, 'content_filter'),
    ])
  })

  it('several candidates each get their role, content and finish', async () => {
    const event = {
      candidates: [
        { index: 0, content: { parts: [{ text: 'A' }] }, finishReason: 'STOP' },
        { index: 1, content: { parts: [{ text: 'B' }] }, finishReason: 'MAX_TOKENS' },
      ],
      responseId: 'n2',
    }
    const batches = await run(text(`data: ${JSON.stringify(event)}\n\n`), false)
    const choices = batches.flat().map((json) => JSON.parse(json).choices[0])
    expect(choices.map((c) => [c.index, c.delta, c.finish_reason])).toEqual([
      [0, { role: 'assistant', content: '' }, null],
      [0, { content: 'A' }, null],
      [0, {}, 'stop'],
      [1, { role: 'assistant', content: '' }, null],
      [1, { content: 'B' }, null],
      [1, {}, 'length'],
    ])
  })

  it('a stream that ends before a finishReason was cut off', async () => {
    const cut = run(text('data: {"candidates":[{"content":{"parts":[{"text":"Hel"}]}}]}\n\n'), false)
    await expect(cut).rejects.toMatchObject({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE', retryable: true })
    await expect(run(text(''), false)).rejects.toMatchObject({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' })
  })

  it('an event that is not JSON is an invalid response; an error event maps by its code', async () => {
    await expect(run(text('data: <html>\n\n'), false)).rejects.toMatchObject({
      code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
    })
    const quota = '{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}'
    await expect(run(text(`data: ${quota}\n\n`), false)).rejects.toMatchObject({
      code: 'MERIDIAN_UPSTREAM_RATE_LIMITED',
      status: 429,
    })
  })
})
