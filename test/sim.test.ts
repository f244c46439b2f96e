// `meridian sim` over a real socket: what the gateway's tests and benchmarks stand on.
import { Agent, request } from 'node:http'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseSimArgs } from '../src/adapters/node/sim-flags.js'
import { type SimServer, startSim } from '../src/adapters/node/sim-server.js'
import { validateAgainstSpec } from './helpers/openai-spec.js'

const KEY = 'sk-sim-test-0123456789abcdef'
const NOW = 1_750_000_000_000
const AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

let sim: SimServer

beforeAll(async () => {
  sim = await startSim({ port: 0, apiKey: KEY, now: () => NOW })
})
afterAll(() => sim.close())
beforeEach(() => sim.reset())

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say something about gateways.' }],
  ...extra,
})

function post(path: string, body: unknown, headers: Record<string, string> = AUTH, signal?: AbortSignal) {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  })
}

/** The data of each SSE frame, asserting the framing byte for byte on the way. */
function sseFrames(raw: string): string[] {
  expect(raw.endsWith('\n\n')).toBe(true)
  const frames = raw.slice(0, -2).split('\n\n')
  for (const frame of frames) expect(frame).toMatch(/^data: [^\n]+$/)
  return frames.map((frame) => frame.slice('data: '.length))
}

async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function errorOf(res: Response, status: number) {
  expect(res.status).toBe(status)
  const body = await res.json()
  expect(validateAgainstSpec('ErrorResponse', body)).toEqual([])
  return body.error as { message: string; type: string; param: string | null; code: string | null }
}

describe('chat completions', () => {
  it('answers a non-stream request with a spec-valid, deterministic completion in one body', async () => {
    const res = await post('/v1/chat/completions', chat())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const raw = await res.text()
    expect(Number(res.headers.get('content-length'))).toBe(new TextEncoder().encode(raw).length)
    const body = JSON.parse(raw)
    expect(validateAgainstSpec('CreateChatCompletionResponse', body)).toEqual([])
    expect(body).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini', created: NOW / 1000 })
    expect(body.choices[0].message).toMatchObject({ role: 'assistant', refusal: null })
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens)
    const again = await (await post('/v1/chat/completions', chat())).text()
    expect(again).toBe(raw)
  })

  it('streams frame by frame: role, one chunk per word, finish, [DONE]', async () => {
    sim.setBehaviour({ chunks: 4, chunk_gap_ms: 40 })
    const res = await post('/v1/chat/completions', chat({ stream: true }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    const reads: string[] = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      reads.push(decoder.decode(value, { stream: true }))
    }
    // The gaps make each content chunk its own write: the sim does not buffer the stream.
    expect(reads.length).toBeGreaterThanOrEqual(4)
    const frames = sseFrames(reads.join(''))
    expect(frames.at(-1)).toBe('[DONE]')
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f))
    for (const chunk of chunks)
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
    expect(chunks).toHaveLength(6)
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null })
    expect(chunks[5].choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' })
    expect(chunks.every((c) => !('usage' in c))).toBe(true)
    const text = chunks.map((c) => c.choices[0].delta.content ?? '').join('')
    expect(text.split(' ')).toHaveLength(4)
    const plain = await (await post('/v1/chat/completions', chat())).json()
    expect(text).toBe(plain.choices[0].message.content)
  })

  it('with include_usage, sends usage: null on every chunk and a last chunk with the usage', async () => {
    const res = await post(
      '/v1/chat/completions',
      chat({ stream: true, stream_options: { include_usage: true } }),
    )
    const chunks = sseFrames(await res.text())
      .slice(0, -1)
      .map((f) => JSON.parse(f))
    for (const chunk of chunks)
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', chunk)).toEqual([])
    const last = chunks.at(-1)
    expect(last.choices).toEqual([])
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
    const plain = await (await post('/v1/chat/completions', chat())).json()
    expect(last.usage).toEqual(plain.usage)
  })

  it('streams tool calls and n choices that the official SDK assembles', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${sim.url}/v1`, maxRetries: 0 })
    const stream = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      tool_choice: 'required',
      n: 2,
    })
    const final = await stream.finalChatCompletion()
    expect(final.choices).toHaveLength(2)
    for (const choice of final.choices) {
      expect(choice.finish_reason).toBe('tool_calls')
      const call = choice.message.tool_calls?.[0]
      expect(call?.type === 'function' && call.function.name).toBe('get_weather')
      expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '')).toHaveProperty('query')
    }
    const plain = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 2,
    })
    expect(plain.choices[0]?.finish_reason).toBe('length')
    expect(plain.usage?.completion_tokens).toBe(2)
  })
})

describe('embeddings and models', () => {
  it('answers embeddings as floats or base64, honouring dimensions', async () => {
    const res = await post('/v1/embeddings', {
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 16,
    })
    const body = await res.json()
    expect(validateAgainstSpec('CreateEmbeddingResponse', body)).toEqual([])
    expect(body.data).toHaveLength(2)
    expect(body.data[0].embedding).toHaveLength(16)
    // The SDK asks for base64 by default and decodes it: the vectors must agree.
    const client = new OpenAI({ apiKey: KEY, baseURL: `${sim.url}/v1`, maxRetries: 0 })
    const viaSdk = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 16,
    })
    expect(sim.stats().last_request?.body).toMatchObject({ encoding_format: 'base64' })
    for (const [i, v] of viaSdk.data[0]!.embedding.entries())
      expect(v).toBeCloseTo(body.data[0].embedding[i], 6)
  })

  it('lists models and retrieves one', async () => {
    const res = await fetch(`${sim.url}/v1/models`, { headers: AUTH })
    const body = await res.json()
    expect(validateAgainstSpec('ListModelsResponse', body)).toEqual([])
    expect(body.data.map((m: { id: string }) => m.id)).toEqual([
      'gpt-4o-mini',
      'gpt-4o',
      'text-embedding-3-small',
    ])
    const one = await fetch(`${sim.url}/v1/models/gpt-4o`, { headers: AUTH })
    expect(validateAgainstSpec('Model', await one.json())).toEqual([])
    const missing = await errorOf(await fetch(`${sim.url}/v1/models/nope`, { headers: AUTH }), 404)
    expect(missing.code).toBe('model_not_found')
  })
})

describe('auth and errors', () => {
  it('quotes the key it received in full in a 401', async () => {
    const error = await errorOf(
      await post('/v1/chat/completions', chat(), { authorization: 'Bearer sk-wrong-42' }),
      401,
    )
    expect(error.message).toBe('Incorrect API key provided: sk-wrong-42.')
    expect(error.code).toBe('invalid_api_key')
    const none = await errorOf(await post('/v1/chat/completions', chat(), {}), 401)
    expect(none.message).toContain("didn't provide an API key")
    expect((await post('/v1/chat/completions', chat(), { 'api-key': KEY })).status).toBe(200)
    expect((await post('/v1/chat/completions', chat(), { authorization: `bearer ${KEY}` })).status).toBe(200)
  })

  it('status answers every request with that status; 401 quotes the key, 429 says retry-after', async () => {
    sim.setBehaviour({ status: 503 })
    expect((await errorOf(await post('/v1/chat/completions', chat()), 503)).type).toBe('server_error')
    sim.setBehaviour({ status: 429 })
    const limited = await post('/v1/embeddings', { model: 'e', input: 'x' })
    expect(limited.headers.get('retry-after')).toBe('1')
    expect((await errorOf(limited, 429)).code).toBe('rate_limit_exceeded')
    sim.setBehaviour({ status: 401 })
    expect((await errorOf(await post('/v1/chat/completions', chat()), 401)).message).toContain(KEY)
    expect(sim.stats().errors).toBe(3)
  })

  it('error_rate 1 fails every request with a 500 envelope', async () => {
    sim.setBehaviour({ error_rate: 1 })
    expect((await errorOf(await post('/v1/chat/completions', chat()), 500)).type).toBe('server_error')
  })

  it('rejects malformed JSON, bad requests and unknown paths', async () => {
    expect((await errorOf(await post('/v1/chat/completions', '{"model":'), 400)).type).toBe(
      'invalid_request_error',
    )
    expect((await errorOf(await post('/v1/chat/completions', { model: 'm' }), 400)).param).toBe('messages')
    await errorOf(await post('/v1/nothing', {}), 404)
    await errorOf(await fetch(`${sim.url}/v1/chat/completions`, { headers: AUTH }), 404)
    expect(sim.stats().requests).toBe(4)
  })

  it('reset_rate 1 destroys the socket before any byte', async () => {
    sim.setBehaviour({ reset_rate: 1 })
    await expect(post('/v1/chat/completions', chat())).rejects.toThrow(TypeError)
    await waitFor(() => sim.stats().active === 0, 'the reset request to close')
    expect(sim.stats()).toMatchObject({ resets: 1, aborted: 0, requests: 1 })
  })
})

describe('several keys', () => {
  // A project's own key and the gateway's: the stats tell them apart by their last 4 characters.
  const BYOK = 'sk-project-byok-00001234'
  const OWN = 'sk-gateway-own-0000abcd'
  const bearer = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' })

  it('accepts any key of apiKey and apiKeys, rejects another quoting it, and counts each by its last 4', async () => {
    const multi = await startSim({ port: 0, apiKey: OWN, apiKeys: [BYOK] })
    try {
      const send = (headers: Record<string, string>) =>
        fetch(`${multi.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chat()) })
      expect((await send(bearer(OWN))).status).toBe(200)
      expect((await send(bearer(BYOK))).status).toBe(200)
      expect((await send({ 'api-key': BYOK, 'content-type': 'application/json' })).status).toBe(200)
      const wrong = await errorOf(await send(bearer('sk-third-key-7777')), 401)
      expect(wrong).toMatchObject({
        message: 'Incorrect API key provided: sk-third-key-7777.',
        code: 'invalid_api_key',
      })
      expect((await errorOf(await send({}), 401)).message).toContain("didn't provide an API key")
      // A right api-key beside a wrong bearer token opens the route, as one key did: it is the key counted.
      expect((await send({ ...bearer('sk-stale-5555'), 'api-key': OWN })).status).toBe(200)
      expect((await fetch(`${multi.url}/v1/models`, { headers: bearer(BYOK) })).status).toBe(200)
      const stats = await (await fetch(`${multi.url}/sim/stats`)).json()
      expect(stats).toMatchObject({ requests: 7, chat: 6, models: 1, errors: 2 })
      expect(stats.keys).toEqual({ abcd: 2, '1234': 3, '7777': 1, none: 1 })
      expect(multi.stats().keys).toEqual(stats.keys)
      expect(JSON.stringify(stats.keys)).not.toContain('sk-')
      // The /sim control plane is not an upstream request: not counted.
      expect((await fetch(`${multi.url}/sim/config`)).status).toBe(200)
      expect(multi.stats().keys).toEqual(stats.keys)
      const copy = multi.stats()
      await send(bearer(OWN))
      expect(copy.keys.abcd).toBe(2)
      expect(multi.stats().keys.abcd).toBe(3)
      await fetch(`${multi.url}/sim/reset`, { method: 'POST' })
      expect(multi.stats().keys).toEqual({})
      await send(bearer(BYOK))
      multi.reset()
      expect((await (await fetch(`${multi.url}/sim/stats`)).json()).keys).toEqual({})
    } finally {
      await multi.close()
    }
  })

  it('takes apiKeys alone, skips empty keys, and counts keys even when it checks none', async () => {
    const alone = await startSim({ port: 0, apiKey: '', apiKeys: ['', BYOK, OWN] })
    const open = await startSim({ port: 0 })
    try {
      const models = (url: string, headers: Record<string, string>) => fetch(`${url}/v1/models`, { headers })
      expect((await models(alone.url, bearer(OWN))).status).toBe(200)
      expect((await models(alone.url, bearer(BYOK))).status).toBe(200)
      expect((await models(alone.url, {})).status).toBe(401)
      expect((await models(alone.url, { authorization: 'Bearer ab' })).status).toBe(401)
      expect(alone.stats().keys).toEqual({ abcd: 1, '1234': 1, none: 1, ab: 1 })
      expect((await models(open.url, bearer(OWN))).status).toBe(200)
      expect((await models(open.url, {})).status).toBe(200)
      expect(open.stats().keys).toEqual({ abcd: 1, none: 1 })
    } finally {
      await Promise.all([alone.close(), open.close()])
    }
  })
})

describe('timing', () => {
  it('latency_ms delays the response head, stream or not', async () => {
    sim.setBehaviour({ latency_ms: 120 })
    let started = performance.now()
    await (await post('/v1/chat/completions', chat())).json()
    expect(performance.now() - started).toBeGreaterThanOrEqual(110)
    started = performance.now()
    await post('/v1/chat/completions', chat({ stream: true })).then((r) => r.body?.cancel())
    expect(performance.now() - started).toBeGreaterThanOrEqual(110)
  })

  it('ttft_ms delays the first chunk after the head, chunk_gap_ms each later content chunk', async () => {
    sim.setBehaviour({ ttft_ms: 100, chunk_gap_ms: 50, chunks: 3 })
    const started = performance.now()
    const res = await post('/v1/chat/completions', chat({ stream: true }))
    const reader = res.body!.getReader()
    await reader.read()
    const first = performance.now()
    // Lower bounds from the client's own start only: they hold however late any packet is delivered
    // (a bound between two deliveries does not, on a busy machine). 1 ms of slack for timer rounding.
    expect(first - started).toBeGreaterThanOrEqual(99)
    while (!(await reader.read()).done) {
      // drain
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(199)
  })

  it('stall_after_chunks sends that many content chunks, then holds the connection until the client leaves', async () => {
    sim.setBehaviour({ chunks: 5, stall_after_chunks: 2 })
    const client = new AbortController()
    const res = await post('/v1/chat/completions', chat({ stream: true }), AUTH, client.signal)
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
    const chunks = sseFrames(raw).map((f) => JSON.parse(f))
    expect(chunks.map((c) => c.choices[0].delta.content)).toEqual([
      '',
      expect.any(String),
      expect.any(String),
    ])
    expect(sim.stats().active).toBe(1)
    client.abort()
    await waitFor(() => sim.stats().aborted === 1, 'the stalled stream to count as aborted')
    expect(sim.stats().active).toBe(0)
  })

  it('counts a client that goes away before the answer as aborted', async () => {
    sim.setBehaviour({ latency_ms: 2000 })
    const client = new AbortController()
    const pending = post('/v1/chat/completions', chat(), AUTH, client.signal).catch((err: Error) => err)
    await waitFor(() => sim.stats().active === 1, 'the request to arrive')
    client.abort()
    expect(await pending).toBeInstanceOf(Error)
    await waitFor(() => sim.stats().aborted === 1, 'the abort to be counted')
    expect(sim.stats().active).toBe(0)
  })

  it('close() ends stalled streams too', async () => {
    const own = await startSim({ behaviour: { stall_after_chunks: 0 } })
    const res = await fetch(`${own.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat({ stream: true })),
    })
    const reader = res.body!.getReader()
    await reader.read()
    // Without destroying the stalled stream, close() would wait for it forever and the test would time out.
    await own.close()
    await expect(reader.read()).rejects.toThrow()
    await own.close() // idempotent
  })
})

/** Reads a stream until it ends or breaks: the text received and whether it ended cleanly. */
async function readUntilEnd(res: Response): Promise<{ raw: string; clean: boolean }> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let raw = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { raw, clean: true }
      raw += decoder.decode(value, { stream: true })
    }
  } catch {
    return { raw, clean: false }
  }
}

describe('deterministic faults', () => {
  const embed = { model: 'text-embedding-3-small', input: 'x' }

  it('fail_every 2 fails every other chat or embeddings request, counting from start or reset', async () => {
    sim.setBehaviour({ fail_every: 2 })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const res =
        i % 3 === 2 ? await post('/v1/embeddings', embed) : await post('/v1/chat/completions', chat())
      if (res.status === 500) expect((await errorOf(res, 500)).type).toBe('server_error')
      else await res.text()
      statuses.push(res.status)
      // Models requests are not counted: they do not shift the pattern.
      const models = await fetch(`${sim.url}/v1/models`, { headers: AUTH })
      await models.text()
      expect(models.status).toBe(200)
    }
    expect(statuses).toEqual([200, 500, 200, 500, 200, 500])
    expect(sim.stats()).toMatchObject({ errors: 3, requests: 12 })
    sim.reset()
    sim.setBehaviour({ fail_every: 3, fail_status: 429 })
    const again: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await post('/v1/chat/completions', chat())
      await res.text()
      again.push(res.status)
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('1')
    }
    expect(again).toEqual([200, 200, 429, 200, 200, 429])
  })

  it('fail_status sets the status of fail_every and error_rate; retry_after_s goes on every 429 and 503', async () => {
    sim.setBehaviour({ fail_every: 1, fail_status: 503, retry_after_s: 3 })
    const failed = await post('/v1/chat/completions', chat())
    expect(failed.headers.get('retry-after')).toBe('3')
    expect((await errorOf(failed, 503)).type).toBe('server_error')
    sim.setBehaviour({ status: 429, retry_after_s: 7 })
    const limited = await post('/v1/embeddings', embed)
    expect(limited.headers.get('retry-after')).toBe('7')
    await errorOf(limited, 429)
    sim.setBehaviour({ status: null, fail_every: null, error_rate: 1, fail_status: 503, retry_after_s: 0 })
    const random = await post('/v1/chat/completions', chat())
    expect(random.headers.get('retry-after')).toBe('0')
    await errorOf(random, 503)
    // retry_after_s null keeps the old headers: none on a 503, 1 on a 429, none on a 500.
    sim.setBehaviour({ retry_after_s: null })
    const unavailable = await post('/v1/chat/completions', chat())
    expect(unavailable.headers.get('retry-after')).toBeNull()
    await errorOf(unavailable, 503)
    sim.setBehaviour({ fail_status: 500, retry_after_s: 9 })
    const broken = await post('/v1/chat/completions', chat())
    expect(broken.headers.get('retry-after')).toBeNull()
    await errorOf(broken, 500)
    expect(sim.stats().errors).toBe(5)
  })

  it('slow_every 3 delays only every third request by slow_ms', async () => {
    sim.setBehaviour({ slow_every: 3, slow_ms: 300 })
    const took: number[] = []
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      await (await post('/v1/chat/completions', chat())).json()
      took.push(performance.now() - started)
    }
    expect(took[0]).toBeLessThan(250)
    expect(took[1]).toBeLessThan(250)
    expect(took[2]).toBeGreaterThanOrEqual(250)
  })

  it('counts a client that goes away during slow_ms as aborted, and writes nothing', async () => {
    sim.setBehaviour({ slow_every: 1, slow_ms: 2000 })
    const client = new AbortController()
    const pending = post('/v1/chat/completions', chat(), AUTH, client.signal).catch((err: Error) => err)
    await waitFor(() => sim.stats().active === 1, 'the request to arrive')
    client.abort()
    expect(await pending).toBeInstanceOf(Error)
    await waitFor(() => sim.stats().aborted === 1, 'the abort to be counted')
    expect(sim.stats()).toMatchObject({ active: 0, errors: 0, streams: 0, drops: 0 })
  })

  it('drop_after_chunks ends a stream after that many content chunks, without [DONE]', async () => {
    sim.setBehaviour({ chunks: 5, drop_after_chunks: 2 })
    const two = await post('/v1/chat/completions', chat({ stream: true }))
    expect(two.status).toBe(200)
    const cut = await readUntilEnd(two)
    expect(cut.clean).toBe(false)
    const frames = sseFrames(cut.raw)
    expect(frames).not.toContain('[DONE]')
    const chunks = frames.map((f) => JSON.parse(f))
    expect(chunks.map((c) => c.choices[0].delta.content)).toEqual([
      '',
      expect.any(String),
      expect.any(String),
    ])
    expect(chunks.every((c) => c.choices[0].finish_reason === null)).toBe(true)

    sim.setBehaviour({ drop_after_chunks: 0 })
    const zero = await post('/v1/chat/completions', chat({ stream: true }))
    expect(zero.status).toBe(200)
    expect(zero.headers.get('content-type')).toBe('text/event-stream')
    expect(await readUntilEnd(zero)).toEqual({ raw: '', clean: false })

    // A drop past the last content chunk still holds back the finish chunk and [DONE].
    sim.setBehaviour({ drop_after_chunks: 50 })
    const all = sseFrames(
      (await readUntilEnd(await post('/v1/chat/completions', chat({ stream: true })))).raw,
    )
    expect(all).toHaveLength(6)
    expect(all).not.toContain('[DONE]')

    // Non-stream answers are unaffected.
    const plain = await post('/v1/chat/completions', chat())
    expect(validateAgainstSpec('CreateChatCompletionResponse', await plain.json())).toEqual([])
    await waitFor(() => sim.stats().active === 0, 'the dropped streams to close')
    expect(sim.stats()).toMatchObject({ drops: 3, streams: 3, aborted: 0, chat: 4 })
    sim.reset()
    expect(sim.stats().drops).toBe(0)
  })

  it('POST /sim/config rejects invalid fault knobs, naming the key', async () => {
    const cases: Record<string, unknown>[] = [
      { fail_every: 0 },
      { fail_status: 200 },
      { retry_after_s: -1 },
      { slow_every: 1.5 },
      { slow_ms: -5 },
      { drop_after_chunks: 'two' },
    ]
    for (const patch of cases) {
      const key = Object.keys(patch)[0]!
      const res = await fetch(`${sim.url}/sim/config`, { method: 'POST', body: JSON.stringify(patch) })
      const error = await errorOf(res, 400)
      expect(error.param).toBe(key)
      expect(error.message).toContain(`"${key}"`)
    }
    expect(sim.behaviour()).toMatchObject({ fail_every: null, fail_status: 500, slow_ms: 0 })
  })
})

describe('Azure OpenAI paths', () => {
  it('answers chat and embeddings as the deployment, and wants api-version', async () => {
    const base = `/openai/deployments/my-gpt/chat/completions`
    const ok = await post(
      `${base}?api-version=2024-10-21`,
      { messages: [{ role: 'user', content: 'hi' }] },
      { 'api-key': KEY },
    )
    const body = await ok.json()
    expect(validateAgainstSpec('CreateChatCompletionResponse', body)).toEqual([])
    expect(body.model).toBe('my-gpt')
    expect(sim.stats().last_request?.path).toBe(`${base}?api-version=2024-10-21`)
    const missing = await errorOf(
      await post(base, { messages: [{ role: 'user', content: 'hi' }] }, { 'api-key': KEY }),
      400,
    )
    expect(missing.param).toBe('api-version')
    const embedded = await post(
      '/openai/deployments/my-embed/embeddings?api-version=2024-10-21',
      { input: 'x' },
      {
        'api-key': KEY,
      },
    )
    expect((await embedded.json()).model).toBe('my-embed')
    expect(sim.stats()).toMatchObject({ requests: 3, chat: 2, embeddings: 1 })
  })
})

describe('the /sim control plane', () => {
  it('POST /sim/config validates, applies and returns the full behaviour', async () => {
    const bad = await errorOf(
      await fetch(`${sim.url}/sim/config`, { method: 'POST', body: '{"latency":5}' }),
      400,
    )
    expect(bad.message).toContain('"latency"')
    expect(bad.param).toBe('latency')
    await errorOf(await fetch(`${sim.url}/sim/config`, { method: 'POST', body: '{"error_rate":3}' }), 400)
    const res = await fetch(`${sim.url}/sim/config`, { method: 'POST', body: '{"chunks":3,"status":null}' })
    expect(await res.json()).toMatchObject({ chunks: 3, status: null, latency_ms: 0 })
    expect(sim.behaviour().chunks).toBe(3)
    expect(sim.stats()).toMatchObject({ requests: 0, errors: 0 })
    expect(() => sim.setBehaviour({ nope: 1 } as never)).toThrow(/"nope"/)
  })

  it('GET /sim/stats counts by kind and records the last request as received', async () => {
    await post('/v1/chat/completions?trace=1', chat({ stream: true })).then((r) => r.text())
    await post('/v1/chat/completions', chat()).then((r) => r.text())
    await post('/v1/embeddings', { model: 'e', input: 'x' }, { ...AUTH, 'X-Custom': 'Yes' }).then((r) =>
      r.text(),
    )
    await fetch(`${sim.url}/v1/models`, { headers: AUTH }).then((r) => r.text())
    const stats = await (await fetch(`${sim.url}/sim/stats`)).json()
    expect(stats).toMatchObject({
      requests: 4,
      chat: 2,
      embeddings: 1,
      models: 1,
      streams: 1,
      errors: 0,
      resets: 0,
      aborted: 0,
      active: 0,
      keys: { cdef: 4 },
    })
    expect(stats.last_request).toMatchObject({ method: 'GET', path: '/v1/models', body: null })
    const stream = await post(
      '/v1/embeddings?x=1',
      { model: 'e', input: 'y' },
      { ...AUTH, 'X-Custom': 'Yes' },
    )
    await stream.text()
    expect(sim.stats().last_request).toMatchObject({
      method: 'POST',
      path: '/v1/embeddings?x=1',
      headers: { 'x-custom': 'Yes', authorization: `Bearer ${KEY}` },
      body: { model: 'e', input: 'y' },
    })
  })

  it('POST /sim/reset zeroes the stats and restores the start-up behaviour', async () => {
    sim.setBehaviour({ status: 500 })
    await post('/v1/chat/completions', chat()).then((r) => r.text())
    const res = await fetch(`${sim.url}/sim/reset`, { method: 'POST' })
    expect((await res.json()).status).toBeNull()
    expect(sim.stats()).toMatchObject({ requests: 0, errors: 0, last_request: null, keys: {} })
  })

  it('keeps connections alive', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const get = () =>
      new Promise<boolean>((resolve, reject) => {
        const req = request(`${sim.url}/v1/models`, { agent, headers: AUTH }, (res) => {
          res.resume()
          res.on('end', () => resolve(req.reusedSocket))
        })
        req.on('error', reject)
        req.end()
      })
    expect(await get()).toBe(false)
    expect(await get()).toBe(true)
    agent.destroy()
  })
})

describe('parseSimArgs', () => {
  it('defaults to 127.0.0.1:9100 and reads every flag', () => {
    expect(parseSimArgs([])).toEqual({
      host: '127.0.0.1',
      port: 9100,
      apiKey: undefined,
      models: undefined,
      behaviour: {},
    })
    const args = parseSimArgs([
      '--host=0.0.0.0',
      '--port',
      '0',
      '--api-key',
      'sk-x',
      '--models=a,b',
      '--status',
      '503',
      '--error-rate=0.5',
      '--latency-ms',
      '10',
      '--ttft-ms=20',
      '--chunk-gap-ms=5',
      '--chunks=8',
      '--reset-rate=0.1',
      '--stall-after-chunks=3',
      '--fail-every',
      '2',
      '--fail-status=503',
      '--retry-after-s=3',
      '--slow-every=20',
      '--slow-ms=2000',
      '--drop-after-chunks=0',
    ])
    expect(args).toEqual({
      host: '0.0.0.0',
      port: 0,
      apiKey: 'sk-x',
      apiKeys: ['sk-x'],
      models: ['a', 'b'],
      behaviour: {
        status: 503,
        error_rate: 0.5,
        latency_ms: 10,
        ttft_ms: 20,
        chunk_gap_ms: 5,
        chunks: 8,
        reset_rate: 0.1,
        stall_after_chunks: 3,
        fail_every: 2,
        fail_status: 503,
        retry_after_s: 3,
        slow_every: 20,
        slow_ms: 2000,
        drop_after_chunks: 0,
      },
    })
  })

  it('reads --api-key repeated, as a comma-separated list, or both', () => {
    expect(parseSimArgs(['--api-key', 'sk-a, sk-b', '--api-key=sk-c'])).toMatchObject({
      apiKey: 'sk-a',
      apiKeys: ['sk-a', 'sk-b', 'sk-c'],
    })
    expect(parseSimArgs(['--api-key=sk-a', '--api-key', 'sk-b'])).toMatchObject({
      apiKey: 'sk-a',
      apiKeys: ['sk-a', 'sk-b'],
    })
    expect(() => parseSimArgs(['--api-key='])).toThrow(/--api-key expects a non-empty key/)
    expect(() => parseSimArgs(['--api-key', 'sk-a,,sk-b'])).toThrow(
      /comma-separated list of keys, got "sk-a,,sk-b"/,
    )
  })

  it('throws a message naming the bad flag', () => {
    expect(() => parseSimArgs(['--latency', '5'])).toThrow(/unknown flag --latency/)
    expect(() => parseSimArgs(['--port', 'abc'])).toThrow(/--port expects a number/)
    expect(() => parseSimArgs(['--port', '70000'])).toThrow(/--port/)
    expect(() => parseSimArgs(['--error-rate', '2'])).toThrow(/--error-rate/)
    expect(() => parseSimArgs(['--chunks', '1.5'])).toThrow(/--chunks/)
    expect(() => parseSimArgs(['--status'])).toThrow(/--status expects a value/)
    expect(() => parseSimArgs(['serve'])).toThrow(/unexpected argument "serve"/)
    expect(() => parseSimArgs(['--fail-every', '0'])).toThrow(/--fail-every/)
    expect(() => parseSimArgs(['--fail-status=302'])).toThrow(/--fail-status/)
    expect(() => parseSimArgs(['--slow-ms', '-1'])).toThrow(/--slow-ms/)
    expect(parseSimArgs(['--fail-every=null', '--drop-after-chunks', 'null']).behaviour).toEqual({
      fail_every: null,
      drop_after_chunks: null,
    })
  })
})
