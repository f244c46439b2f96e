import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { validateAgainstSpec } from '../../test/helpers/openai-spec.js'
import { chatCompletion, planChat } from '../sim/chat.js'
import type { JsonObject } from '../sim/wire.js'
import { StreamAssembler } from './assemble.js'
import { replayChunks } from './replay.js'

const CREATED = 1_750_000_000
const tools = [
  { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
]
const ask = (extra: JsonObject = {}): JsonObject => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello there' }],
  ...extra,
})
const simCompletion = (body: JsonObject): JsonObject => ({ ...chatCompletion(planChat(body), CREATED) })

const token = (t: string) => ({
  token: t,
  logprob: -0.25,
  bytes: [...new TextEncoder().encode(t)],
  top_logprobs: [],
})

/** Completions a replay must reproduce, from the simulator and by hand for what it never produces. */
const CASES: [string, JsonObject][] = [
  ['text', simCompletion(ask())],
  ['n = 3', simCompletion(ask({ n: 3 }))],
  ['a tool call', simCompletion(ask({ tools, tool_choice: 'required' }))],
  ['tool calls with n = 2', simCompletion(ask({ tools, tool_choice: 'required', n: 2 }))],
  [
    'text with annotations, two tool calls, logprobs, a service tier',
    {
      id: 'chatcmpl-x',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      service_tier: 'default',
      system_fingerprint: 'fp_1',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Looking.',
            refusal: null,
            annotations: [
              {
                type: 'url_citation',
                url_citation: { start_index: 0, end_index: 8, url: 'https://example.com/', title: 'Example' },
              },
            ],
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
              { id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } },
            ],
          },
          logprobs: { content: [token('Look'), token('ing.')], refusal: null },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    },
  ],
  [
    'a refusal',
    {
      id: 'chatcmpl-r',
      object: 'chat.completion',
      created: 2,
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: "I can't help with that." },
          logprobs: { content: null, refusal: [token("I can't help with that.")] },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
    },
  ],
  [
    'empty text with logprobs',
    {
      id: 'chatcmpl-e',
      object: 'chat.completion',
      created: 3,
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '', refusal: null },
          logprobs: { content: [], refusal: null },
          finish_reason: 'length',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 },
    },
  ],
]

const withoutUsage = ({ usage: _, ...rest }: JsonObject): JsonObject => rest

function assemble(chunks: string[]): JsonObject {
  const assembler = new StreamAssembler()
  for (const chunk of chunks) assembler.push(chunk)
  return JSON.parse(assembler.result()!)
}

/** The official SDK's own stream accumulation, fed the replay as SSE over a fake fetch. */
async function sdkFinal(chunks: string[], includeUsage: boolean) {
  const sse = chunks.map((chunk) => `data: ${chunk}\n\n`).join('') + 'data: [DONE]\n\n'
  const client = new OpenAI({
    apiKey: 'sk-test',
    maxRetries: 0,
    fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }),
  })
  const stream = client.chat.completions.stream({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hello there' }],
    stream_options: { include_usage: includeUsage },
  })
  const final = await stream.finalChatCompletion()
  // The helper adds `parsed: null` to each message (its structured-output slot); it is not on the wire.
  for (const choice of final.choices) delete (choice.message as { parsed?: unknown }).parsed
  return final
}

describe('replayChunks', () => {
  it.each(CASES)('round-trips %s through the assembler', (_name, completion) => {
    const json = JSON.stringify(completion)
    expect(assemble(replayChunks(json, { includeUsage: true }))).toEqual(completion)
    expect(assemble(replayChunks(json, { includeUsage: false }))).toEqual(withoutUsage(completion))
  })

  it.each(CASES)('sends %s as chunks that conform to the spec', (_name, completion) => {
    const json = JSON.stringify(completion)
    const chunks = replayChunks(json, { includeUsage: true }).map((chunk) => JSON.parse(chunk))
    for (const chunk of chunks) {
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
      expect(chunk).toMatchObject({
        id: completion.id,
        object: 'chat.completion.chunk',
        created: completion.created,
      })
    }
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true)
    expect(chunks.at(-1)).toEqual(expect.objectContaining({ choices: [], usage: completion.usage }))
    const bare = replayChunks(json, { includeUsage: false }).map((chunk) => JSON.parse(chunk))
    expect(bare.every((chunk) => !('usage' in chunk) && chunk.choices.length === 1)).toBe(true)
  })

  it('opens each choice with a role chunk and closes it with an empty delta', () => {
    const chunks = replayChunks(JSON.stringify(CASES[1]![1]), { includeUsage: false }).map((c) =>
      JSON.parse(c),
    )
    expect(chunks.map((c) => [c.choices[0].index, c.choices[0].finish_reason])).toEqual([
      [0, null],
      [0, null],
      [0, 'stop'],
      [1, null],
      [1, null],
      [1, 'stop'],
      [2, null],
      [2, null],
      [2, 'stop'],
    ])
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null })
    expect(chunks[2].choices[0].delta).toEqual({})
  })

  it('mirrors OpenAI: content null in the role chunk of a tool call, logprobs on the first chunk with text', () => {
    const deltas = (name: string) =>
      replayChunks(JSON.stringify(CASES.find(([n]) => n === name)![1]), { includeUsage: false }).map(
        (c) => JSON.parse(c).choices[0],
      )
    expect(deltas('a tool call')[0].delta).toEqual({ role: 'assistant', content: null, refusal: null })
    const withText = deltas('text with annotations, two tool calls, logprobs, a service tier')
    expect(withText.map((c) => c.logprobs?.content?.length ?? null)).toEqual([null, 2, null, null, null])
    expect(deltas('a refusal').map((c) => c.logprobs?.refusal?.length ?? null)).toEqual([null, 1, null])
    expect(deltas('empty text with logprobs').map((c) => c.logprobs)).toEqual([
      null,
      { content: [], refusal: null },
    ])
  })

  it.each(CASES)("agrees with the openai SDK's accumulation for %s", async (_name, completion) => {
    const json = JSON.stringify(completion)
    // The SDK only appends truthy content, so an empty answer ends as null there, from OpenAI's streams too.
    const expected = JSON.parse(json.replaceAll('"content":""', '"content":null'))
    expect(await sdkFinal(replayChunks(json, { includeUsage: true }), true)).toEqual(expected)
    expect(await sdkFinal(replayChunks(json, { includeUsage: false }), false)).toEqual(withoutUsage(expected))
  })

  it('leaves out the usage chunk when the stored answer has none', () => {
    const json = JSON.stringify(withoutUsage(CASES[0]![1]))
    const chunks = replayChunks(json, { includeUsage: true }).map((c) => JSON.parse(c))
    expect(chunks).toHaveLength(3)
    expect(chunks.every((c) => c.usage === null && c.choices.length === 1)).toBe(true)
  })
})
