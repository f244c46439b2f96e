import { describe, expect, it } from 'vitest'
import { chatRequestSchema } from '../openai/schemas.js'
import { chatToMessage } from './from-openai.js'
import { type MessagesRequest, messagesRequestSchema } from './schemas.js'
import { messagesToChat } from './to-openai.js'

type Json = Record<string, unknown>

/** Validates like the route does, then translates; the result must be a valid OpenAI chat request. */
function translate(fields: Json): { body: Json; dropped: string[] } {
  const req: MessagesRequest = messagesRequestSchema.parse({
    model: 'claude-x',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'hi' }],
    ...fields,
  })
  const out = messagesToChat(req)
  const check = chatRequestSchema.safeParse(out.body)
  expect(check.success, JSON.stringify(check.error?.issues)).toBe(true)
  return out
}

const messagesOf = (...messages: Json[]) => translate({ messages }).body.messages
const user = (content: unknown) => ({ role: 'user', content })
const assistant = (content: unknown) => ({ role: 'assistant', content })

describe('messagesToChat: top level', () => {
  it('maps model, messages and max_tokens, and nothing else unasked', () => {
    expect(translate({})).toEqual({
      body: { model: 'claude-x', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 },
      dropped: [],
    })
  })

  it('maps stop_sequences, temperature, top_p and metadata.user_id', () => {
    const { body } = translate({
      stop_sequences: ['END', 'STOP'],
      temperature: 0.3,
      top_p: 0.9,
      metadata: { user_id: 'u-1' },
    })
    expect(body).toMatchObject({ stop: ['END', 'STOP'], temperature: 0.3, top_p: 0.9, user: 'u-1' })
    expect(translate({ stop_sequences: [] }).body).not.toHaveProperty('stop')
  })

  it('asks a stream for its usage, which message_delta reports', () => {
    expect(translate({ stream: true }).body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(translate({ stream: false }).body).not.toHaveProperty('stream')
  })

  it('lists top_k, thinking and unknown fields as dropped, not null ones', () => {
    const { body, dropped } = translate({
      top_k: 5,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      service_tier: 'auto',
      container: null,
      metadata: { user_id: 'u', tenant: 'acme' },
    })
    expect(dropped).toEqual(['metadata.tenant', 'top_k', 'thinking', 'service_tier'])
    expect(body).not.toHaveProperty('top_k')
    expect(body).not.toHaveProperty('thinking')
  })
})

describe('messagesToChat: system', () => {
  it('becomes a leading system message', () => {
    expect(translate({ system: 'Be brief.' }).body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ])
  })

  it('joins text blocks, listing cache_control only when present', () => {
    const blocks = [
      { type: 'text', text: 'One.' },
      { type: 'text', text: 'Two.' },
    ]
    const plain = translate({ system: blocks })
    expect(plain.body.messages).toEqual([
      { role: 'system', content: 'One.\n\nTwo.' },
      { role: 'user', content: 'hi' },
    ])
    expect(plain.dropped).toEqual([])
    const cached = translate({ system: [blocks[0], { ...blocks[1], cache_control: { type: 'ephemeral' } }] })
    expect(cached.dropped).toEqual(['cache_control'])
  })

  it('is left out when empty', () => {
    expect(translate({ system: '' }).body.messages).toEqual([{ role: 'user', content: 'hi' }])
    expect(translate({ system: [] }).body.messages).toEqual([{ role: 'user', content: 'hi' }])
  })
})

describe('messagesToChat: user content', () => {
  it('keeps a string, and a lone text block as a string', () => {
    expect(messagesOf(user('a'))).toEqual([{ role: 'user', content: 'a' }])
    expect(messagesOf(user([{ type: 'text', text: 'a' }]))).toEqual([{ role: 'user', content: 'a' }])
  })

  it('makes several blocks content parts', () => {
    expect(
      messagesOf(
        user([
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ]),
      ),
    ).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
    ])
  })

  it('makes a base64 image a data URL and keeps an image URL', () => {
    const [message] = messagesOf(
      user([
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'text', text: 'What are these?' },
      ]),
    ) as Json[]
    expect(message!.content).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      { type: 'text', text: 'What are these?' },
    ])
  })

  it("makes a PDF OpenAI's file part and a text document text; drops what has no form", () => {
    const { body, dropped } = translate({
      messages: [
        user([
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
          {
            type: 'document',
            title: 'a.pdf',
            source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' },
          },
          { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
          { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
          { type: 'image', source: { type: 'file', file_id: 'file_1' } },
          { type: 'search_result', source: 'x', title: 't', content: [] },
        ]),
      ],
    })
    expect((body.messages as Json[])[0]!.content).toEqual([
      { type: 'file', file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBE' } },
      { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBE' } },
      { type: 'text', text: 'plain words' },
    ])
    expect(dropped).toEqual([
      'messages.content.document.url',
      'messages.content.image.file',
      'messages.content.search_result',
    ])
  })
})

describe('messagesToChat: tool results', () => {
  it('become tool messages before the rest of their user message', () => {
    const messages = messagesOf(
      user('weather?'),
      assistant([
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
      ]),
      user([
        { type: 'text', text: 'here you go' },
        { type: 'tool_result', tool_use_id: 'call_1', content: 'rain' },
        { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: 'sun' }] },
      ]),
    )
    expect(messages).toEqual([
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
      { role: 'tool', tool_call_id: 'call_2', content: 'sun' },
      { role: 'user', content: 'here you go' },
    ])
  })

  it('join text blocks, keep an empty result empty, and prefix an error', () => {
    const messages = messagesOf(
      user([
        {
          type: 'tool_result',
          tool_use_id: 'a',
          content: [
            { type: 'text', text: 'line 1' },
            { type: 'text', text: 'line 2' },
          ],
        },
        { type: 'tool_result', tool_use_id: 'b' },
        { type: 'tool_result', tool_use_id: 'c', content: 'no such file', is_error: true },
        { type: 'tool_result', tool_use_id: 'd', is_error: true },
        { type: 'tool_result', tool_use_id: 'e', content: 'fine', is_error: false },
      ]),
    )
    expect(messages).toEqual([
      { role: 'tool', tool_call_id: 'a', content: 'line 1\nline 2' },
      { role: 'tool', tool_call_id: 'b', content: '' },
      { role: 'tool', tool_call_id: 'c', content: 'Error: no such file' },
      { role: 'tool', tool_call_id: 'd', content: 'Error' },
      { role: 'tool', tool_call_id: 'e', content: 'fine' },
    ])
  })

  it('move their images to the user message that follows, where a vision model sees them', () => {
    const png = { type: 'base64', media_type: 'image/png', data: 'AAAA' }
    const messages = messagesOf(
      user([
        {
          type: 'tool_result',
          tool_use_id: 'shot',
          content: [
            { type: 'text', text: 'screenshot taken' },
            { type: 'image', source: png },
          ],
        },
      ]),
    )
    expect(messages).toEqual([
      { role: 'tool', tool_call_id: 'shot', content: 'screenshot taken' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    ])
  })
})

describe('messagesToChat: assistant content', () => {
  it('keeps a string and joins text blocks as one text', () => {
    expect(messagesOf(user('q'), assistant('a'))).toContainEqual({ role: 'assistant', content: 'a' })
    expect(
      messagesOf(
        user('q'),
        assistant([
          { type: 'text', text: 'The answer ' },
          { type: 'text', text: 'is 4.' },
        ]),
      ),
    ).toContainEqual({ role: 'assistant', content: 'The answer is 4.' })
  })

  it('keeps text beside tool calls, and drops thinking', () => {
    const { body, dropped } = translate({
      messages: [
        user('q'),
        assistant([
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'redacted_thinking', data: 'xx' },
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'search', input: {} },
        ]),
      ],
    })
    expect((body.messages as Json[])[1]).toEqual({
      role: 'assistant',
      content: 'Let me look.',
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'search', arguments: '{}' } }],
    })
    expect(dropped).toEqual(['messages.content.thinking', 'messages.content.redacted_thinking'])
  })

  it('lists cache_control on a message block', () => {
    const { dropped } = translate({
      messages: [user([{ type: 'text', text: 'q', cache_control: { type: 'ephemeral' } }])],
    })
    expect(dropped).toEqual(['cache_control'])
  })
})

describe('messagesToChat: tools', () => {
  const weather = {
    name: 'weather',
    description: 'Current weather',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  }

  it('become functions with the input schema as parameters', () => {
    const { body } = translate({
      tools: [weather, { name: 'now', input_schema: { type: 'object' }, strict: true }],
    })
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: { name: 'weather', description: 'Current weather', parameters: weather.input_schema },
      },
      { type: 'function', function: { name: 'now', parameters: { type: 'object' }, strict: true } },
    ])
  })

  it('drop server tools and cache_control', () => {
    const { body, dropped } = translate({
      tools: [
        { type: 'web_search_20250305', name: 'web_search' },
        { ...weather, cache_control: { type: 'ephemeral' } },
      ],
    })
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: { name: 'weather', description: 'Current weather', parameters: weather.input_schema },
      },
    ])
    expect(dropped).toEqual(['tools.web_search_20250305', 'cache_control'])
  })

  it('map tool_choice and disable_parallel_tool_use', () => {
    const choice = (tool_choice: Json) => {
      const { body } = translate({ tools: [weather], tool_choice })
      return [body.tool_choice, body.parallel_tool_calls]
    }
    expect(choice({ type: 'auto' })).toEqual(['auto', undefined])
    expect(choice({ type: 'any' })).toEqual(['required', undefined])
    expect(choice({ type: 'none' })).toEqual(['none', undefined])
    expect(choice({ type: 'tool', name: 'weather' })).toEqual([
      { type: 'function', function: { name: 'weather' } },
      undefined,
    ])
    expect(choice({ type: 'auto', disable_parallel_tool_use: true })).toEqual(['auto', false])
    expect(choice({ type: 'any', disable_parallel_tool_use: false })).toEqual(['required', undefined])
  })

  it('send no tool_choice without tools (OpenAI rejects one)', () => {
    const none = translate({ tool_choice: { type: 'auto' } })
    expect(none.body).not.toHaveProperty('tool_choice')
    expect(none.dropped).toEqual([])
    const forced = translate({
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    })
    expect(forced.body).not.toHaveProperty('tools')
    expect(forced.body).not.toHaveProperty('tool_choice')
    expect(forced.body).not.toHaveProperty('parallel_tool_calls')
    expect(forced.dropped).toEqual(['tools.web_search_20250305', 'tool_choice'])
  })
})

describe('round trip', () => {
  it('an answer sent back as history is the OpenAI assistant message it came from', () => {
    const original = {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        {
          id: 'call_9',
          type: 'function',
          function: { name: 'weather', arguments: '{"city":"Oslo","days":[1,2]}' },
        },
      ],
    }
    const completion = JSON.stringify({
      id: 'chatcmpl-1',
      choices: [{ index: 0, message: original, finish_reason: 'tool_calls' }],
    })
    const answer = JSON.parse(chatToMessage(completion, 'claude-x')) as Json
    const { body } = translate({
      messages: [
        user('weather?'),
        { role: answer.role, content: answer.content },
        user([{ type: 'tool_result', tool_use_id: 'call_9', content: 'rain' }]),
      ],
    })
    expect((body.messages as Json[]).slice(1)).toEqual([
      original,
      { role: 'tool', tool_call_id: 'call_9', content: 'rain' },
    ])
  })
})
