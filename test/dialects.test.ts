import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateAgainstSpec } from './helpers/openai-spec.js'
import { GATEWAY_KEY, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

// One gateway, one simulated upstream speaking all three dialects, and the same model behind each:
// `sim-openai` (OpenAI-compatible), `sim-anthropic` (Anthropic's Messages API), `sim-gemini` (Gemini).
// The sim answers a request with the same words whichever dialect it is asked in, so a translation is right
// when the answer through it equals the answer through the OpenAI dialect, which needs none.
let stack: Stack
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  stack = await startStack((config, simUrl) => {
    config.providers!.push(
      { id: 'claude', type: 'anthropic', base_url: `${simUrl}/v1`, api_key: SIM_KEY, timeout_ms: 5000 },
      { id: 'google', type: 'gemini', base_url: `${simUrl}/v1beta`, api_key: SIM_KEY, timeout_ms: 5000 },
    )
    config.models!.push(
      { name: 'sim-openai', targets: [{ provider: 'sim', model: 'sim-large' }] },
      { name: 'sim-anthropic', targets: [{ provider: 'claude', model: 'sim-large' }] },
      { name: 'sim-gemini', targets: [{ provider: 'google', model: 'sim-large' }] },
      { name: 'embed-gemini', targets: [{ provider: 'google', model: 'sim-embed' }] },
    )
  })
  openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: stack.url, apiKey: GATEWAY_KEY, maxRetries: 0 })
})
afterAll(() => stack.close())

const question = [{ role: 'user' as const, content: 'Name three rivers of Europe.' }]
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f', null] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
}

describe('the openai SDK, through translating providers', () => {
  for (const model of ['sim-anthropic', 'sim-gemini']) {
    it(`${model}: a chat completion equals the untranslated one`, async () => {
      const reference = await openai.chat.completions.create({
        model: 'sim-openai',
        messages: question,
        max_tokens: 200,
      })
      const completion = await openai.chat.completions.create({ model, messages: question, max_tokens: 200 })
      expect(validateAgainstSpec('CreateChatCompletionResponse', completion)).toEqual([])
      expect(completion.choices[0]!.message.content).toBe(reference.choices[0]!.message.content)
      expect(completion.choices[0]!.finish_reason).toBe(reference.choices[0]!.finish_reason)
      expect(completion.usage!.completion_tokens).toBeGreaterThan(0)
    })

    it(`${model}: a stream with include_usage carries the same words and ends with usage`, async () => {
      const reference = await openai.chat.completions.create({
        model: 'sim-openai',
        messages: question,
        max_tokens: 200,
      })
      const stream = await openai.chat.completions.create({
        model,
        messages: question,
        max_tokens: 200,
        stream: true,
        stream_options: { include_usage: true },
      })
      let text = ''
      let usage: OpenAI.CompletionUsage | undefined | null
      let finish: string | null = null
      for await (const chunk of stream) {
        expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
        text += chunk.choices[0]?.delta.content ?? ''
        finish = chunk.choices[0]?.finish_reason ?? finish
        if (chunk.usage) usage = chunk.usage
      }
      expect(text).toBe(reference.choices[0]!.message.content)
      expect(finish).toBe('stop')
      expect(usage?.total_tokens).toBeGreaterThan(0)
    })

    it(`${model}: a forced tool call comes back as tool_calls, streamed or not`, async () => {
      const request = {
        model,
        messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
        tools: [weatherTool],
        tool_choice: { type: 'function' as const, function: { name: 'get_weather' } },
      }
      const completion = await openai.chat.completions.create(request)
      const call = completion.choices[0]!.message.tool_calls![0]!
      expect(completion.choices[0]!.finish_reason).toBe('tool_calls')
      expect(call.type === 'function' && call.function.name).toBe('get_weather')
      const args = call.type === 'function' ? JSON.parse(call.function.arguments) : {}
      expect(typeof args.city).toBe('string')

      const runner = openai.chat.completions.stream({ ...request, stream: true })
      const final = await runner.finalChatCompletion()
      const streamed = final.choices[0]!.message.tool_calls![0]!
      expect(streamed.type === 'function' && JSON.parse(streamed.function.arguments)).toEqual(args)
    })
  }

  it('embeddings through Gemini come back as OpenAI embeddings (the SDK asks for base64)', async () => {
    const input = ['first text', 'second text']
    const result = await openai.embeddings.create({ model: 'embed-gemini', input, dimensions: 64 })
    expect(result.data.map((d) => d.index)).toEqual([0, 1])
    for (const d of result.data) {
      expect(d.embedding).toHaveLength(64)
      expect(d.embedding.every((x) => Number.isFinite(x))).toBe(true)
    }
    expect(result.data[0]!.embedding).not.toEqual(result.data[1]!.embedding)
    const floats = await openai.embeddings.create({
      model: 'embed-gemini',
      input,
      dimensions: 64,
      encoding_format: 'float',
    })
    expect(floats.data[0]!.embedding.map((x) => Math.fround(x))).toEqual(result.data[0]!.embedding)
  })

  it('tells the client about a parameter a provider cannot honour, and rejects what it must', async () => {
    const res = await stack.post('/v1/chat/completions', {
      model: 'sim-anthropic',
      messages: question,
      logit_bias: { '50256': -100 },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-meridian-warning')).toMatch(/logit_bias/)
    // An unknown field is named too, even one whose name could not go into a header as it is.
    const odd = await stack.post('/v1/chat/completions', {
      model: 'sim-gemini',
      messages: question,
      'x_new\nparam_é': 1,
    })
    expect(odd.status).toBe(200)
    expect(odd.headers.get('x-meridian-warning')).toMatch(/x_new\?param_\?/)
    const rejected = await stack.post('/v1/chat/completions', {
      model: 'sim-anthropic',
      messages: question,
      n: 2,
    })
    expect(rejected.status).toBe(400)
    expect((await rejected.json()).error.param).toBe('n')
  })
})

describe('the Anthropic SDK against /v1/messages', () => {
  for (const model of ['sim-anthropic', 'sim-openai']) {
    const route =
      model === 'sim-anthropic' ? 'passed through to an Anthropic target' : 'translated to an OpenAI target'
    it(`${route}: a message, and the same words streamed`, async () => {
      const message = await anthropic.messages.create({ model, max_tokens: 200, messages: question })
      expect(message.type).toBe('message')
      expect(message.role).toBe('assistant')
      expect(message.stop_reason).toBe('end_turn')
      const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('')
      expect(text.length).toBeGreaterThan(0)
      expect(message.usage.output_tokens).toBeGreaterThan(0)

      const stream = anthropic.messages.stream({ model, max_tokens: 200, messages: question })
      const streamed = await stream.finalMessage()
      expect(streamed.content.map((b) => (b.type === 'text' ? b.text : '')).join('')).toBe(text)
      expect(streamed.stop_reason).toBe('end_turn')
    })

    it(`${route}: tools, streamed or not`, async () => {
      const request = {
        model,
        max_tokens: 200,
        messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
        tools: [
          {
            name: 'get_weather',
            description: 'The weather in a city',
            input_schema: {
              type: 'object' as const,
              properties: { city: { type: 'string' } },
              required: ['city'],
            },
          },
        ],
        tool_choice: { type: 'tool' as const, name: 'get_weather' },
      }
      const message = await anthropic.messages.create(request)
      expect(message.stop_reason).toBe('tool_use')
      const use = message.content.find((b) => b.type === 'tool_use')
      expect(use?.type === 'tool_use' && use.name).toBe('get_weather')
      const streamed = await anthropic.messages.stream(request).finalMessage()
      const streamedUse = streamed.content.find((b) => b.type === 'tool_use')
      expect(streamedUse?.type === 'tool_use' && streamedUse.input).toEqual(
        use?.type === 'tool_use' && use.input,
      )
    })
  }

  it('answers a bad key with 401 in Anthropic’s error shape', async () => {
    const bad = new Anthropic({ baseURL: stack.url, apiKey: 'mk-not-a-key-000000', maxRetries: 0 })
    const err = await bad.messages
      .create({ model: 'sim-openai', max_tokens: 10, messages: question })
      .catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(err.status).toBe(401)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
  })

  it('answers a malformed request with 400 invalid_request_error naming the field', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-openai', messages: question }),
    })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.type).toBe('error')
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toMatch(/max_tokens/)
  })

  it('counts tokens', async () => {
    const counted = await anthropic.messages.countTokens({ model: 'sim-openai', messages: question })
    expect(counted.input_tokens).toBeGreaterThan(0)
  })
})
