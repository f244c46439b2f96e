import { randomUUID } from 'node:crypto'
import { Pool } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../src/config/schema.js'
import { needService } from './helpers/services.js'
import { chatBody, GATEWAY_KEY, type Stack, startStack } from './helpers/stack.js'
import { tcpProxy } from './helpers/tcp-proxy.js'

const redis = await needService('redis')
const ADMIN = 'admin-token-0123456789abcdef'

const stacks: Stack[] = []
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close()
})

/** A gateway whose test key has `limits`; a fresh key name per test keeps Redis windows apart between runs. */
async function start(
  limits: NonNullable<ConfigInput['keys']>[number]['limits'],
  more: Partial<ConfigInput> = {},
) {
  const name = `limits-${randomUUID().slice(0, 8)}`
  const stack = await startStack((config) => {
    config.keys = [{ key: GATEWAY_KEY, project: 'test', name, limits }]
    config.admin = { token: ADMIN }
    Object.assign(config, more)
  })
  stacks.push(stack)
  return stack
}

const header = (res: Response, name: string) => res.headers.get(name)

describe('rate limits', () => {
  it.skipIf(!redis.available)(
    'admit exactly 100 of 1,000 concurrent requests across two instances sharing Redis',
    async () => {
      const name = `burst-${randomUUID().slice(0, 8)}`
      const make = () =>
        startStack((config) => {
          config.keys = [{ key: GATEWAY_KEY, project: 'test', name, limits: { rpm: 100 } }]
          // The default timeout: a burst like this must stay exact as configured out of the box.
          config.limits = { store: redis.url }
        })
      const a = await make()
      stacks.push(a)
      const b = await make()
      stacks.push(b)
      const started = Date.now()
      const responses = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          (i % 2 === 0 ? a : b).post('/v1/chat/completions', chatBody()),
        ),
      )
      const elapsed = (Date.now() - started) / 1000
      const admitted = responses.filter((r) => r.status === 200)
      const denied = responses.filter((r) => r.status === 429)
      expect(admitted).toHaveLength(100)
      expect(denied).toHaveLength(900)
      expect(a.sim.stats().chat + b.sim.stats().chat).toBe(100)
      for (const res of denied) {
        // Every admitted request entered the window during this burst, so the first slot frees a minute
        // after the burst began: Retry-After is a minute minus the time the burst has taken, rounded up.
        const retry = Number(header(res, 'retry-after'))
        expect(retry).toBeGreaterThanOrEqual(Math.floor(60 - elapsed - 1))
        expect(retry).toBeLessThanOrEqual(60)
        expect(header(res, 'x-ratelimit-remaining-requests')).toBe('0')
        expect(header(res, 'x-ratelimit-limit-requests')).toBe('100')
        const body = await res.json()
        expect(body.error.type).toBe('rate_limit_exceeded')
        expect(body.error.code).toBe('MERIDIAN_RATE_LIMITED')
        expect(body.error.message).toContain(`key:${name}`)
      }
      const remaining = admitted
        .map((r) => Number(header(r, 'x-ratelimit-remaining-requests')))
        .sort((x, y) => x - y)
      expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => i))
    },
  )

  it('sends the x-ratelimit headers on every response, counting down', async () => {
    const { post } = await start({ rpm: 3, tpm: 100_000 })
    const first = await post('/v1/chat/completions', chatBody())
    expect(header(first, 'x-ratelimit-limit-requests')).toBe('3')
    expect(header(first, 'x-ratelimit-remaining-requests')).toBe('2')
    expect(header(first, 'x-ratelimit-reset-requests')).toMatch(/^(\d+ms|\d+(\.\d+)?s|1m0s)$/)
    expect(header(first, 'x-ratelimit-limit-tokens')).toBe('100000')
    expect(Number(header(first, 'x-ratelimit-remaining-tokens'))).toBeLessThan(100_000)
    expect(header(await post('/v1/chat/completions', chatBody()), 'x-ratelimit-remaining-requests')).toBe('1')
    expect(header(await post('/v1/chat/completions', chatBody()), 'x-ratelimit-remaining-requests')).toBe('0')
    const denied = await post('/v1/chat/completions', chatBody())
    expect(denied.status).toBe(429)
    expect(Number(header(denied, 'retry-after'))).toBeGreaterThanOrEqual(59)
  })

  it('tpm: a reservation that fits exactly is admitted, one token more is not (and settling frees room)', async () => {
    const tpm = 2000
    const { post } = await start({ tpm })
    // The first request tells us the prompt estimate: remaining = tpm - (prompt + max_tokens).
    const first = await post('/v1/chat/completions', chatBody({ max_tokens: 100 }))
    expect(first.status).toBe(200)
    const prompt = tpm - Number(header(first, 'x-ratelimit-remaining-tokens')) - 100
    expect(prompt).toBeGreaterThan(0)
    // Once it has ended, its reservation is replaced by what the answer used.
    const used = (await first.json()).usage.total_tokens as number
    const room = tpm - used
    const tooBig = await post('/v1/chat/completions', chatBody({ max_tokens: room - prompt + 1 }))
    expect(tooBig.status).toBe(429)
    expect((await tooBig.json()).error.code).toBe('MERIDIAN_RATE_LIMITED')
    const exact = await post('/v1/chat/completions', chatBody({ max_tokens: room - prompt }))
    expect(exact.status).toBe(200)
    expect(header(exact, 'x-ratelimit-remaining-tokens')).toBe('0')
  })

  it('tpm: a request through /v1/messages is settled to the tokens its answer used', async () => {
    const tpm = 5000
    const { url } = await start({ tpm })
    const ask = () =>
      fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          max_tokens: 1000,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      })
    const first = await ask()
    expect(first.status).toBe(200)
    const reserved = tpm - Number(header(first, 'x-ratelimit-remaining-tokens'))
    const { usage } = await first.json()
    const used = usage.input_tokens + usage.output_tokens
    expect(used).toBeLessThan(reserved)
    // The second check sees the first request's actual use, not its reservation.
    const second = await ask()
    expect(Number(header(second, 'x-ratelimit-remaining-tokens'))).toBe(tpm - used - reserved)
  })

  it('tpm: a request larger than the limit itself is refused without a Retry-After', async () => {
    const { post } = await start({ tpm: 500 })
    const res = await post('/v1/chat/completions', chatBody({ max_tokens: 600 }))
    expect(res.status).toBe(429)
    expect(header(res, 'retry-after')).toBeNull()
    expect((await res.json()).error.message).toMatch(/can never be admitted/)
  })

  it('concurrent: exactly N in flight, and a finished request frees its slot', async () => {
    const { sim, post } = await start({ concurrent: 2 })
    sim.setBehaviour({ latency_ms: 300 })
    const inFlight = [post('/v1/chat/completions', chatBody()), post('/v1/chat/completions', chatBody())]
    await new Promise((resolve) => setTimeout(resolve, 100))
    const third = await post('/v1/chat/completions', chatBody())
    expect(third.status).toBe(429)
    expect(header(third, 'retry-after')).toBe('1')
    expect((await third.json()).error.message).toMatch(/concurrent/)
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200])
    sim.setBehaviour({ latency_ms: 0 })
    const after = await Promise.all([
      post('/v1/chat/completions', chatBody()),
      post('/v1/chat/completions', chatBody()),
    ])
    expect(after.map((r) => r.status)).toEqual([200, 200])
  })

  it('concurrent: a stream holds its slot until it ends', async () => {
    const { sim, post } = await start({ concurrent: 1 })
    sim.setBehaviour({ chunks: 10, chunk_gap_ms: 30 })
    const stream = await post('/v1/chat/completions', chatBody({ stream: true }))
    expect(stream.status).toBe(200)
    expect((await post('/v1/chat/completions', chatBody())).status).toBe(429)
    await stream.text()
    expect((await post('/v1/chat/completions', chatBody())).status).toBe(200)
  })

  it('limits per model within a key, and per project across its keys', async () => {
    const stack = await startStack((config) => {
      config.models!.push({ name: 'gpt-4o', targets: [{ provider: 'sim', model: 'sim-large' }] })
      config.keys = [
        {
          key: GATEWAY_KEY,
          project: 'shared',
          name: `a-${randomUUID()}`,
          limits: { models: { 'gpt-4o': { rpm: 1 } } },
        },
        { key: 'mk-second-key-0123456789', project: 'shared', name: `b-${randomUUID()}` },
      ]
      config.limits = { projects: { shared: { rpm: 3 } } }
    })
    stacks.push(stack)
    const second = { authorization: 'Bearer mk-second-key-0123456789' }
    expect((await stack.post('/v1/chat/completions', chatBody({ model: 'gpt-4o' }))).status).toBe(200)
    const perModel = await stack.post('/v1/chat/completions', chatBody({ model: 'gpt-4o' }))
    expect(perModel.status).toBe(429)
    expect((await perModel.json()).error.message).toContain('|model:gpt-4o')
    // The denied request consumed nothing in the project's window: two more fit, from either key.
    expect((await stack.post('/v1/chat/completions', chatBody())).status).toBe(200)
    expect((await stack.post('/v1/chat/completions', chatBody(), second)).status).toBe(200)
    const project = await stack.post('/v1/chat/completions', chatBody(), second)
    expect(project.status).toBe(429)
    expect((await project.json()).error.message).toContain('project:shared')
  })

  // Rules that need nothing of the body (no tpm, no rule for one model) are checked before it is read, so a
  // request its body then refuses counts too; the others are checked once the body names the model.
  const stores = [
    { store: 'memory', limits: {} },
    ...(redis.available ? [{ store: 'redis', limits: { store: redis.url } }] : []),
  ]
  describe.each(stores)('checked before the body is read ($store store)', ({ limits }) => {
    it('rpm: a request refused for its body counts, and over the limit the 429 comes first', async () => {
      const { post } = await start({ rpm: 2 }, { limits })
      const malformed = await post('/v1/chat/completions', '{"model":')
      expect(malformed.status).toBe(400)
      expect(header(malformed, 'x-ratelimit-remaining-requests')).toBe('1')
      expect((await post('/v1/chat/completions', chatBody({ model: 'no-such-model' }))).status).toBe(404)
      const over = await post('/v1/chat/completions', '{"model":')
      expect(over.status).toBe(429)
      expect(header(over, 'retry-after')).not.toBeNull()
      expect((await post('/v1/chat/completions', chatBody())).status).toBe(429)
    })

    it('the Messages API too: a refused body counts, and over the limit the 429 comes first', async () => {
      const { url } = await start({ rpm: 2 }, { limits })
      const messages = (body: string) =>
        fetch(`${url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json' },
          body,
        })
      const malformed = await messages('{"model":')
      expect(malformed.status).toBe(400)
      expect((await malformed.json()).type).toBe('error')
      expect(header(malformed, 'x-ratelimit-remaining-requests')).toBe('1')
      const ok = JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      expect((await messages(ok)).status).toBe(200)
      const over = await messages('{"model":')
      expect(over.status).toBe(429)
      expect((await over.json()).error.type).toBe('rate_limit_error')
      expect(header(over, 'retry-after')).not.toBeNull()
    })

    it('concurrent: a request refused for its body gives its slot back', async () => {
      const { post } = await start({ concurrent: 1 }, { limits })
      for (let i = 0; i < 3; i++) {
        expect((await post('/v1/chat/completions', '{"model":')).status).toBe(400)
        expect((await post('/v1/embeddings', { model: 'text-embedding-3-small' })).status).toBe(400)
        expect((await post('/v1/messages', { model: 'gpt-4o-mini' })).status).toBe(400)
      }
      expect((await post('/v1/chat/completions', chatBody())).status).toBe(200)
    })

    it('concurrent: 1 never refuses a client that sends each request after reading the last answer', async () => {
      // One keep-alive connection, each request sent the moment the last answer is read: the slot must be back
      // (settled after the answer is written) before the next request's check reaches the store.
      const stack = await start({ concurrent: 1 }, { limits })
      const client = new Pool(stack.url, { connections: 1, pipelining: 1 })
      try {
        const statuses: number[] = []
        const body = JSON.stringify(chatBody())
        for (let i = 0; i < 300; i++) {
          const res = await client.request({
            path: '/v1/chat/completions',
            method: 'POST',
            headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
            body,
          })
          await res.body.dump()
          statuses.push(res.statusCode)
        }
        expect(statuses.filter((s) => s !== 200)).toEqual([])
      } finally {
        await client.close()
      }
    })

    it('tpm or a rule for one model: checked once the body is read, so a refused body counts nothing', async () => {
      const { post } = await start({ rpm: 1, tpm: 1_000_000 }, { limits })
      expect((await post('/v1/chat/completions', '{"model":')).status).toBe(400)
      expect((await post('/v1/chat/completions', chatBody())).status).toBe(200)
      expect((await post('/v1/chat/completions', chatBody())).status).toBe(429)
      const perModel = await start({ rpm: 1, models: { 'gpt-4o-mini': { rpm: 5 } } }, { limits })
      expect((await perModel.post('/v1/chat/completions', '{"model":')).status).toBe(400)
      expect((await perModel.post('/v1/chat/completions', chatBody())).status).toBe(200)
      expect((await perModel.post('/v1/chat/completions', chatBody())).status).toBe(429)
    })
  })

  it('leaves requests of unlimited keys alone (no headers, no checks)', async () => {
    const { post } = await start(undefined)
    const res = await post('/v1/chat/completions', chatBody())
    expect(res.status).toBe(200)
    expect(header(res, 'x-ratelimit-limit-requests')).toBeNull()
  })
})

describe.skipIf(!redis.available)('when the Redis store fails', () => {
  for (const policy of ['open', 'closed'] as const) {
    it(`fails ${policy}, counts it, logs it, and recovers by itself`, async () => {
      const proxy = await tcpProxy(new URL(redis.url))
      try {
        const stack = await start(
          { rpm: 1000 },
          // No slots taken ahead: every request asks the store.
          { limits: { store: proxy.url, on_store_error: policy, timeout_ms: 100, prefetch: 0 } },
        )
        expect((await stack.post('/v1/chat/completions', chatBody())).status).toBe(200)
        await proxy.close()
        const during = await stack.post('/v1/chat/completions', chatBody())
        if (policy === 'open') {
          expect(during.status).toBe(200)
          expect(header(during, 'x-ratelimit-limit-requests')).toBeNull()
        } else {
          expect(during.status).toBe(503)
          expect(header(during, 'retry-after')).toBe('1')
          expect((await during.json()).error.code).toBe('MERIDIAN_LIMITS_UNAVAILABLE')
        }
        expect((await fetch(`${stack.url}/ready`)).status).toBe(503)
        const stats = await (
          await fetch(`${stack.url}/admin/limits/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })
        ).json()
        expect(stats.store_errors).toBeGreaterThanOrEqual(1)
        expect(stats[policy === 'open' ? 'failed_open' : 'failed_closed']).toBe(1)
        expect(stack.logger.lines.some((l) => l.includes('rate-limit store failed'))).toBe(true)

        await proxy.reopen()
        const deadline = Date.now() + 5000
        let res: Response | undefined
        while (Date.now() < deadline) {
          res = await stack.post('/v1/chat/completions', chatBody())
          if (res.status === 200 && header(res, 'x-ratelimit-limit-requests') === '1000') break
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        expect(header(res!, 'x-ratelimit-limit-requests')).toBe('1000')
      } finally {
        await proxy.close()
      }
    })
  }
})
