import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { JsonObject } from '../provider.js'
import { GEMINI_PARAMETERS, translateRequest } from './request.js'

const user = (content: unknown) => ({ role: 'user', content })
const ask = (extra: JsonObject = {}, messages: unknown[] = [user('Hi')]) =>
  translateRequest({ model: 'alias', messages, ...extra }, 'gemini-2.5-flash')
const body = (extra: JsonObject = {}, messages?: unknown[]) => ask(extra, messages).body
const config = (extra: JsonObject) => body(extra).generationConfig

describe('messages → contents', () => {
  it('system and developer messages → systemInstruction; user → user; assistant → model', () => {
    expect(
      body({}, [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        user('Hi'),
        { role: 'assistant', content: 'Bonjour' },
        user([{ type: 'text', text: 'Again' }]),
      ]),
    ).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Bonjour' }] },
        { role: 'user', parts: [{ text: 'Again' }] },
      ],
    })
  })

  it('merges consecutive turns of one role (Gemini wants them alternating)', () => {
    expect(body({}, [user('a'), user('b'), { role: 'assistant', content: 'c' }]).contents).toEqual([
      { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
      { role: 'model', parts: [{ text: 'c' }] },
    ])
  })

  it('skips empty turns and refuses a conversation of system messages only', () => {
    expect(body({}, [user('a'), { role: 'assistant', content: null }, user('b')]).contents).toEqual([
      { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
    ])
    expect(() => ask({}, [{ role: 'system', content: 's' }])).toThrow(
      expect.objectContaining({ status: 400, param: 'messages' }),
    )
  })

  it('images: data: URLs inline, other URLs by reference with a MIME type from the extension', () => {
    const parts = body({}, [
      user([
        { type: 'text', text: 'Compare' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=2' } },
        { type: 'image_url', image_url: { url: 'https://example.com/render' } },
      ]),
    ]).contents as JsonObject[]
    expect(parts[0]!.parts).toEqual([
      { text: 'Compare' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.JPG?size=2' } },
      { fileData: { fileUri: 'https://example.com/render' } },
    ])
  })

  it('image detail is reported as ignored; audio and files become inline data', () => {
    const { body: out, dropped } = ask({}, [
      user([
        { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklG', detail: 'high' } },
        { type: 'input_audio', input_audio: { data: 'SUQz', format: 'mp3' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
        { type: 'file', file: { filename: 'notes.txt', file_data: 'aGVsbG8=' } },
      ]),
    ])
    expect((out.contents as JsonObject[])[0]!.parts).toEqual([
      { inlineData: { mimeType: 'image/webp', data: 'UklG' } },
      { inlineData: { mimeType: 'audio/mp3', data: 'SUQz' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
      { inlineData: { mimeType: 'text/plain', data: 'aGVsbG8=' } },
    ])
    expect(dropped).toEqual(['image_url.detail'])
  })

  it('refuses media where Gemini takes text only, OpenAI file ids and unknown part types', () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }
    expect(() => ask({}, [{ role: 'system', content: [image] }, user('x')])).toThrow(
      expect.objectContaining({ param: 'messages[0].content[0].type' }),
    )
    expect(() => ask({}, [user([{ type: 'file', file: { file_id: 'file-123' } }])])).toThrow(
      expect.objectContaining({ param: 'messages[0].content[0].file' }),
    )
    expect(() => ask({}, [user([{ type: 'input_video', video: {} }])])).toThrow(
      expect.objectContaining({ param: 'messages[0].content[0].type' }),
    )
  })

  it('assistant tool calls → functionCall parts; tool results → functionResponse in one user turn', () => {
    const messages = [
      user('Weather in Paris and Rome?'),
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_b', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: '{"temp":21}' }] },
    ]
    expect(body({}, messages).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'weather', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'weather', response: { content: 'sunny' } } },
          { functionResponse: { name: 'weather', response: { temp: 21 } } },
        ],
      },
    ])
  })

  it('gives Gemini back the thought signature carried in a tool call id', () => {
    const messages = [
      user('x'),
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1__thought__Cg+/sig==', type: 'function', function: { name: 'f', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1__thought__Cg+/sig==', content: 'ok' },
    ]
    expect((body({}, messages).contents as JsonObject[])[1]).toEqual({
      role: 'model',
      parts: [{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'Cg+/sig==' }],
    })
  })

  it('refuses a tool result for an unknown call and arguments that are not a JSON object', () => {
    expect(() => ask({}, [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }])).toThrow(
      expect.objectContaining({ param: 'messages[1].tool_call_id' }),
    )
    const bad = (args: string) => [
      user('x'),
      {
        role: 'assistant',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }],
      },
    ]
    for (const args of ['{oops', '[1]']) {
      expect(() => ask({}, bad(args))).toThrow(
        expect.objectContaining({ param: 'messages[1].tool_calls[0].function.arguments' }),
      )
    }
  })

  it('the deprecated function_call and function role', () => {
    const out = body({}, [
      user('x'),
      { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{"a":1}' } },
      { role: 'function', name: 'f', content: '{"ok":true}' },
    ])
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'x' }] },
      { role: 'model', parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'f', response: { ok: true } } }] },
    ])
  })
})

describe('tools', () => {
  const weather = {
    type: 'function',
    function: {
      name: 'weather',
      description: 'Current weather',
      strict: true,
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f', null] } },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
    },
  }
  const now = { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } }

  it('→ functionDeclarations with Gemini schemas; a function without arguments has no parameters', () => {
    const { body: out, dropped } = ask({ tools: [weather, now] })
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'weather',
            description: 'Current weather',
            parameters: {
              type: 'object',
              properties: {
                city: { type: 'string' },
                unit: { type: 'string', enum: ['c', 'f'], nullable: true },
              },
              required: ['city', 'unit'],
            },
          },
          { name: 'now' },
        ],
      },
    ])
    expect(out.toolConfig).toBeUndefined()
    expect(dropped).toEqual(['tools[0].function.parameters.additionalProperties'])
  })

  it('refuses tools that are not functions', () => {
    expect(() => ask({ tools: [{ type: 'custom', custom: { name: 'x' } }] })).toThrow(
      expect.objectContaining({ param: 'tools[0].type' }),
    )
  })

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'now' } },
      { mode: 'ANY', allowedFunctionNames: ['now'] },
    ],
  ])('tool_choice %j → %j', (choice, expected) => {
    expect(body({ tools: [weather, now], tool_choice: choice }).toolConfig).toEqual({
      functionCallingConfig: expected,
    })
  })

  it('allowed_tools: required → ANY with names; auto → AUTO over the allowed declarations only', () => {
    const allowed = (mode: string) => ({
      type: 'allowed_tools',
      allowed_tools: { mode, tools: [{ type: 'function', function: { name: 'now' } }] },
    })
    expect(body({ tools: [weather, now], tool_choice: allowed('required') }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] },
    })
    const auto = body({ tools: [weather, now], tool_choice: allowed('auto') })
    expect(auto.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } })
    expect(auto.tools).toEqual([{ functionDeclarations: [{ name: 'now' }] }])
  })

  it('refuses a named choice of an unknown function', () => {
    expect(() => ask({ tools: [now], tool_choice: { type: 'function', function: { name: 'x' } } })).toThrow(
      expect.objectContaining({ param: 'tool_choice' }),
    )
  })

  it('the deprecated functions and function_call', () => {
    const out = body({
      functions: [{ name: 'f', parameters: { type: 'string' } }],
      function_call: { name: 'f' },
    })
    expect(out.tools).toEqual([{ functionDeclarations: [{ name: 'f', parameters: { type: 'string' } }] }])
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } })
  })
})

describe('generationConfig', () => {
  it.each<[JsonObject, JsonObject]>([
    [{ temperature: 0.2 }, { temperature: 0.2 }],
    [{ top_p: 0.9 }, { topP: 0.9 }],
    [{ max_tokens: 100 }, { maxOutputTokens: 100 }],
    [{ max_completion_tokens: 200, max_tokens: 100 }, { maxOutputTokens: 200 }],
    [{ stop: 'END' }, { stopSequences: ['END'] }],
    [{ stop: ['a', 'b'] }, { stopSequences: ['a', 'b'] }],
    [{ n: 2 }, { candidateCount: 2 }],
    [{ seed: 7 }, { seed: 7 }],
    [{ presence_penalty: 0.5 }, { presencePenalty: 0.5 }],
    [{ frequency_penalty: -0.5 }, { frequencyPenalty: -0.5 }],
    [
      { logprobs: true, top_logprobs: 3 },
      { responseLogprobs: true, logprobs: 3 },
    ],
    [{ logprobs: true }, { responseLogprobs: true }],
    [{ reasoning_effort: 'none' }, { thinkingConfig: { thinkingBudget: 0 } }],
    [{ reasoning_effort: 'medium' }, { thinkingConfig: { thinkingBudget: 8192 } }],
    [{ response_format: { type: 'json_object' } }, { responseMimeType: 'application/json' }],
  ])('%j → %j', (openai, gemini) => {
    expect(config(openai)).toEqual(gemini)
  })

  it('json_schema → responseMimeType and the converted responseSchema', () => {
    const { body: out, dropped } = ask({
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: {
            type: 'object',
            properties: { answer: { type: 'string' }, score: { type: ['number', 'null'] } },
            required: ['answer', 'score'],
            additionalProperties: false,
          },
        },
      },
    })
    expect(out.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'object',
        properties: { answer: { type: 'string' }, score: { type: 'number', nullable: true } },
        required: ['answer', 'score'],
      },
    })
    expect(dropped).toEqual(['response_format.json_schema.schema.additionalProperties'])
  })

  it('no generationConfig when nothing asks for one; null values are ignored', () => {
    expect(body({ temperature: null, user: null, logit_bias: null })).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
    })
  })

  it('refuses a reasoning_effort it cannot map', () => {
    expect(() => ask({ reasoning_effort: 'extreme' })).toThrow(
      expect.objectContaining({ param: 'reasoning_effort' }),
    )
  })
})

describe('the parameter table', () => {
  it('names every parameter of OpenAI’s CreateChatCompletionRequest', () => {
    type Schema = { $ref?: string; allOf?: Schema[]; properties?: object }
    const path = fileURLToPath(new URL('../../../../shared/specs/openai-openapi.yaml', import.meta.url))
    const schemas = (parse(readFileSync(path, 'utf8')) as { components: { schemas: Record<string, Schema> } })
      .components.schemas
    const names = (schema: Schema): string[] => [
      ...Object.keys(schema.properties ?? {}),
      ...(schema.$ref ? names(schemas[schema.$ref.split('/').pop()!]!) : []),
      ...(schema.allOf ?? []).flatMap(names),
    ]
    const all = new Set(names(schemas.CreateChatCompletionRequest!))
    expect(all.size).toBeGreaterThan(30)
    expect([...all].filter((name) => !(name in GEMINI_PARAMETERS))).toEqual([])
  })

  it('dropped parameters and unknown ones are reported', () => {
    expect(ask({ user: 'u1', metadata: { a: 'b' }, top_k: 40, parallel_tool_calls: false }).dropped).toEqual([
      'user',
      'metadata',
      'top_k',
      'parallel_tool_calls',
    ])
  })

  it('values Gemini honours anyway are not reported', () => {
    expect(
      ask({ parallel_tool_calls: true, store: false, modalities: ['text'], stream: true }).dropped,
    ).toEqual([])
  })

  it.each<[JsonObject, string]>([
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
    [{ modalities: ['text', 'audio'] }, 'modalities'],
    [{ web_search_options: {} }, 'web_search_options'],
  ])('rejected: %j', (extra, param) => {
    expect(() => ask(extra)).toThrow(
      expect.objectContaining({ status: 400, param, code: 'MERIDIAN_INVALID_REQUEST' }),
    )
  })
})
