import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateAgainstSpec } from './helpers/openai-spec.js'
import { chatBody, GATEWAY_KEY, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack((config) => {
    config.server = { max_body: '4KB' }
  })
})
afterAll(() => stack.close())

/** Asserts the status and the OpenAI error envelope, and returns the error. */
async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/json')
  expect(res.headers.get('x-request-id')).toBeTruthy()
  expect(res.headers.get('server-timing')).toContain('gateway;dur=')
  const body = await res.json()
  expect(validateAgainstSpec('ErrorResponse', body)).toEqual([])
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type'])
  expect(body.error.code).toBe(code)
  expect(body.error.message).not.toMatch(/\n\s+at /) // never a stack trace
  return body.error as { message: string; type: string; param: string | null; code: string }
}

describe('client errors', () => {
  it('malformed JSON → 400', async () => {
    const error = await expectError(
      await stack.post('/v1/chat/completions', '{"model":'),
      400,
      'MERIDIAN_INVALID_JSON',
    )
    expect(error.type).toBe('invalid_request_error')
  })

  it('empty body → 400', async () => {
    await expectError(await stack.post('/v1/chat/completions', ''), 400, 'MERIDIAN_INVALID_JSON')
  })

  it('schema violation → 400 naming the field', async () => {
    const error = await expectError(
      await stack.post('/v1/chat/completions', chatBody({ temperature: 5 })),
      400,
      'MERIDIAN_INVALID_REQUEST',
    )
    expect(error.param).toBe('temperature')
    expect(error.message).toMatch(/^temperature: /)
  })

  it('a bad message names its index', async () => {
    const error = await expectError(
      await stack.post(
        '/v1/chat/completions',
        chatBody({ messages: [{ role: 'user', content: 'x' }, { role: 'wizard' }] }),
      ),
      400,
      'MERIDIAN_INVALID_REQUEST',
    )
    expect(error.param).toBe('messages[1].role')
  })

  it('missing messages → 400', async () => {
    const error = await expectError(
      await stack.post('/v1/chat/completions', { model: 'gpt-4o-mini' }),
      400,
      'MERIDIAN_INVALID_REQUEST',
    )
    expect(error.param).toBe('messages')
  })

  it('a body that is not an object → 400', async () => {
    await expectError(await stack.post('/v1/chat/completions', '[1,2]'), 400, 'MERIDIAN_INVALID_REQUEST')
  })

  it('unknown model → 404', async () => {
    const error = await expectError(
      await stack.post('/v1/chat/completions', chatBody({ model: 'gpt-9' })),
      404,
      'MERIDIAN_MODEL_NOT_FOUND',
    )
    expect(error.param).toBe('model')
    expect(error.message).toContain('gpt-9')
  })

  it('body over the limit → 413 (Content-Length)', async () => {
    const big = chatBody({ messages: [{ role: 'user', content: 'x'.repeat(5000) }] })
    await expectError(await stack.post('/v1/chat/completions', big), 413, 'MERIDIAN_BODY_TOO_LARGE')
  })

  it('body over the limit → 413 (chunked, no Content-Length)', async () => {
    const payload = new TextEncoder().encode(
      JSON.stringify(chatBody({ messages: [{ role: 'user', content: 'y'.repeat(5000) }] })),
    )
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(payload.slice(0, 2000))
        controller.enqueue(payload.slice(2000))
        controller.close()
      },
    })
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    await expectError(res, 413, 'MERIDIAN_BODY_TOO_LARGE')
  })

  it('wrong content type → 415', async () => {
    await expectError(
      await stack.post('/v1/chat/completions', 'model=x', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'MERIDIAN_UNSUPPORTED_MEDIA_TYPE',
    )
  })

  it('missing gateway key → 401', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody()),
    })
    const error = await expectError(res, 401, 'MERIDIAN_UNAUTHORIZED')
    expect(error.type).toBe('authentication_error')
  })

  it('unknown gateway key → 401, without echoing it', async () => {
    const res = await stack.post('/v1/chat/completions', chatBody(), {
      authorization: 'Bearer mk-wrong-key-999',
    })
    const error = await expectError(res, 401, 'MERIDIAN_UNAUTHORIZED')
    expect(error.message).not.toContain('mk-wrong-key-999')
  })

  it('GET /v1/models needs a key too', async () => {
    await expectError(await fetch(`${stack.url}/v1/models`), 401, 'MERIDIAN_UNAUTHORIZED')
  })

  it('unknown route → 404, wrong method → 405', async () => {
    await expectError(await fetch(`${stack.url}/v2/nothing`), 404, 'MERIDIAN_NOT_FOUND')
    await expectError(await fetch(`${stack.url}/v1/chat/completions`), 405, 'MERIDIAN_METHOD_NOT_ALLOWED')
  })
})

describe('upstream errors', () => {
  it('upstream 429 → 429 keeping Retry-After', async () => {
    stack.sim.setBehaviour({ status: 429 })
    try {
      const res = await stack.post('/v1/chat/completions', chatBody())
      const error = await expectError(res, 429, 'MERIDIAN_UPSTREAM_RATE_LIMITED')
      expect(error.type).toBe('rate_limit_exceeded')
      expect(res.headers.get('retry-after')).toBe('1')
    } finally {
      stack.sim.reset()
    }
  })

  it('upstream 5xx → 502 naming the upstream status', async () => {
    stack.sim.setBehaviour({ status: 503 })
    try {
      const error = await expectError(
        await stack.post('/v1/chat/completions', chatBody()),
        502,
        'MERIDIAN_UPSTREAM_ERROR',
      )
      expect(error.message).toContain('503')
    } finally {
      stack.sim.reset()
    }
  })

  it('upstream 5xx on a stream → 502 before any byte', async () => {
    stack.sim.setBehaviour({ status: 500 })
    try {
      const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
      const error = await expectError(res, 502, 'MERIDIAN_UPSTREAM_ERROR')
      expect(error.message).toContain('500')
    } finally {
      stack.sim.reset()
    }
  })

  it('upstream 401 quoting the provider key → 502, key scrubbed from response and logs', async () => {
    stack.sim.setBehaviour({ status: 401 })
    try {
      const res = await stack.post('/v1/chat/completions', chatBody(), { 'x-request-id': 'upstream-401' })
      const raw = await res.clone().text()
      const error = await expectError(res, 502, 'MERIDIAN_UPSTREAM_AUTH')
      expect(error.message).toContain('[REDACTED]')
      expect(raw).not.toContain(SIM_KEY)
      expect((await stack.logged('upstream-401')).message).toContain('[REDACTED]')
      expect(stack.logger.lines.join('\n')).not.toContain(SIM_KEY)
    } finally {
      stack.sim.reset()
    }
  })

  it('a connection reset → 502', async () => {
    stack.sim.setBehaviour({ reset_rate: 1 })
    try {
      await expectError(
        await stack.post('/v1/chat/completions', chatBody()),
        502,
        'MERIDIAN_UPSTREAM_UNREACHABLE',
      )
    } finally {
      stack.sim.reset()
    }
  })
})

describe('upstream timeouts and outages', () => {
  it('upstream timeout → 504', async () => {
    const slow = await startStack((config) => {
      config.providers![0]!.timeout_ms = 150
    })
    slow.sim.setBehaviour({ latency_ms: 2000 })
    try {
      const error = await expectError(
        await slow.post('/v1/chat/completions', chatBody()),
        504,
        'MERIDIAN_UPSTREAM_TIMEOUT',
      )
      expect(error.message).toContain('150 ms')
    } finally {
      await slow.close()
    }
  })

  it('an unreachable upstream → 502', async () => {
    const dead = await startStack((config) => {
      config.providers!.push({ id: 'dead', type: 'openai', base_url: 'http://127.0.0.1:1/v1' })
      config.models = [{ name: 'gpt-4o-mini', targets: [{ provider: 'dead', model: 'x' }] }]
    })
    try {
      const error = await expectError(
        await dead.post('/v1/chat/completions', chatBody()),
        502,
        'MERIDIAN_UPSTREAM_UNREACHABLE',
      )
      expect(error.message).toContain('ECONNREFUSED')
    } finally {
      await dead.close()
    }
  })

  it('a failing target hands over to the next one', async () => {
    const pair = await startStack((config, simUrl) => {
      config.providers!.push({ id: 'dead', type: 'openai', base_url: 'http://127.0.0.1:1/v1' })
      config.models = [
        {
          name: 'gpt-4o-mini',
          targets: [
            { provider: 'dead', model: 'x' },
            { provider: 'sim', model: 'sim-small' },
          ],
        },
      ]
      void simUrl
    })
    try {
      const res = await pair.post('/v1/chat/completions', chatBody())
      expect(res.status).toBe(200)
      expect(pair.sim.stats().chat).toBe(1)
    } finally {
      await pair.close()
    }
  })
})
