import { describe, expect, it } from 'vitest'
import {
  anthropicInputTokens,
  anthropicMessage,
  anthropicRequestProblem,
  anthropicStatusError,
  anthropicStreamFrames,
  anthropicToChat,
  planAnthropic,
} from './anthropic.js'
import { chatCompletion, planChat } from './chat.js'
import type { JsonObject } from './wire.js'

const ask = (content: unknown, extra: JsonObject = {}): JsonObject => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content }],
  ...extra,
})

const WEATHER = {
  name: 'get_weather',
  description: 'Weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
}

/** The `event:` and parsed `data:` of each frame, checking the framing on the way. */
function events(frames: string[]): { event: string; data: JsonObject }[] {
  return frames.map((frame) => {
    const match = /^event: ([a-z_]+)\ndata: ([^\n]+)\n\n$/.exec(frame)
    expect(match).not.toBeNull()
    const data = JSON.parse(match![2]!) as JsonObject
    expect(data.type).toBe(match![1])
    return { event: match![1]!, data }
  })
}

describe('anthropicToChat', () => {
  it('reads a request as its OpenAI equivalent, with keys in a fixed order', () => {
    const chat = anthropicToChat({
      tool_choice: { type: 'tool', name: 'get_weather' },
      tools: [WEATHER, { type: 'web_search_20250305', name: 'web_search' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
      ],
      system: [{ type: 'text', text: 'Be brief.' }],
      stop_sequences: ['END'],
      max_tokens: 50,
      model: 'claude-haiku-4-5',
      metadata: { user_id: 'u1' },
    })
    expect(Object.keys(chat)).toEqual(['model', 'messages', 'max_tokens', 'stop', 'tools', 'tool_choice'])
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    ])
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather in a city', parameters: WEATHER.input_schema },
      },
    ])
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
    expect(anthropicToChat(ask('x', { tools: [WEATHER], tool_choice: { type: 'any' } })).tool_choice).toBe(
      'required',
    )
  })
})

describe('Anthropic answers', () => {
  it('say what the OpenAI sim says for the equivalent request, as a message', () => {
    const body = ask('Say something about gateways.')
    const message = anthropicMessage(planAnthropic(body))
    const openai = chatCompletion(
      planChat({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'Say something about gateways.' }],
        max_tokens: 1024,
      }),
      0,
    )
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: openai.choices[0]!.message.content }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: openai.usage.prompt_tokens,
        output_tokens: openai.usage.completion_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    })
    expect(message.id).toBe(`msg_${openai.id.slice('chatcmpl-'.length)}`)
    // A pure function of the request: `stream` does not change it, the content does.
    expect(anthropicMessage(planAnthropic({ ...body, stream: true }))).toEqual(message)
    expect(anthropicMessage(planAnthropic(ask('Something else.'))).content).not.toEqual(message.content)
    expect(anthropicInputTokens(body)).toBe(openai.usage.prompt_tokens)
  })

  it('stop at max_tokens with stop_reason max_tokens', () => {
    const message = anthropicMessage(planAnthropic(ask('Hello', { max_tokens: 2 })))
    expect(message.stop_reason).toBe('max_tokens')
    expect(message.usage.output_tokens).toBe(2)
  })

  it('use the forced tool for tool_choice any or tool', () => {
    for (const tool_choice of [{ type: 'any' }, { type: 'tool', name: 'get_weather' }]) {
      const message = anthropicMessage(
        planAnthropic(ask('Weather in Paris?', { tools: [WEATHER], tool_choice })),
      )
      expect(message.stop_reason).toBe('tool_use')
      const block = message.content[0]!
      expect(block).toMatchObject({ type: 'tool_use', name: 'get_weather' })
      if (block.type !== 'tool_use') throw new Error('expected tool_use')
      expect(block.id).toMatch(/^toolu_[0-9a-f]{24}$/)
      expect(block.input).toEqual({ city: expect.any(String), days: expect.any(Number) })
    }
    const auto = anthropicMessage(
      planAnthropic(ask('Hi', { tools: [WEATHER], tool_choice: { type: 'auto' } })),
    )
    expect(auto.content[0]!.type).toBe('text')
  })
})

describe('Anthropic streams', () => {
  it('send the events in order, one text_delta per word, usage at start and end', () => {
    const plan = planAnthropic(ask('Hi'), { chunks: 5 })
    const { frames, contentStart, contentEnd } = anthropicStreamFrames(plan)
    const list = events(frames)
    expect(list.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array(5).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect([contentStart, contentEnd]).toEqual([3, 8])
    const message = anthropicMessage(plan)
    expect(list[0]!.data.message).toEqual({
      ...message,
      content: [],
      stop_reason: null,
      usage: { ...message.usage, output_tokens: 1 },
    })
    expect(list[1]!.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    })
    const text = list
      .slice(contentStart, contentEnd)
      .map((e) => (e.data.delta as { type: string; text: string }).text)
      .join('')
    expect(text).toBe(message.content[0]!.type === 'text' && message.content[0]!.text)
    expect(list.at(-2)!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    })
  })

  it('stream tool input as input_json_delta pieces that join to the input', () => {
    const plan = planAnthropic(ask('Weather?', { tools: [WEATHER], tool_choice: { type: 'any' } }))
    const { frames, contentStart, contentEnd } = anthropicStreamFrames(plan)
    const list = events(frames)
    const block = anthropicMessage(plan).content[0]!
    expect(list[1]!.data.content_block).toEqual({ ...block, input: {} })
    expect(contentEnd - contentStart).toBeGreaterThan(1)
    const json = list
      .slice(contentStart, contentEnd)
      .map((e) => {
        const delta = e.data.delta as { type: string; partial_json: string }
        expect(delta.type).toBe('input_json_delta')
        return delta.partial_json
      })
      .join('')
    expect(block.type === 'tool_use' && JSON.parse(json)).toEqual(block.type === 'tool_use' && block.input)
    expect((list.at(-2)!.data.delta as JsonObject).stop_reason).toBe('tool_use')
  })
})

describe('Anthropic request checks and errors', () => {
  it('name what Anthropic would reject', () => {
    expect(anthropicRequestProblem(ask('hi'))).toBeNull()
    expect(anthropicRequestProblem([])).toMatch(/JSON object/)
    expect(anthropicRequestProblem({ ...ask('hi'), model: undefined })).toBe('model: Field required')
    expect(anthropicRequestProblem({ ...ask('hi'), max_tokens: undefined })).toBe(
      'max_tokens: Field required',
    )
    expect(anthropicRequestProblem({ ...ask('hi'), max_tokens: undefined }, true)).toBeNull()
    expect(anthropicRequestProblem({ ...ask('hi'), max_tokens: 0 })).toMatch(/^max_tokens/)
    expect(anthropicRequestProblem({ ...ask('hi'), messages: [] })).toMatch(/^messages/)
    const system = { ...ask('hi'), messages: [{ role: 'system', content: 'x' }] }
    expect(anthropicRequestProblem(system)).toMatch(/top-level `system`/)
  })

  it('map statuses to Anthropic error types', () => {
    expect(anthropicStatusError(529)).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    })
    expect(anthropicStatusError(429).error.type).toBe('rate_limit_error')
    expect(anthropicStatusError(502).error.type).toBe('api_error')
    expect(anthropicStatusError(418).error.type).toBe('invalid_request_error')
  })
})
