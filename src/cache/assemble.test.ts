import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { validateAgainstSpec } from '../../test/helpers/openai-spec.js'
import { chatCompletion, planChat } from '../sim/chat.js'
import { chatStreamFrames } from '../sim/chat-stream.js'
import type { JsonObject } from '../sim/wire.js'
import { StreamAssembler } from './assemble.js'

const CREATED = 1_750_000_000
const tools = [
  {
    type: 'function',
    function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  },
]
const ask = (extra: JsonObject = {}): JsonObject => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello there' }],
  ...extra,
})

/** Requests whose streamed and non-streamed answers the simulator renders from one plan. */
const SIM_CASES: [string, JsonObject][] = [
  ['text', ask()],
  ['n = 2', ask({ n: 2 })],
  ['a forced tool call', ask({ tools, tool_choice: 'required' })],
  ['tool calls with n = 3', ask({ tools, tool_choice: 'required', n: 3 })],
  ['a length cut', ask({ max_tokens: 3 })],
]

/** The chunk payloads the simulator streams for `body`. */
function simChunks(body: JsonObject, includeUsage: boolean): string[] {
  const { frames } = chatStreamFrames(planChat(body), CREATED, includeUsage)
  return frames.slice(0, -1).map((frame) => frame.slice('data: '.length, -2))
}

function assemble(chunks: string[]): string | undefined {
  const assembler = new StreamAssembler()
  for (const chunk of chunks) assembler.push(chunk)
  return assembler.result()
}

const chunk = (choices: unknown[], extra: JsonObject = {}) =>
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices, ...extra })
const part = (index: number, delta: JsonObject, finish: string | null = null, logprobs: unknown = null) => ({
  index,
  delta,
  logprobs,
  finish_reason: finish,
})

describe('StreamAssembler', () => {
  it.each(SIM_CASES)('turns the stream of %s into the non-stream completion', (_name, body) => {
    const expected = chatCompletion(planChat(body), CREATED)
    const withUsage = JSON.parse(assemble(simChunks(body, true))!)
    expect(withUsage).toEqual(expected)
    expect(validateAgainstSpec('CreateChatCompletionResponse', withUsage)).toEqual([])
    const { usage: _, ...withoutUsage } = expected
    expect(JSON.parse(assemble(simChunks(body, false))!)).toEqual(withoutUsage)
  })

  it('assembles the recorded OpenAI stream: text, a tool call in pieces, usage, service tier', () => {
    const sse = readFileSync(new URL('../../test/fixtures/openai-chat-stream.sse', import.meta.url), 'utf8')
    const payloads = sse
      .split('\n\n')
      .filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
      .map((event) => event.slice('data: '.length))
    const completion = JSON.parse(assemble(payloads)!)
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
    expect(completion).toMatchObject({
      id: 'chatcmpl-CZr3kT0fGm8s1',
      object: 'chat.completion',
      created: 1762000000,
      model: 'gpt-4o-mini-2024-07-18',
      service_tier: 'default',
      system_fingerprint: 'fp_560af6e559',
      usage: { prompt_tokens: 21, completion_tokens: 14, total_tokens: 35 },
    })
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Bonjour — voilà un exemple 🌍.',
          refusal: null,
          tool_calls: [
            {
              id: 'call_Qz1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ])
    expect(completion).not.toHaveProperty('obfuscation')
  })

  it('concatenates logprobs per choice and keeps refusals', () => {
    const token = (t: string) => ({
      token: t,
      logprob: -0.5,
      bytes: [...new TextEncoder().encode(t)],
      top_logprobs: [],
    })
    const completion = JSON.parse(
      assemble([
        chunk([part(0, { role: 'assistant', content: '' }, null, { content: [], refusal: null })]),
        chunk([part(0, { content: 'Hi' }, null, { content: [token('Hi')], refusal: null })]),
        chunk([part(1, { role: 'assistant', content: null, refusal: '' })]),
        chunk([part(0, { content: ' there' }, null, { content: [token(' there')], refusal: null })]),
        chunk([part(1, { refusal: "I can't" }, null, { content: null, refusal: [token("I can't")] })]),
        chunk([part(0, {}, 'stop'), part(1, {}, 'stop')]),
      ])!,
    )
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
    expect(completion.choices[0].message).toEqual({ role: 'assistant', content: 'Hi there', refusal: null })
    expect(completion.choices[0].logprobs).toEqual({ content: [token('Hi'), token(' there')], refusal: null })
    expect(completion.choices[1].message).toEqual({ role: 'assistant', content: null, refusal: "I can't" })
    expect(completion.choices[1].logprobs).toEqual({ content: null, refusal: [token("I can't")] })
    expect(completion).not.toHaveProperty('usage')
  })

  it('gives content null beside tool calls even when the stream opened with ""', () => {
    const call = { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }
    const completion = JSON.parse(
      assemble([
        chunk([part(0, { role: 'assistant', content: '', refusal: null })]),
        chunk([part(0, { tool_calls: [call] })]),
        chunk([part(0, {}, 'tool_calls')]),
      ])!,
    )
    expect(completion.choices[0].message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    })
  })

  it('assembles a legacy function_call', () => {
    const completion = JSON.parse(
      assemble([
        chunk([part(0, { role: 'assistant', content: null, function_call: { name: 'f', arguments: '' } })]),
        chunk([part(0, { function_call: { arguments: '{"a":' } })]),
        chunk([part(0, { function_call: { arguments: '1}' } })]),
        chunk([part(0, {}, 'function_call')]),
      ])!,
    )
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
    expect(completion.choices[0].message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      function_call: { name: 'f', arguments: '{"a":1}' },
    })
  })

  describe('refuses what it cannot store faithfully', () => {
    const text = simChunks(ask({ n: 2 }), true)
    const finishes = text.filter((payload) => payload.includes('"finish_reason":"stop"'))

    it('no chunks, or only a usage chunk', () => {
      expect(assemble([])).toBeUndefined()
      expect(assemble([text.at(-1)!])).toBeUndefined()
    })

    it('a stream cut before a finish_reason', () => {
      expect(assemble(text.filter((payload) => payload !== finishes[0]))).toBeUndefined()
      expect(assemble(text.filter((payload) => payload !== finishes[1]))).toBeUndefined()
      expect(assemble(text.slice(0, 5))).toBeUndefined()
    })

    it('a content_filter finish', () => {
      const filtered = text.map((payload) =>
        payload.replace('"finish_reason":"stop"', '"finish_reason":"content_filter"'),
      )
      expect(assemble(filtered)).toBeUndefined()
    })

    it('an error chunk, a malformed chunk, or chunks of two answers', () => {
      const error = JSON.stringify({
        error: { message: 'overloaded', type: 'server_error', param: null, code: null },
      })
      expect(assemble([...text.slice(0, 3), error, ...text.slice(3)])).toBeUndefined()
      expect(assemble([...text.slice(0, 3), '{"id":', ...text.slice(3)])).toBeUndefined()
      expect(
        assemble([...text.slice(0, 3), chunk([part(0, { content: 'x' })]), ...text.slice(3)]),
      ).toBeUndefined()
    })

    it('a missing choice, a tool call without a name, or an unknown finish reason', () => {
      expect(assemble([chunk([part(1, { role: 'assistant', content: 'x' }, 'stop')])])).toBeUndefined()
      const call = { index: 0, id: 'call_1', type: 'function', function: { arguments: '{}' } }
      expect(assemble([chunk([part(0, { tool_calls: [call] }, 'tool_calls')])])).toBeUndefined()
      expect(assemble([chunk([part(0, { content: 'x' }, 'end_turn')])])).toBeUndefined()
    })

    it('and ignores what comes after', () => {
      const assembler = new StreamAssembler()
      assembler.push('not json')
      for (const payload of text) assembler.push(payload)
      expect(assembler.result()).toBeUndefined()
    })
  })
})
