// `meridian sim` speaking Anthropic's Messages API and Google's Gemini API over a real socket: what the
// gateway's translating providers are tested against.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseSimArgs } from '../src/adapters/node/sim-flags.js'
import { type SimServer, startSim } from '../src/adapters/node/sim-server.js'

const KEY = 'sk-sim-dialects-0123456789abcdef'
const ANTHROPIC = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }
const GEMINI = { 'x-goog-api-key': KEY, 'content-type': 'application/json' }
const FLASH = '/v1beta/models/gemini-2.5-flash'

let sim: SimServer

beforeAll(async () => {
  sim = await startSim({ port: 0, apiKey: KEY })
})
afterAll(() => sim.close())
beforeEach(() => sim.reset())

type Json = Record<string, unknown>

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
}

const message = (extra: Json = {}): Json => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Say something about gateways.' }],
  ...extra,
})

const contents = (extra: Json = {}): Json => ({
  contents: [{ role: 'user', parts: [{ text: 'Say something about gateways.' }] }],
  ...extra,
})

function post(path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal) {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  })
}

/** Anthropic's SSE: each frame an `event:` line naming the `data:` line's type. */
function anthropicEvents(raw: string): Json[] {
  expect(raw.endsWith('\n\n')).toBe(true)
  return raw
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const match = /^event: (\w+)\ndata: ([^\n]+)$/.exec(frame)
      expect(match, frame).not.toBeNull()
      const data = JSON.parse(match![2]!) as Json
      expect(data.type).toBe(match![1])
      return data
    })
}

/** Gemini's SSE: `data:` events separated by CRLF pairs. */
function geminiEvents(raw: string): Json[] {
  expect(raw.endsWith('\r\n\r\n')).toBe(true)
  return raw
    .slice(0, -4)
    .split('\r\n\r\n')
    .map((frame) => {
      expect(frame).toMatch(/^data: [^\r\n]+$/)
      return JSON.parse(frame.slice('data: '.length)) as Json
    })
}

interface GeminiCandidate {
  content: { parts: Json[]; role: string }
  finishReason?: string
  index: number
}

const candidatesOf = (event: Json) => event.candidates as GeminiCandidate[]

async function errorBody(res: Response, status: number): Promise<Json> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/json')
  return (await res.json()) as Json
}

async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('Anthropic Messages', () => {
  it('answers a message the same as the OpenAI route answers the equivalent request', async () => {
    const res = await post('/v1/messages', message(), ANTHROPIC)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Json
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
      stop_sequence: null,
    })
    expect(body.id).toMatch(/^msg_[0-9a-f]{16}$/)
    const openai = (await (
      await post(
        '/v1/chat/completions',
        {
          model: 'claude-sonnet-4-5',
          messages: [{ role: 'user', content: 'Say something about gateways.' }],
          max_tokens: 1024,
        },
        { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      )
    ).json()) as { choices: { message: { content: string } }[]; usage: Json }
    expect(body.content).toEqual([{ type: 'text', text: openai.choices[0]!.message.content }])
    expect(body.usage).toEqual({
      input_tokens: openai.usage.prompt_tokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: openai.usage.completion_tokens,
    })
  })

  it('streams the events in order, and the text deltas join to the non-stream text', async () => {
    const plain = (await (await post('/v1/messages', message(), ANTHROPIC)).json()) as Json
    const res = await post('/v1/messages', message({ stream: true }), ANTHROPIC)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const events = anthropicEvents(await res.text())
    const types = events.map((e) => e.type)
    const deltas = types.filter((t) => t === 'content_block_delta').length
    expect(deltas).toBeGreaterThanOrEqual(12)
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array(deltas).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => (e.delta as { type: string; text: string }).text)
      .join('')
    expect([{ type: 'text', text }]).toEqual(plain.content)
    const usage = plain.usage as Json
    expect((events[0]!.message as Json).usage).toMatchObject({
      input_tokens: usage.input_tokens,
      output_tokens: 1,
    })
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    })
    expect(sim.stats()).toMatchObject({ requests: 2, chat: 2, streams: 1, errors: 0 })
  })

  it('answers tool_choice any with a tool_use block, its input streamed in pieces', async () => {
    const request = message({
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: WEATHER_SCHEMA }],
      tool_choice: { type: 'any' },
    })
    const plain = (await (await post('/v1/messages', request, ANTHROPIC)).json()) as Json
    expect(plain.stop_reason).toBe('tool_use')
    const [block] = plain.content as Json[]
    expect(block).toMatchObject({ type: 'tool_use', name: 'get_weather' })
    expect(block!.input).toEqual({
      city: expect.any(String),
      unit: expect.stringMatching(/^(celsius|fahrenheit)$/),
    })
    const events = anthropicEvents(
      await (await post('/v1/messages', { ...request, stream: true }, ANTHROPIC)).text(),
    )
    expect(events[1]).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { ...block, input: {} },
    })
    const pieces = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => e.delta as { type: string; partial_json: string })
    expect(pieces.length).toBeGreaterThan(1)
    expect(pieces.every((d) => d.type === 'input_json_delta')).toBe(true)
    expect(JSON.parse(pieces.map((d) => d.partial_json).join(''))).toEqual(block!.input)
    expect((events.at(-2)!.delta as Json).stop_reason).toBe('tool_use')
  })

  it('counts tokens as the message usage does', async () => {
    const res = await post(
      '/v1/messages/count_tokens',
      { model: 'claude-sonnet-4-5', messages: message().messages },
      ANTHROPIC,
    )
    const counted = (await res.json()) as Json
    const plain = (await (await post('/v1/messages', message(), ANTHROPIC)).json()) as { usage: Json }
    expect(counted).toEqual({ input_tokens: plain.usage.input_tokens })
    expect(sim.stats()).toMatchObject({ requests: 2, chat: 1 })
  })

  it('wants x-api-key (or a bearer token) and anthropic-version, answering in Anthropic error shapes', async () => {
    const { 'x-api-key': _key, ...noKey } = ANTHROPIC
    expect(await errorBody(await post('/v1/messages', message(), noKey), 401)).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'x-api-key header is required' },
    })
    const wrong = await errorBody(
      await post('/v1/messages', message(), { ...ANTHROPIC, 'x-api-key': 'sk-wrong-7' }),
      401,
    )
    expect(wrong.error).toEqual({ type: 'authentication_error', message: 'invalid x-api-key: sk-wrong-7' })
    // An OpenAI-style key does not open the Anthropic route unless sent as a bearer token.
    expect((await post('/v1/messages', message(), { ...noKey, 'api-key': KEY })).status).toBe(401)
    expect((await post('/v1/messages', message(), { ...noKey, authorization: `Bearer ${KEY}` })).status).toBe(
      200,
    )
    const { 'anthropic-version': _version, ...noVersion } = ANTHROPIC
    expect(await errorBody(await post('/v1/messages', message(), noVersion), 400)).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    })
    const bad = await errorBody(
      await post('/v1/messages', { ...message(), max_tokens: undefined }, ANTHROPIC),
      400,
    )
    expect(bad.error).toEqual({ type: 'invalid_request_error', message: 'max_tokens: Field required' })
    await errorBody(await post('/v1/messages', '{"model":', ANTHROPIC), 400)
    expect(sim.stats()).toMatchObject({ requests: 7, errors: 6 })
  })

  it('answers the status knob in Anthropic error shapes', async () => {
    sim.setBehaviour({ status: 529 })
    expect(await errorBody(await post('/v1/messages', message({ stream: true }), ANTHROPIC), 529)).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    })
    sim.setBehaviour({ status: 429 })
    const limited = await post('/v1/messages', message(), ANTHROPIC)
    expect(limited.headers.get('retry-after')).toBe('1')
    expect(((await errorBody(limited, 429)).error as Json).type).toBe('rate_limit_error')
    sim.setBehaviour({ status: 401 })
    expect(
      ((await errorBody(await post('/v1/messages', message(), ANTHROPIC), 401)).error as Json).message,
    ).toContain(KEY)
    sim.setBehaviour({ status: null, error_rate: 1 })
    expect(
      ((await errorBody(await post('/v1/messages', message(), ANTHROPIC), 500)).error as Json).type,
    ).toBe('api_error')
    expect(sim.stats()).toMatchObject({ requests: 4, errors: 4, streams: 0 })
  })

  it('paces streams by ttft_ms, chunk_gap_ms and chunks', async () => {
    sim.setBehaviour({ ttft_ms: 80, chunk_gap_ms: 40, chunks: 3 })
    const started = performance.now()
    const res = await post('/v1/messages', message({ stream: true }), ANTHROPIC)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    const reads: string[] = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      reads.push(decoder.decode(value, { stream: true }))
      if (reads.length === 1) expect(performance.now() - started).toBeGreaterThanOrEqual(79)
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(80 + 2 * 40 - 1)
    expect(reads.length).toBeGreaterThanOrEqual(3)
    const deltas = anthropicEvents(reads.join('')).filter((e) => e.type === 'content_block_delta')
    expect(deltas).toHaveLength(3)
  })

  it('reset_rate destroys the socket before any byte', async () => {
    sim.setBehaviour({ reset_rate: 1 })
    await expect(post('/v1/messages', message(), ANTHROPIC)).rejects.toThrow(TypeError)
    await waitFor(() => sim.stats().active === 0, 'the reset request to close')
    expect(sim.stats()).toMatchObject({ resets: 1, requests: 1, chat: 1 })
  })
})

describe('Gemini generateContent', () => {
  it('answers generateContent the same as the OpenAI route answers the equivalent request', async () => {
    const res = await post(`${FLASH}:generateContent`, contents(), GEMINI)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Json
    const openai = (await (
      await post(
        '/v1/chat/completions',
        { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Say something about gateways.' }] },
        { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      )
    ).json()) as { choices: { message: { content: string } }[]; usage: Json }
    expect(body).toMatchObject({
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
      modelVersion: 'gemini-2.5-flash',
    })
  })

  it('streams with alt=sse: text across several events, finishReason and usage on the last', async () => {
    const plain = (await (await post(`${FLASH}:generateContent`, contents(), GEMINI)).json()) as Json
    const res = await post(`${FLASH}:streamGenerateContent?alt=sse`, contents(), GEMINI)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const events = geminiEvents(await res.text())
    expect(events.length).toBeGreaterThan(3)
    const text = events
      .map((e) =>
        candidatesOf(e)[0]!
          .content.parts.map((p) => p.text)
          .join(''),
      )
      .join('')
    const whole = candidatesOf(plain)[0]!
    expect(text).toBe(whole.content.parts[0]!.text)
    expect(events.slice(0, -1).every((e) => e.usageMetadata === undefined)).toBe(true)
    expect(events.slice(0, -1).every((e) => candidatesOf(e)[0]!.finishReason === undefined)).toBe(true)
    expect(candidatesOf(events.at(-1)!)[0]!.finishReason).toBe('STOP')
    expect(events.at(-1)!.usageMetadata).toEqual(plain.usageMetadata)
    // Without alt=sse, the same responses as one JSON array.
    const array = await post(`${FLASH}:streamGenerateContent`, contents(), GEMINI)
    expect(array.headers.get('content-type')).toBe('application/json')
    expect(await array.json()).toEqual(events)
    expect(sim.stats()).toMatchObject({ requests: 3, chat: 3, streams: 2 })
  })

  it('answers function-calling mode ANY with a functionCall part, whole in one stream event', async () => {
    const request = contents({
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: WEATHER_SCHEMA }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    })
    const plain = (await (await post(`${FLASH}:generateContent`, request, GEMINI)).json()) as Json
    const [part] = candidatesOf(plain)[0]!.content.parts
    expect(part).toEqual({
      functionCall: { name: 'get_weather', args: { city: expect.any(String), unit: expect.any(String) } },
    })
    const events = geminiEvents(
      await (await post(`${FLASH}:streamGenerateContent?alt=sse`, request, GEMINI)).text(),
    )
    expect(events).toHaveLength(2)
    expect(candidatesOf(events[0]!)[0]!.content.parts).toEqual([part])
  })

  it('accepts the key as ?key=; answers a wrong key 400 API_KEY_INVALID and a missing one 403', async () => {
    const noKey = { 'content-type': 'application/json' }
    expect((await post(`${FLASH}:generateContent?key=${KEY}`, contents(), noKey)).status).toBe(200)
    const wrong = await errorBody(
      await post(`${FLASH}:generateContent?key=AIza-wrong`, contents(), noKey),
      400,
    )
    expect(wrong.error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: expect.stringContaining('AIza-wrong'),
      details: [expect.objectContaining({ reason: 'API_KEY_INVALID' })],
    })
    const missing = await errorBody(await post(`${FLASH}:generateContent`, contents(), noKey), 403)
    expect(missing.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' })
    // A bearer token is not a Gemini API key.
    expect(
      (await post(`${FLASH}:generateContent`, contents(), { ...noKey, authorization: `Bearer ${KEY}` }))
        .status,
    ).toBe(403)
    const bad = await errorBody(await post(`${FLASH}:generateContent`, { contents: [] }, GEMINI), 400)
    expect(bad.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' })
    expect((await errorBody(await post(`${FLASH}:frobnicate`, contents(), GEMINI), 404)).error).toMatchObject(
      {
        status: 'NOT_FOUND',
      },
    )
    expect(sim.stats()).toMatchObject({ requests: 6, errors: 5 })
  })

  it('answers the status knob in Gemini error shapes, and stalls streams', async () => {
    sim.setBehaviour({ status: 503 })
    expect(
      await errorBody(await post(`${FLASH}:streamGenerateContent?alt=sse`, contents(), GEMINI), 503),
    ).toEqual({
      error: {
        code: 503,
        message: 'The model is overloaded. Please try again later.',
        status: 'UNAVAILABLE',
      },
    })
    sim.setBehaviour({ status: 429 })
    expect((await errorBody(await post(`${FLASH}:embedContent`, {}, GEMINI), 429)).error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
    })
    sim.setBehaviour({ status: null, chunks: 5, stall_after_chunks: 2 })
    const client = new AbortController()
    const res = await post(`${FLASH}:streamGenerateContent?alt=sse`, contents(), GEMINI, client.signal)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let raw = ''
    const timedOut = Symbol('timeout')
    for (;;) {
      const next = await Promise.race([
        reader.read(),
        new Promise<typeof timedOut>((resolve) => setTimeout(resolve, 300, timedOut)),
      ])
      if (next === timedOut) break
      if (next.done) throw new Error('the stalled stream ended')
      raw += decoder.decode(next.value, { stream: true })
    }
    expect(geminiEvents(raw)).toHaveLength(2)
    client.abort()
    await waitFor(() => sim.stats().aborted === 1, 'the stalled stream to count as aborted')
    expect(sim.stats()).toMatchObject({ errors: 2, streams: 1, active: 0 })
  })
})

describe('Gemini embeddings', () => {
  it('embeds one content or a batch, with the OpenAI route vectors', async () => {
    const one = (await (
      await post(
        '/v1beta/models/text-embedding-004:embedContent',
        {
          model: 'models/text-embedding-004',
          content: { parts: [{ text: 'hello' }] },
          outputDimensionality: 8,
        },
        GEMINI,
      )
    ).json()) as { embedding: { values: number[] } }
    expect(one.embedding.values).toHaveLength(8)
    const openai = (await (
      await post(
        '/v1/embeddings',
        { model: 'text-embedding-004', input: 'hello', dimensions: 8 },
        { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      )
    ).json()) as { data: { embedding: number[] }[] }
    expect(one.embedding.values).toEqual(openai.data[0]!.embedding)
    const batch = (await (
      await post(
        '/v1beta/models/text-embedding-004:batchEmbedContents',
        {
          requests: ['a', 'hello'].map((text) => ({
            model: 'models/text-embedding-004',
            content: { parts: [{ text }] },
            outputDimensionality: 8,
          })),
        },
        GEMINI,
      )
    ).json()) as { embeddings: { values: number[] }[] }
    expect(batch.embeddings).toHaveLength(2)
    expect(batch.embeddings[1]!.values).toEqual(one.embedding.values)
    const counted = (await (await post(`${FLASH}:countTokens`, contents(), GEMINI)).json()) as Json
    const plain = (await (await post(`${FLASH}:generateContent`, contents(), GEMINI)).json()) as Json
    expect(counted).toEqual({ totalTokens: (plain.usageMetadata as Json).promptTokenCount })
    expect(sim.stats()).toMatchObject({ requests: 5, embeddings: 3, chat: 1 })
  })
})

describe('models lists as key probes, with several keys', () => {
  const BYOK = 'sk-ant-project-byok-00001234'
  const OWN = 'AIza-gateway-own-0000abcd'
  const WRONG = 'sk-wrong-key-7777'
  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers })

  it('answers each dialect probe 200 for any key of the set and its auth error for another', async () => {
    const multi = await startSim({ port: 0, apiKeys: [BYOK, OWN] })
    try {
      // OpenAI: a bearer token.
      for (const key of [BYOK, OWN]) {
        const res = await get(`${multi.url}/v1/models`, { authorization: `Bearer ${key}` })
        expect(res.status).toBe(200)
        const list = (await res.json()) as { object: string; data: Json[] }
        expect(list.object).toBe('list')
        expect(list.data[0]).toMatchObject({ id: 'gpt-4o-mini', object: 'model' })
      }
      const openai = await errorBody(
        await get(`${multi.url}/v1/models`, { authorization: `Bearer ${WRONG}` }),
        401,
      )
      expect((openai.error as Json).message).toBe(`Incorrect API key provided: ${WRONG}.`)

      // Anthropic: x-api-key (with or without anthropic-version), or a bearer token beside anthropic-version.
      const anthropic = await get(`${multi.url}/v1/models`, { 'x-api-key': OWN })
      expect(anthropic.status).toBe(200)
      expect(await anthropic.json()).toEqual({
        data: [
          {
            type: 'model',
            id: 'claude-sonnet-4-5',
            display_name: 'Claude Sonnet 4.5',
            created_at: '2023-11-14T22:13:20Z',
          },
          {
            type: 'model',
            id: 'claude-haiku-4-5',
            display_name: 'Claude Haiku 4.5',
            created_at: '2023-11-14T22:13:20Z',
          },
        ],
        has_more: false,
        first_id: 'claude-sonnet-4-5',
        last_id: 'claude-haiku-4-5',
      })
      expect((await get(`${multi.url}/v1/models`, ANTHROPIC)).status).toBe(401)
      expect((await get(`${multi.url}/v1/models`, { ...ANTHROPIC, 'x-api-key': BYOK })).status).toBe(200)
      const viaBearer = { 'anthropic-version': '2023-06-01', authorization: `Bearer ${BYOK}` }
      expect(((await (await get(`${multi.url}/v1/models`, viaBearer)).json()) as Json).has_more).toBe(false)
      expect(await errorBody(await get(`${multi.url}/v1/models`, { 'x-api-key': WRONG }), 401)).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: `invalid x-api-key: ${WRONG}` },
      })

      // Gemini: ?key= or x-goog-api-key.
      const gemini = await get(`${multi.url}/v1beta/models?key=${BYOK}`)
      expect(gemini.status).toBe(200)
      expect(await gemini.json()).toEqual({
        models: [
          {
            name: 'models/gemini-2.5-flash',
            version: '001',
            displayName: 'Gemini 2.5 Flash',
            supportedGenerationMethods: ['generateContent', 'countTokens'],
          },
          {
            name: 'models/gemini-2.5-pro',
            version: '001',
            displayName: 'Gemini 2.5 Pro',
            supportedGenerationMethods: ['generateContent', 'countTokens'],
          },
          {
            name: 'models/gemini-embedding-001',
            version: '001',
            displayName: 'Gemini Embedding 001',
            supportedGenerationMethods: ['embedContent', 'batchEmbedContents'],
          },
        ],
      })
      expect((await get(`${multi.url}/v1beta/models`, { 'x-goog-api-key': OWN })).status).toBe(200)
      const wrong = await errorBody(await get(`${multi.url}/v1beta/models?key=${WRONG}`), 400)
      expect(wrong.error).toMatchObject({
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: expect.stringContaining(WRONG),
        details: [expect.objectContaining({ reason: 'API_KEY_INVALID' })],
      })
      const missing = await errorBody(await get(`${multi.url}/v1beta/models`), 403)
      expect(missing.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' })
      const posted = await fetch(`${multi.url}/v1beta/models?key=${OWN}`, { method: 'POST', body: '{}' })
      expect(((await errorBody(posted, 404)).error as Json).status).toBe('NOT_FOUND')

      // The POST is a 404, not a models request; the sim-wide KEY is no key of this sim.
      expect(multi.stats()).toMatchObject({ requests: 13, models: 12, errors: 6 })
      expect(multi.stats().keys).toEqual({ '1234': 4, abcd: 4, '7777': 3, cdef: 1, none: 1 })
    } finally {
      await multi.close()
    }
  })

  it('counts the key of every dialect request by its last 4 characters, and reset zeroes the count', async () => {
    const multi = await startSim({ port: 0, apiKey: KEY, apiKeys: [BYOK, OWN] })
    try {
      const send = (path: string, body: Json, headers: Record<string, string>) =>
        fetch(`${multi.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
      expect((await send('/v1/messages', message(), { ...ANTHROPIC, 'x-api-key': BYOK })).status).toBe(200)
      expect((await send('/v1/messages', message(), ANTHROPIC)).status).toBe(200)
      expect((await send(`${FLASH}:generateContent?key=${OWN}`, contents(), {})).status).toBe(200)
      expect((await send(`${FLASH}:generateContent`, contents(), { 'x-goog-api-key': WRONG })).status).toBe(
        400,
      )
      const stats = await (await fetch(`${multi.url}/sim/stats`)).json()
      expect(stats).toMatchObject({ requests: 4, chat: 4, errors: 1 })
      expect(stats.keys).toEqual({ '1234': 1, cdef: 1, abcd: 1, '7777': 1 })
      await fetch(`${multi.url}/sim/reset`, { method: 'POST' })
      expect(multi.stats().keys).toEqual({})
    } finally {
      await multi.close()
    }
  })

  it('serves the probes in a one-dialect sim, and lists --models in every dialect', async () => {
    const anthropic = await startSim({ port: 0, dialect: 'anthropic', apiKeys: [BYOK] })
    const gemini = await startSim({ port: 0, dialect: 'gemini', apiKeys: [OWN], models: ['gemini-x'] })
    const openai = await startSim({ port: 0, dialect: 'openai', apiKeys: [BYOK] })
    try {
      const bare = await get(`${anthropic.url}/v1/models`, { authorization: `Bearer ${BYOK}` })
      expect(((await bare.json()) as Json).first_id).toBe('claude-sonnet-4-5')
      const denied = await errorBody(await get(`${anthropic.url}/v1/models`, { 'x-api-key': OWN }), 401)
      expect((denied.error as Json).message).toBe(`invalid x-api-key: ${OWN}`)
      expect((await errorBody(await get(`${anthropic.url}/v1/models`), 401)).error).toEqual({
        type: 'authentication_error',
        message: 'x-api-key header is required',
      })
      const listed = await get(`${gemini.url}/v1beta/models`, { 'x-goog-api-key': OWN })
      expect(await listed.json()).toEqual({
        models: [
          {
            name: 'models/gemini-x',
            version: '001',
            displayName: 'Gemini X',
            supportedGenerationMethods: ['generateContent', 'countTokens'],
          },
        ],
      })
      expect((await get(`${gemini.url}/v1beta/models?key=${BYOK}`)).status).toBe(400)
      // An OpenAI-only sim keeps /v1/models OpenAI's, whatever the headers.
      const own = await get(`${openai.url}/v1/models`, { ...ANTHROPIC, authorization: `Bearer ${BYOK}` })
      expect(((await own.json()) as Json).object).toBe('list')
      expect((await get(`${openai.url}/v1/models`, { ...ANTHROPIC, 'x-api-key': BYOK })).status).toBe(401)
    } finally {
      await Promise.all([anthropic.close(), gemini.close(), openai.close()])
    }
  })
})

describe('--dialect', () => {
  it('openai: the Anthropic and Gemini paths answer 404', async () => {
    const own = await startSim({ port: 0, apiKey: KEY, dialect: 'openai' })
    try {
      const bearer = { ...ANTHROPIC, authorization: `Bearer ${KEY}` }
      const messages = await fetch(`${own.url}/v1/messages`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify(message()),
      })
      expect(((await errorBody(messages, 404)).error as Json).type).toBe('invalid_request_error')
      const gemini = await fetch(`${own.url}${FLASH}:generateContent`, {
        method: 'POST',
        headers: GEMINI,
        body: JSON.stringify(contents()),
      })
      expect(gemini.status).toBe(404)
      const chat = await fetch(`${own.url}/v1/chat/completions`, {
        method: 'POST',
        headers: bearer,
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(chat.status).toBe(200)
    } finally {
      await own.close()
    }
  })

  it('anthropic and gemini: the other dialects answer 404 in the one spoken', async () => {
    const anthropic = await startSim({ port: 0, dialect: 'anthropic' })
    const gemini = await startSim({ port: 0, dialect: 'gemini' })
    try {
      const chat = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      const a = await fetch(`${anthropic.url}/v1/chat/completions`, { method: 'POST', body: chat })
      expect(((await errorBody(a, 404)).error as Json).type).toBe('not_found_error')
      expect(
        (await fetch(`${anthropic.url}${FLASH}:generateContent`, { method: 'POST', body: '{}' })).status,
      ).toBe(404)
      const ok = await fetch(`${anthropic.url}/v1/messages`, {
        method: 'POST',
        headers: ANTHROPIC,
        body: JSON.stringify(message()),
      })
      expect(ok.status).toBe(200)
      const g = await fetch(`${gemini.url}/v1/messages`, { method: 'POST', headers: ANTHROPIC, body: '{}' })
      expect(((await errorBody(g, 404)).error as Json).status).toBe('NOT_FOUND')
      expect((await fetch(`${gemini.url}/v1/models`)).status).toBe(404)
      const fine = await fetch(`${gemini.url}${FLASH}:generateContent`, {
        method: 'POST',
        body: JSON.stringify(contents()),
      })
      expect(fine.status).toBe(200)
    } finally {
      await Promise.all([anthropic.close(), gemini.close()])
    }
  })

  it('is a flag of meridian sim', () => {
    expect(parseSimArgs(['--dialect', 'gemini']).dialect).toBe('gemini')
    expect(parseSimArgs(['--dialect=all']).dialect).toBe('all')
    expect(parseSimArgs([]).dialect).toBeUndefined()
    expect(() => parseSimArgs(['--dialect', 'bedrock'])).toThrow(/--dialect expects one of all, openai/)
  })
})
