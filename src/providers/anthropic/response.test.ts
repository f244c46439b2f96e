import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { validateAgainstSpec } from '../../../test/helpers/openai-spec.js'
import { finishReason, openAIUsage, translateResponse } from './response.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8')
const OPTIONS = { providerId: 'claude', created: 1_760_000_000 }

describe('anthropic response → chat.completion', () => {
  it('a text answer, cache counts folded into prompt_tokens and kept apart in the details', () => {
    const completion = JSON.parse(translateResponse(fixture('message.json'), OPTIONS))
    expect(completion).toEqual({
      id: 'msg_01EcyWo6m4hyW8KHs2y2pei5',
      object: 'chat.completion',
      created: 1_760_000_000,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'The capital of France is Paris.', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 14 + 2051 + 4096,
        completion_tokens: 10,
        total_tokens: 14 + 2051 + 4096 + 10,
        prompt_tokens_details: { cached_tokens: 4096, cache_write_tokens: 2051 },
      },
    })
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('tool_use blocks become tool calls, content null, finish_reason tool_calls', () => {
    const completion = JSON.parse(translateResponse(fixture('tool-use-message.json'), OPTIONS))
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: 'toolu_01A09q90qw90lq917835lq9',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
          },
          {
            id: 'toolu_01CTmSDsS9fHLHNXrjjkDe6B',
            type: 'function',
            function: { name: 'get_time', arguments: '{}' },
          },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    })
    expect(completion.usage).toMatchObject({ prompt_tokens: 384, completion_tokens: 91, total_tokens: 475 })
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('text blocks are joined; thinking blocks are left out', () => {
    const message = {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-4-1',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'text', text: 'Part one. ' },
        { type: 'text', text: 'Part two.' },
      ],
      stop_reason: 'max_tokens',
      usage: { input_tokens: 5, output_tokens: 7 },
    }
    const completion = JSON.parse(translateResponse(JSON.stringify(message), OPTIONS))
    expect(completion.choices[0].message.content).toBe('Part one. Part two.')
    expect(completion.choices[0].finish_reason).toBe('length')
    expect(completion.usage.prompt_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 0 })
    expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
  })

  it('finish reasons', () => {
    expect(finishReason('end_turn')).toBe('stop')
    expect(finishReason('stop_sequence')).toBe('stop')
    expect(finishReason('max_tokens')).toBe('length')
    expect(finishReason('model_context_window_exceeded')).toBe('length')
    expect(finishReason('tool_use')).toBe('tool_calls')
    expect(finishReason('refusal')).toBe('content_filter')
    expect(finishReason('pause_turn')).toBe('stop')
    expect(finishReason('something_new')).toBe('stop')
    expect(finishReason('toString')).toBe('stop')
  })

  it('usage with missing or null fields counts them as 0', () => {
    expect(openAIUsage({ input_tokens: 3, output_tokens: 4, cache_read_input_tokens: null })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    })
  })

  it('a body that is not a message is MERIDIAN_UPSTREAM_INVALID_RESPONSE', () => {
    for (const text of ['<html>bad gateway</html>', '{"type":"error","error":{}}', 'null', '[]']) {
      expect(() => translateResponse(text, OPTIONS), text).toThrow(
        expect.objectContaining({ code: 'MERIDIAN_UPSTREAM_INVALID_RESPONSE' }),
      )
    }
  })
})
