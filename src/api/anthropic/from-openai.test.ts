import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.js'
import { chatToMessage, messageIdFor } from './from-openai.js'

type Json = Record<string, unknown>

function completion(message: Json, finish: string | null = 'stop', extra: Json = {}): string {
  return JSON.stringify({
    id: 'chatcmpl-abc123',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', refusal: null, ...message },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    ...extra,
  })
}

const translate = (json: string): Json => JSON.parse(chatToMessage(json, 'claude-sonnet-4-5')) as Json

const call = (id: string | undefined, name: string, args: string) => ({
  ...(id === undefined ? {} : { id }),
  type: 'function',
  function: { name, arguments: args },
})

describe('chatToMessage', () => {
  it("is Anthropic's message, byte for byte, with the client's model name", () => {
    expect(chatToMessage(completion({ content: 'Hello!' }), 'claude-sonnet-4-5')).toBe(
      '{"id":"msg_abc123","type":"message","role":"assistant","model":"claude-sonnet-4-5",' +
        '"content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,' +
        '"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}}',
    )
  })

  it('derives the id from the completion id, deterministically', () => {
    expect(messageIdFor('chatcmpl-B9MBs8')).toBe('msg_B9MBs8')
    expect(messageIdFor('gen-123-xyz')).toBe('msg_gen-123-xyz')
    expect(messageIdFor(undefined)).toBe('msg_meridian')
    expect(translate(completion({ content: 'x' }, 'stop', { id: 'o-1' })).id).toBe('msg_o-1')
  })

  it('sends no text block for empty content, as Anthropic sends content: []', () => {
    expect(translate(completion({ content: '' })).content).toEqual([])
    expect(translate(completion({ content: null })).content).toEqual([])
  })

  it('joins text parts when a provider answers with an array', () => {
    const content = [
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ]
    expect(translate(completion({ content })).content).toEqual([{ type: 'text', text: 'ab' }])
  })

  it('makes tool calls tool_use blocks after the text, with parsed input and the call id', () => {
    const message = translate(
      completion(
        {
          content: 'Looking.',
          tool_calls: [call('call_1', 'weather', '{"city":"Oslo"}'), call('call_2', 'time', '')],
        },
        'tool_calls',
      ),
    )
    expect(message.content).toEqual([
      { type: 'text', text: 'Looking.' },
      { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
    ])
    expect(message.stop_reason).toBe('tool_use')
  })

  it('gives malformed or non-object arguments an empty input, and a missing id one of its own', () => {
    const message = translate(
      completion(
        {
          content: null,
          tool_calls: [call('c1', 'f', '{"city": "Os'), call('c2', 'f', '[1,2]'), call(undefined, 'f', '{}')],
        },
        'tool_calls',
      ),
    )
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'c1', name: 'f', input: {} },
      { type: 'tool_use', id: 'c2', name: 'f', input: {} },
      { type: 'tool_use', id: 'toolu_abc123_2', name: 'f', input: {} },
    ])
  })

  it('maps finish_reason to stop_reason', () => {
    const stop = (finish: string | null, message: Json = { content: 'x' }) =>
      translate(completion(message, finish)).stop_reason
    expect(stop('stop')).toBe('end_turn')
    expect(stop(null)).toBe('end_turn')
    expect(stop('length')).toBe('max_tokens')
    expect(stop('content_filter')).toBe('refusal')
    expect(stop('tool_calls', { content: null, tool_calls: [call('c', 'f', '{}')] })).toBe('tool_use')
    // Some providers finish a tool call with `stop`; clients loop on `tool_use`.
    expect(stop('stop', { content: null, tool_calls: [call('c', 'f', '{}')] })).toBe('tool_use')
    expect(stop('length', { content: null, tool_calls: [call('c', 'f', '{"a":')] })).toBe('max_tokens')
  })

  it('makes a refusal text with stop_reason refusal', () => {
    const message = translate(completion({ content: null, refusal: "I can't help with that." }))
    expect(message.content).toEqual([{ type: 'text', text: "I can't help with that." }])
    expect(message.stop_reason).toBe('refusal')
  })

  it('takes cached tokens out of input_tokens', () => {
    const usage = (u: Json) => translate(completion({ content: 'x' }, 'stop', { usage: u })).usage
    expect(
      usage({ prompt_tokens: 100, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 60 } }),
    ).toEqual({
      input_tokens: 40,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 60,
      output_tokens: 7,
    })
    expect(usage({ prompt_tokens: 100, completion_tokens: 7, cache_creation_input_tokens: 30 })).toEqual({
      input_tokens: 70,
      cache_creation_input_tokens: 30,
      cache_read_input_tokens: 0,
      output_tokens: 7,
    })
    expect(
      usage({
        prompt_tokens: 100,
        completion_tokens: 7,
        prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 50 },
      }),
    ).toEqual({
      input_tokens: 30,
      cache_creation_input_tokens: 50,
      cache_read_input_tokens: 20,
      output_tokens: 7,
    })
  })

  it('reports zeros when the completion has no usage', () => {
    const json = JSON.stringify({
      id: 'chatcmpl-1',
      choices: [{ message: { content: 'x' }, finish_reason: 'stop' }],
    })
    expect(translate(json).usage).toEqual({
      input_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    })
  })

  it('rejects an unusable completion as an invalid upstream response', () => {
    for (const json of ['not json', '{}', '{"choices":[]}', '{"choices":[{"message":null}]}']) {
      expect(() => chatToMessage(json, 'm'), json).toThrow(GatewayError)
      try {
        chatToMessage(json, 'm')
      } catch (err) {
        expect((err as GatewayError).code).toBe('MERIDIAN_UPSTREAM_INVALID_RESPONSE')
      }
    }
  })
})
