import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../provider.js'
import { ANTHROPIC_PARAMETERS, translateRequest } from './request.js'

const MODEL = 'claude-sonnet-4-5'
const user = (content: unknown) => ({ role: 'user', content })

function translate(body: JsonObject, options = {}) {
  return translateRequest({ model: 'gateway-name', ...body }, MODEL, options)
}
function rejects(body: JsonObject, param: string | RegExp, message?: RegExp) {
  let error: unknown
  try {
    translate(body)
  } catch (err) {
    error = err
  }
  expect(error).toMatchObject({ code: 'MERIDIAN_INVALID_REQUEST', status: 400 })
  const actual = (error as { param: string }).param
  if (typeof param === 'string') expect(actual).toBe(param)
  else expect(actual).toMatch(param)
  if (message) expect((error as Error).message).toMatch(message)
}

describe('anthropic request: the essentials', () => {
  it('a minimal request: model swapped in, default max_tokens, text blocks', () => {
    expect(translate({ messages: [user('Hi')] })).toEqual({
      body: {
        model: MODEL,
        max_tokens: 4096,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      },
      dropped: [],
    })
  })

  it('max_tokens: max_completion_tokens wins, then max_tokens, then per model, then the default', () => {
    const messages = [user('x')]
    expect(translate({ messages, max_tokens: 50, max_completion_tokens: 70 }).body.max_tokens).toBe(70)
    expect(translate({ messages, max_tokens: 50 }).body.max_tokens).toBe(50)
    expect(
      translate({ messages }, { maxTokensByModel: { [MODEL]: 8192 }, defaultMaxTokens: 1000 }).body
        .max_tokens,
    ).toBe(8192)
    expect(
      translate({ messages }, { maxTokensByModel: { other: 1 }, defaultMaxTokens: 1000 }).body.max_tokens,
    ).toBe(1000)
  })

  it('stream: from the option, else from the body; absent when false', () => {
    const messages = [user('x')]
    expect(translate({ messages, stream: true }).body.stream).toBe(true)
    expect(translate({ messages, stream: true }, { stream: false }).body.stream).toBeUndefined()
    expect(translate({ messages }, { stream: true }).body.stream).toBe(true)
    expect(translate({ messages, stream_options: { include_usage: true } }).dropped).toEqual([])
  })

  it('temperature up to 1 passes; above 1 is a 400 naming temperature', () => {
    expect(translate({ messages: [user('x')], temperature: 1 }).body.temperature).toBe(1)
    expect(translate({ messages: [user('x')], temperature: 0 }).body.temperature).toBe(0)
    rejects({ messages: [user('x')], temperature: 1.3 }, 'temperature', /above 1/)
  })

  it('top_p, stop (string or list) and user', () => {
    const { body } = translate({ messages: [user('x')], top_p: 0.9, stop: 'END', user: 'u-42' })
    expect(body).toMatchObject({ top_p: 0.9, stop_sequences: ['END'], metadata: { user_id: 'u-42' } })
    expect(translate({ messages: [user('x')], stop: ['a', 'b'] }).body.stop_sequences).toEqual(['a', 'b'])
    expect(translate({ messages: [user('x')], user: 'u', safety_identifier: 's' }).body.metadata).toEqual({
      user_id: 's',
    })
  })
})

describe('anthropic request: messages', () => {
  it('system and developer messages become a top-level string, wherever they stand', () => {
    const { body } = translate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        user('Hi'),
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ],
    })
    expect(body.system).toBe('Be brief.\n\nAnswer in French.')
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }])
  })

  it('a system part with cache_control makes system an array of blocks, the marker kept', () => {
    const cache = { type: 'ephemeral' }
    const { body } = translate({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Long manual…', cache_control: cache }] },
        { role: 'system', content: 'Be brief.' },
        user([{ type: 'text', text: 'Q', cache_control: cache }]),
      ],
    })
    expect(body.system).toEqual([
      { type: 'text', text: 'Long manual…', cache_control: cache },
      { type: 'text', text: 'Be brief.' },
    ])
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Q', cache_control: cache }] },
    ])
  })

  it('neighbours of one role are merged into one turn', () => {
    const { body } = translate({
      messages: [
        user('a'),
        user([{ type: 'text', text: 'b' }]),
        { role: 'assistant', content: 'c' },
        { role: 'assistant', content: 'd' },
      ],
    })
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'c' },
          { type: 'text', text: 'd' },
        ],
      },
    ])
  })

  it('images: data URLs become base64 sources, https URLs url sources', () => {
    const { body, dropped } = translate({
      messages: [
        user([
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'data:image/PNG;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'auto' } },
        ]),
      ],
    })
    expect((body.messages as JsonObject[])[0]!.content).toEqual([
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ])
    expect(dropped).toEqual([])
  })

  it('images: detail other than auto is reported; other schemes and media types are 400s', () => {
    const image = (url: string, detail?: string) => ({
      messages: [user([{ type: 'image_url', image_url: { url, detail } }])],
    })
    expect(translate(image('https://example.com/a.png', 'high')).dropped).toEqual(['image_url.detail'])
    rejects(image('http://example.com/a.png'), 'messages[0].content[0].image_url', /https URL/)
    rejects(image('data:image/tiff;base64,AAAA'), 'messages[0].content[0].image_url', /image\/tiff/)
    rejects({ messages: [user([{ type: 'input_audio', input_audio: {} }])] }, 'messages[0].content[0]')
  })

  it('assistant tool_calls become tool_use blocks with parsed input; content null is no block', () => {
    const { body } = translate({
      messages: [
        user('Weather?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
      ],
    })
    expect((body.messages as JsonObject[])[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
      ],
    })
  })

  it('invalid tool-call arguments are a 400 naming the message index', () => {
    const call = (args: string) => ({
      messages: [
        user('x'),
        user('y'),
        {
          role: 'assistant',
          content: 'ok',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }],
        },
      ],
    })
    rejects(
      call('{"city": '),
      'messages[2].tool_calls[0].function.arguments',
      /messages\[2\].*not valid JSON/,
    )
    rejects(call('[1,2]'), 'messages[2].tool_calls[0].function.arguments', /JSON object/)
  })

  it('tool messages become one user turn of tool_result blocks, followed by the next user text', () => {
    const { body } = translate({
      messages: [
        user('Weather in Paris and Rome?'),
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'w', arguments: '{"c":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'w', arguments: '{"c":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
        user('Thanks'),
      ],
    })
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'w', input: { c: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'w', input: { c: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ])
  })

  it('message names are reported; a deprecated function message or a lone system prompt is a 400', () => {
    expect(translate({ messages: [{ role: 'user', content: 'x', name: 'ann' }] }).dropped).toEqual([
      'messages[].name',
    ])
    rejects({ messages: [{ role: 'function', name: 'f', content: '1' }] }, 'messages[0].role')
    rejects({ messages: [{ role: 'system', content: 'only me' }] }, 'messages', /at least one/)
  })
})

describe('anthropic request: tools', () => {
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  }

  it('function tools → name, description, input_schema; a missing schema becomes an empty object schema', () => {
    const { body } = translate({
      messages: [user('x')],
      tools: [weather, { type: 'function', function: { name: 'now' }, cache_control: { type: 'ephemeral' } }],
    })
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'now', input_schema: { type: 'object', properties: {} }, cache_control: { type: 'ephemeral' } },
    ])
    expect(body.tool_choice).toBeUndefined()
  })

  it('strict is reported as dropped; non-function tools are a 400', () => {
    const strict = { ...weather, function: { ...weather.function, strict: true } }
    expect(translate({ messages: [user('x')], tools: [strict] }).dropped).toEqual(['tools[].function.strict'])
    rejects({ messages: [user('x')], tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0]')
  })

  it('tool_choice: auto, none, required, a named function', () => {
    const choice = (tool_choice: unknown) =>
      translate({ messages: [user('x')], tools: [weather], tool_choice }).body.tool_choice
    expect(choice('auto')).toEqual({ type: 'auto' })
    expect(choice('none')).toEqual({ type: 'none' })
    expect(choice('required')).toEqual({ type: 'any' })
    expect(choice({ type: 'function', function: { name: 'get_weather' } })).toEqual({
      type: 'tool',
      name: 'get_weather',
    })
    rejects(
      { messages: [user('x')], tools: [weather], tool_choice: { type: 'allowed_tools' } },
      'tool_choice',
    )
  })

  it('tool_choice without tools: auto and none mean nothing; required is a 400', () => {
    expect(translate({ messages: [user('x')], tool_choice: 'none' }).body.tool_choice).toBeUndefined()
    rejects({ messages: [user('x')], tool_choice: 'required' }, 'tool_choice')
  })

  it('parallel_tool_calls false → disable_parallel_tool_use, also with no tool_choice; not on none', () => {
    const parallel = (tool_choice?: unknown) =>
      translate({ messages: [user('x')], tools: [weather], tool_choice, parallel_tool_calls: false }).body
        .tool_choice
    expect(parallel()).toEqual({ type: 'auto', disable_parallel_tool_use: true })
    expect(parallel('required')).toEqual({ type: 'any', disable_parallel_tool_use: true })
    expect(parallel({ type: 'function', function: { name: 'get_weather' } })).toEqual({
      type: 'tool',
      name: 'get_weather',
      disable_parallel_tool_use: true,
    })
    expect(parallel('none')).toEqual({ type: 'none' })
    expect(
      translate({ messages: [user('x')], tools: [weather], parallel_tool_calls: true }).body.tool_choice,
    ).toBeUndefined()
  })
})

describe('anthropic request: parameters it cannot honour', () => {
  const messages = [user('x')]

  it('n > 1, logprobs, top_logprobs, audio and json_object are 400s naming the parameter', () => {
    rejects({ messages, n: 2 }, 'n')
    rejects({ messages, logprobs: true }, 'logprobs')
    rejects({ messages, top_logprobs: 3 }, 'top_logprobs')
    rejects({ messages, audio: { voice: 'alloy', format: 'mp3' } }, 'audio')
    rejects({ messages, modalities: ['text', 'audio'] }, 'modalities')
    rejects({ messages, functions: [{ name: 'f' }] }, 'functions')
    rejects({ messages, response_format: { type: 'json_object' } }, 'response_format', /json_schema/)
  })

  it('their neutral values pass without a word', () => {
    const r = translate({
      messages,
      n: 1,
      logprobs: false,
      top_logprobs: 0,
      modalities: ['text'],
      presence_penalty: 0,
      frequency_penalty: 0,
      logit_bias: {},
      store: false,
      service_tier: 'auto',
      response_format: { type: 'text' },
      seed: null,
    })
    expect(r.dropped).toEqual([])
    expect(r.body).toEqual({
      model: MODEL,
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
    })
  })

  it('penalties, logit_bias, seed and unknown keys are dropped and reported, in order', () => {
    const { body, dropped } = translate({
      messages,
      presence_penalty: 0.5,
      frequency_penalty: -1,
      logit_bias: { '50256': -100 },
      seed: 7,
      reasoning_effort: 'high',
      x_vendor_flag: true,
    })
    expect(dropped).toEqual([
      'presence_penalty',
      'frequency_penalty',
      'logit_bias',
      'seed',
      'reasoning_effort',
      'x_vendor_flag',
    ])
    for (const key of dropped) expect(body).not.toHaveProperty(key)
  })

  it('response_format json_schema → output_config.format', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['a'],
      additionalProperties: false,
    }
    const { body } = translate({
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } },
    })
    expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } })
    rejects(
      { messages, response_format: { type: 'json_schema', json_schema: { name: 'x' } } },
      'response_format',
    )
  })

  it('the table names every decision, and only the three kinds', () => {
    for (const [name, rule] of Object.entries(ANTHROPIC_PARAMETERS)) {
      expect(['mapped', 'dropped', 'rejected'], name).toContain(rule.handling)
      expect(rule.note.length, name).toBeGreaterThan(0)
    }
    expect(ANTHROPIC_PARAMETERS.n?.handling).toBe('rejected')
    expect(ANTHROPIC_PARAMETERS.seed?.handling).toBe('dropped')
    expect(ANTHROPIC_PARAMETERS.temperature?.handling).toBe('mapped')
  })
})
