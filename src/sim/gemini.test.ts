import { describe, expect, it } from 'vitest'
import { chatCompletion, planChat } from './chat.js'
import { embeddingList } from './embeddings.js'
import {
  DEFAULT_GEMINI_EMBEDDING_DIMENSIONS,
  geminiBatchEmbedContents,
  geminiEmbedContent,
  geminiEmbedProblem,
  geminiError,
  geminiGenerateProblem,
  geminiPromptTokens,
  geminiResponse,
  geminiStatusError,
  geminiStreamFrames,
  geminiStreamResponses,
  geminiToChat,
  planGemini,
} from './gemini.js'
import type { JsonObject } from './wire.js'

const MODEL = 'gemini-2.5-flash'

const ask = (text: string, extra: JsonObject = {}): JsonObject => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  ...extra,
})

const WEATHER_TOOLS = [
  {
    functionDeclarations: [
      {
        name: 'get_weather',
        parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' }, days: { type: 'INTEGER' } } },
      },
      { name: 'get_time' },
    ],
  },
]

describe('geminiToChat', () => {
  it('reads a request as its OpenAI equivalent, with keys in a fixed order', () => {
    const chat = geminiToChat(
      {
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } },
        tools: WEATHER_TOOLS,
        generationConfig: { stopSequences: ['END'], maxOutputTokens: 50, candidateCount: 2 },
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [
          {
            role: 'user',
            parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
          },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
          {
            role: 'user',
            parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'sunny' } } }],
          },
        ],
      },
      MODEL,
    )
    expect(Object.keys(chat)).toEqual([
      'model',
      'messages',
      'n',
      'max_tokens',
      'stop',
      'tools',
      'tool_choice',
    ])
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'get_weather',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'get_weather', content: '{"sky":"sunny"}' },
    ])
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
        },
      },
      { type: 'function', function: { name: 'get_time' } },
    ])
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'get_time' } })
    const any = geminiToChat(ask('x', { toolConfig: { functionCallingConfig: { mode: 'ANY' } } }), MODEL)
    expect(any.tool_choice).toBe('required')
  })
})

describe('Gemini answers', () => {
  it('say what the OpenAI sim says for the equivalent request', () => {
    const body = ask('Say something about gateways.')
    const response = geminiResponse(planGemini(body, MODEL))
    const openai = chatCompletion(
      planChat({ model: MODEL, messages: [{ role: 'user', content: 'Say something about gateways.' }] }),
      0,
    )
    expect(response).toEqual({
      candidates: [
        {
          content: { parts: [{ text: openai.choices[0]!.message.content }], role: 'model' },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: openai.usage.prompt_tokens,
        candidatesTokenCount: openai.usage.completion_tokens,
        totalTokenCount: openai.usage.total_tokens,
      },
      modelVersion: MODEL,
      responseId: openai.id.slice('chatcmpl-'.length),
    })
    expect(geminiPromptTokens(body, MODEL)).toBe(openai.usage.prompt_tokens)
    expect(geminiPromptTokens({ generateContentRequest: body }, MODEL)).toBe(openai.usage.prompt_tokens)
  })

  it('answer candidateCount candidates, MAX_TOKENS when cut, and forced function calls whole', () => {
    const two = geminiResponse(planGemini(ask('Hi', { generationConfig: { candidateCount: 2 } }), MODEL))
    expect(two.candidates.map((c) => c.index)).toEqual([0, 1])
    const cut = geminiResponse(planGemini(ask('Hi', { generationConfig: { maxOutputTokens: 2 } }), MODEL))
    expect(cut.candidates[0]!.finishReason).toBe('MAX_TOKENS')
    const called = geminiResponse(
      planGemini(
        ask('Weather?', { tools: WEATHER_TOOLS, toolConfig: { functionCallingConfig: { mode: 'ANY' } } }),
        MODEL,
      ),
    )
    expect(called.candidates[0]).toEqual({
      content: {
        parts: [
          {
            functionCall: {
              name: 'get_weather',
              args: { city: expect.any(String), days: expect.any(Number) },
            },
          },
        ],
        role: 'model',
      },
      finishReason: 'STOP',
      index: 0,
    })
  })
})

describe('Gemini streams', () => {
  it('send one text part per event, then a last event with finishReason and usageMetadata', () => {
    const plan = planGemini(ask('Hi'), MODEL, { chunks: 4 })
    const { responses, contentEnd } = geminiStreamResponses(plan)
    expect(responses).toHaveLength(5)
    expect(contentEnd).toBe(4)
    const streamed = responses
      .flatMap((r) => r.candidates.flatMap((c) => c.content.parts))
      .map((p) => ('text' in p ? p.text : ''))
      .join('')
    const whole = geminiResponse(plan)
    expect(streamed).toBe((whole.candidates[0]!.content.parts[0] as { text: string }).text)
    expect(responses.slice(0, -1).every((r) => r.usageMetadata === undefined)).toBe(true)
    expect(responses.slice(0, -1).every((r) => r.candidates[0]!.finishReason === undefined)).toBe(true)
    expect(responses.at(-1)).toMatchObject({
      candidates: [{ finishReason: 'STOP', index: 0 }],
      usageMetadata: whole.usageMetadata,
    })
  })

  it('are framed as SSE with CRLF pairs or as one JSON array', () => {
    const plan = planGemini(ask('Hi'), MODEL, { chunks: 3 })
    const { responses } = geminiStreamResponses(plan)
    const sse = geminiStreamFrames(plan, true)
    expect(sse.frames).toEqual(responses.map((r) => `data: ${JSON.stringify(r)}\r\n\r\n`))
    expect([sse.contentStart, sse.contentEnd]).toEqual([0, 3])
    const array = geminiStreamFrames(plan, false)
    expect(JSON.parse(array.frames.join(''))).toEqual(responses)
  })

  it('send a function call whole, in one event', () => {
    const body = ask('Weather?', {
      tools: WEATHER_TOOLS,
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    })
    const { responses, contentEnd } = geminiStreamResponses(planGemini(body, MODEL))
    expect(contentEnd).toBe(1)
    expect(responses[0]!.candidates[0]!.content.parts[0]).toHaveProperty('functionCall.name', 'get_weather')
  })
})

describe('Gemini embeddings', () => {
  it('are the OpenAI sim vectors for the same model, text and dimensions', () => {
    const one = geminiEmbedContent('text-embedding-004', {
      content: { parts: [{ text: 'hello' }] },
      outputDimensionality: 8,
    })
    const openai = embeddingList({ model: 'text-embedding-004', input: 'hello', dimensions: 8 })
    expect(one.embedding.values).toEqual(openai.data[0]!.embedding)
    const batch = geminiBatchEmbedContents('text-embedding-004', {
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] } },
        {
          model: 'models/text-embedding-004',
          content: { parts: [{ text: 'hello' }] },
          outputDimensionality: 8,
        },
      ],
    })
    expect(batch.embeddings[0]!.values).toHaveLength(DEFAULT_GEMINI_EMBEDDING_DIMENSIONS)
    expect(batch.embeddings[1]!.values).toEqual(one.embedding.values)
  })

  it('name what Gemini would reject', () => {
    expect(geminiEmbedProblem({ content: { parts: [{ text: 'x' }] } }, false)).toBeNull()
    expect(geminiEmbedProblem({}, false)).toMatch(/content is not specified/)
    expect(geminiEmbedProblem({ requests: [] }, true)).toMatch(/requests is not specified/)
    expect(geminiEmbedProblem({ requests: [{ content: {} }] }, true)).toMatch(/requests\[0\]\.content/)
  })
})

describe('Gemini request checks and errors', () => {
  it('name what Gemini would reject', () => {
    expect(geminiGenerateProblem(ask('hi'))).toBeNull()
    expect(geminiGenerateProblem({})).toMatch(/contents is not specified/)
    expect(geminiGenerateProblem({ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] })).toBe(
      'Please use a valid role: user, model.',
    )
    expect(geminiGenerateProblem({ contents: [{ role: 'user', parts: [] }] })).toMatch(
      /parts must not be empty/,
    )
    expect(geminiGenerateProblem(ask('x', { generationConfig: { candidateCount: 9 } }))).toMatch(
      /candidate_count/,
    )
  })

  it('speak google.rpc status names', () => {
    expect(geminiStatusError(429)).toEqual({
      error: { code: 429, message: expect.any(String), status: 'RESOURCE_EXHAUSTED' },
    })
    expect(geminiStatusError(503).error.status).toBe('UNAVAILABLE')
    expect(geminiStatusError(502).error.status).toBe('INTERNAL')
    expect(geminiError(418, 'x').error.status).toBe('INVALID_ARGUMENT')
  })
})
