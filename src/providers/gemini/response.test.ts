import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { validateAgainstSpec } from '../../../test/helpers/openai-spec.js'
import { digest, finishReason, parseChat, parseEmbeddings, toolCallId, toUsage } from './response.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8')
const CTX = { model: 'gemini-2.5-flash', created: 1_762_000_000 }
const chat = (text: string) => JSON.parse(parseChat(text, 'g', CTX))

describe('generateContent → chat.completion', () => {
  it('translates the documented response: one choice per candidate, thoughts left out, usage', () => {
    const completion = chat(fixture('response.json'))
    expect(completion).toEqual({
      id: 'chatcmpl-xPcDaI2gB8-_1MkP0aTfuAk',
      object: 'chat.completion',
      created: 1_762_000_000,
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Paris is the capital of France. It sits on the Seine.',
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'stop',
        },
        {
          index: 1,
          message: { role: 'assistant', content: 'The capital of France is', refusal: null },
          logprobs: null,
          finish_reason: 'length',
        },
      ],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 59,
        total_tokens: 68,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 42 },
      },
    })
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('a blocked prompt is a completion with one filtered choice, not an error', () => {
    const completion = chat(fixture('safety-blocked.json'))
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null },
        logprobs: null,
        finish_reason: 'content_filter',
      },
    ])
    expect(completion.usage).toEqual({ prompt_tokens: 8, completion_tokens: 0, total_tokens: 8 })
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('function calls → tool_calls with deterministic ids (carrying the thought signature); finish tool_calls', () => {
    const text = JSON.stringify({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln' },
              { functionCall: { name: 'time' } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
      responseId: 'r1',
    })
    const completion = chat(text)
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: `${toolCallId('r1', 0, 0)}__thought__c2ln`,
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
          },
          { id: toolCallId('r1', 0, 1), type: 'function', function: { name: 'time', arguments: '{}' } },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    })
    expect(completion.choices[0].message.tool_calls[1].id).toMatch(/^call_[0-9a-f]{16}$/)
    expect(chat(text)).toEqual(completion)
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('without responseId: an id digested from the answer; createTime wins over the clock', () => {
    const text = JSON.stringify({
      candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP' }],
      createTime: '2025-06-01T12:00:00.500Z',
    })
    const completion = chat(text)
    expect(completion.id).toBe(`chatcmpl-${digest(text)}`)
    expect(completion.created).toBe(Date.UTC(2025, 5, 1, 12) / 1000)
    expect(completion.model).toBe('gemini-2.5-flash')
    expect(completion.usage).toBeUndefined()
  })

  it('logprobs → choices[].logprobs.content with bytes and top alternatives', () => {
    const completion = chat(
      JSON.stringify({
        candidates: [
          {
            content: { parts: [{ text: 'Oui é' }] },
            finishReason: 'STOP',
            logprobsResult: {
              topCandidates: [
                {
                  candidates: [
                    { token: 'Oui', logProbability: -0.1 },
                    { token: 'Non', logProbability: -2.5 },
                  ],
                },
                { candidates: [{ token: ' é', logProbability: -0.3 }] },
              ],
              chosenCandidates: [
                { token: 'Oui', logProbability: -0.1 },
                { token: ' é', logProbability: -0.3 },
              ],
            },
          },
        ],
      }),
    )
    expect(completion.choices[0].logprobs).toEqual({
      content: [
        {
          token: 'Oui',
          logprob: -0.1,
          bytes: [79, 117, 105],
          top_logprobs: [
            { token: 'Oui', logprob: -0.1, bytes: [79, 117, 105] },
            { token: 'Non', logprob: -2.5, bytes: [78, 111, 110] },
          ],
        },
        {
          token: ' é',
          logprob: -0.3,
          bytes: [32, 195, 169],
          top_logprobs: [{ token: ' é', logprob: -0.3, bytes: [32, 195, 169] }],
        },
      ],
      refusal: null,
    })
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('refuses a body that is not JSON, and an answer with neither candidates nor a block reason', () => {
    expect(() => parseChat('<html>', 'g', CTX)).toThrow(
      expect.objectContaining({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE', status: 502 }),
    )
    expect(() => parseChat('{"usageMetadata":{}}', 'g', CTX)).toThrow(
      expect.objectContaining({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' }),
    )
  })
})

describe('finish reasons and usage', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    ['OTHER', false, 'stop'],
    ['LANGUAGE', false, 'stop'],
    ['SOMETHING_NEW', false, 'stop'],
  ])('%s (tool calls: %s) → %s', (reason, calls, expected) => {
    expect(finishReason(reason, calls)).toBe(expected)
  })

  it('thoughts count as completion and reasoning tokens; tool-use prompts as prompt', () => {
    expect(
      toUsage({
        promptTokenCount: 100,
        toolUsePromptTokenCount: 10,
        candidatesTokenCount: 20,
        thoughtsTokenCount: 30,
        cachedContentTokenCount: 64,
        totalTokenCount: 160,
      }),
    ).toEqual({
      prompt_tokens: 110,
      completion_tokens: 50,
      total_tokens: 160,
      prompt_tokens_details: { cached_tokens: 64 },
      completion_tokens_details: { reasoning_tokens: 30 },
    })
    expect(toUsage({ promptTokenCount: 3, candidatesTokenCount: 4 })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    })
  })
})

describe('batchEmbedContents → embeddings list', () => {
  const text = fixture('embeddings.json')
  const values = (JSON.parse(text) as { embeddings: { values: number[] }[] }).embeddings.map((e) => e.values)

  it('floats, in order, with an estimated usage', () => {
    const list = JSON.parse(
      parseEmbeddings(text, 'g', { model: 'gemini-embedding-001', input: ['hello world', 'café'] }),
    )
    expect(list).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: values[0] },
        { object: 'embedding', index: 1, embedding: values[1] },
      ],
      model: 'gemini-embedding-001',
      usage: { prompt_tokens: 5, total_tokens: 5 }, // ceil(11 / 4) + ceil(3 / 4) + 1
    })
    expect(validateAgainstSpec('CreateEmbeddingResponse', list)).toEqual([])
  })

  it('base64: the little-endian float32 bytes, as OpenAI encodes them', () => {
    const list = JSON.parse(
      parseEmbeddings(text, 'g', { model: 'm', encodingFormat: 'base64', input: 'x' }),
    ) as { data: { embedding: string }[] }
    list.data.forEach((item, i) => {
      const expected = Buffer.from(new Float32Array(values[i]!).buffer).toString('base64')
      expect(item.embedding).toBe(expected)
      const decoded = new Float32Array(new Uint8Array(Buffer.from(item.embedding, 'base64')).buffer)
      expect([...decoded]).toEqual([...new Float32Array(values[i]!)])
    })
  })

  it('refuses an answer without embeddings', () => {
    expect(() => parseEmbeddings('{}', 'g', { model: 'm' })).toThrow(
      expect.objectContaining({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' }),
    )
  })
})
