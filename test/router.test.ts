import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type SimServer, startSim } from '../src/adapters/node/sim-server.js'
import type { ConfigInput } from '../src/config/schema.js'
import { needService } from './helpers/services.js'
import { GATEWAY_KEY, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

// Two simulated providers: `primary` (the stack's own sim) and `backup` (a second sim), each serving a model of
// the same capability bucket, so a request for `main` can fail over to `spare`. Each scenario sets the sims'
// faults and reads their counters to see where requests went.

const ADMIN = 'admin-token-0123456789abcdef'
let backup: SimServer

beforeAll(async () => {
  backup = await startSim({ port: 0, apiKey: SIM_KEY })
})
afterAll(() => backup?.close())

function configure(suffix: string, extra: Partial<ConfigInput> = {}) {
  return (config: ConfigInput, simUrl: string) => {
    config.providers = [
      { id: `primary${suffix}`, type: 'openai', base_url: `${simUrl}/v1`, api_key: SIM_KEY },
      { id: `backup${suffix}`, type: 'openai', base_url: `${backup.url}/v1`, api_key: SIM_KEY },
    ]
    config.models = [
      { name: 'main', bucket: 'large', targets: [{ provider: `primary${suffix}`, model: 'main-large' }] },
      { name: 'spare', bucket: 'large', targets: [{ provider: `backup${suffix}`, model: 'spare-large' }] },
      { name: 'tiny', bucket: 'small', targets: [{ provider: `backup${suffix}`, model: 'tiny' }] },
      { name: 'single', targets: [{ provider: `primary${suffix}`, model: 'single' }] },
      {
        name: 'hedged',
        hedge: true,
        targets: [
          { provider: `primary${suffix}`, model: 'main-large' },
          { provider: `backup${suffix}`, model: 'spare-large' },
        ],
      },
    ]
    config.admin = { token: ADMIN }
    config.router = {
      retries: { attempts: 3, backoff: '1ms', backoff_max: '5ms' },
      health: { window: '10s', min_requests: 4, cooldown: '2s', probe_every: 2 },
    }
    Object.assign(config, extra)
  }
}

const ask = (stack: Stack, extra: Record<string, unknown> = {}) =>
  stack.post('/v1/chat/completions', {
    model: 'main',
    messages: [{ role: 'user', content: 'Name a colour.' }],
    ...extra,
  })

async function healthOf(stack: Stack, target: string) {
  const res = await fetch(`${stack.url}/admin/health`, { headers: { authorization: `Bearer ${ADMIN}` } })
  const body = (await res.json()) as { targets: { target: string; state: string }[] }
  return body.targets.find((t) => t.target === target)?.state
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

afterEach(() => backup.reset())

describe('a primary that answers 503 to everything', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(configure('-a'))
  })
  afterAll(() => stack?.close())

  it('fails over to its bucket, is skipped within 20 requests, then restored after it recovers', async () => {
    stack.sim.setBehaviour({ status: 503 })
    for (let i = 0; i < 20; i++) {
      const res = await ask(stack)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-meridian-failover')).toBe('main -> spare')
      expect(res.headers.get('x-meridian-model')).toBe('spare')
      await res.text()
    }
    const tried = stack.sim.stats().chat
    expect(tried).toBeLessThan(20)
    expect(await healthOf(stack, 'primary-a/main-large')).toBe('down')
    for (let i = 0; i < 5; i++) await (await ask(stack)).text()
    expect(stack.sim.stats().chat).toBe(tried) // skipped while down

    stack.sim.setBehaviour({ status: null })
    await sleep(2100) // the cooldown: now probing
    let restored = false
    for (let i = 0; i < 6 && !restored; i++) {
      const res = await ask(stack)
      await res.text()
      restored = res.headers.get('x-meridian-failover') === null
    }
    expect(restored).toBe(true)
    expect(await healthOf(stack, 'primary-a/main-large')).toBe('healthy')
    const metrics = await fetch(`${stack.url}/admin/metrics`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(metrics.headers.get('content-type')).toContain('text/plain')
    const text = await metrics.text()
    expect(text).toContain('meridian_target_state{target="primary-a/main-large",state="healthy"} 1')
    expect(text).toContain('meridian_target_state{target="primary-a/main-large",state="down"} 0')
    expect(text).toMatch(/meridian_target_window_requests\{target="backup-a\/spare-large"\} \d+/)
  })

  it('never fails over to a weaker bucket', async () => {
    // `tiny` is small: with main's bucket-mate gone too, the request fails rather than go down a bucket.
    stack.sim.setBehaviour({ status: 503 })
    backup.setBehaviour({ status: 503 })
    const res = await stack.post('/v1/chat/completions', {
      model: 'main',
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(res.status).toBe(502)
    expect(backup.stats().last_request?.body).not.toMatchObject({ model: 'tiny' })
    stack.sim.reset()
  })
})

describe('a primary that fails every other request', () => {
  it('is demoted by its error rate (a consecutive-failure counter would never trip)', async () => {
    // A long cooldown: the verdict must not expire (and be probed back) while the test reads it.
    const stack = await startStack(
      configure('-b', {
        router: {
          retries: { backoff: '1ms', backoff_max: '5ms' },
          health: { window: '10s', min_requests: 4, cooldown: '30s' },
        },
      }),
    )
    try {
      stack.sim.setBehaviour({ fail_every: 2 })
      for (let i = 0; i < 12; i++) expect((await ask(stack)).status).toBe(200)
      expect(await healthOf(stack, 'primary-b/main-large')).toBe('down')
      const before = stack.sim.stats().chat
      for (let i = 0; i < 4; i++) await (await ask(stack)).text()
      expect(stack.sim.stats().chat).toBe(before)
    } finally {
      await stack.close()
    }
  })
})

describe('hedged requests', () => {
  it('keep p99 under 300 ms when 5% of the primary requests stall for 2 s', async () => {
    const stack = await startStack(
      configure('-h', {
        router: { hedge: { after: 'p90', min: '50ms' } },
      }),
    )
    try {
      stack.sim.setBehaviour({ slow_every: 20, slow_ms: 2000 })
      // Hedging on: the model says so (auto-routing's sport mode would too).
      const times: number[] = []
      for (let i = 0; i < 100; i++) {
        const started = performance.now()
        const res = await stack.post(
          '/v1/chat/completions',
          { model: 'hedged', messages: [{ role: 'user', content: `Question ${i}` }] },
          { 'x-request-id': `hedge-${i}` },
        )
        expect(res.status).toBe(200)
        await res.text()
        times.push(performance.now() - started)
      }
      times.sort((a, b) => a - b)
      expect(times[98]).toBeLessThan(300)
      const hedges = stack.logger.lines.map((l) => JSON.parse(l)).filter((l) => l.hedge !== undefined)
      expect(hedges.length).toBeGreaterThanOrEqual(5)
      expect(hedges[0].hedge).toMatchObject({ primary: 'primary-h/main-large' })
      await sleep(50)
      expect(stack.sim.stats().aborted).toBeGreaterThanOrEqual(5) // the stalled losers were cancelled
    } finally {
      await stack.close()
    }
  })
})

describe('per-target timeouts', () => {
  it('ttfb: a target slower to start than its limit is abandoned for the next candidate', async () => {
    const stack = await startStack(
      configure('-t', {
        models: [
          {
            name: 'main',
            bucket: 'large',
            targets: [{ provider: 'primary-t', model: 'main-large', timeouts: { ttfb: '100ms' } }],
          },
          { name: 'spare', bucket: 'large', targets: [{ provider: 'backup-t', model: 'spare-large' }] },
        ],
      }),
    )
    try {
      stack.sim.setBehaviour({ latency_ms: 1500 })
      const res = await ask(stack, { stream: true })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-meridian-failover')).toBe('main -> spare')
      expect(await res.text()).toContain('data: [DONE]')
      await sleep(50)
      expect(stack.sim.stats().aborted).toBe(1) // the slow attempt was cancelled, not left running
    } finally {
      await stack.close()
    }
  })

  it('total: a stream that runs past its limit ends with a timeout error event', async () => {
    const stack = await startStack(
      configure('-u', {
        models: [
          {
            name: 'main',
            targets: [{ provider: 'primary-u', model: 'main-large', timeouts: { total: '400ms' } }],
          },
        ],
      }),
    )
    try {
      stack.sim.setBehaviour({ chunks: 30, chunk_gap_ms: 50 })
      const res = await ask(stack, { stream: true })
      const text = await res.text()
      expect(text).toContain('data: {"error":')
      expect(text).toContain('MERIDIAN_UPSTREAM_TIMEOUT')
      expect(text).not.toContain('data: [DONE]')
      await sleep(50)
      expect(stack.sim.stats().aborted).toBe(1) // the upstream was cancelled, not read to its end
    } finally {
      await stack.close()
    }
  })
})

describe('a client that disconnects', () => {
  it('aborts the upstream request, and both calls of a hedged one', async () => {
    const stack = await startStack(configure('-d', { router: { hedge: { after: '50ms' } } }))
    try {
      stack.sim.setBehaviour({ latency_ms: 2000 })
      backup.setBehaviour({ latency_ms: 2000 })
      const leave = async (model: string) => {
        const controller = new AbortController()
        const sent = fetch(`${stack.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
          signal: controller.signal,
        }).catch(() => undefined)
        await sleep(200)
        controller.abort()
        await sent
        await sleep(100)
      }
      await leave('main')
      expect(stack.sim.stats().aborted).toBe(1)
      await leave('hedged') // primary on this sim, its hedge on the backup after 50 ms
      expect(stack.sim.stats().aborted).toBe(2)
      expect(backup.stats().aborted).toBe(1)
    } finally {
      await stack.close()
    }
  })
})

describe('retries', () => {
  it('retry a 409 conflict and a 5xx on the same target when there is no other', async () => {
    const stack = await startStack(configure('-q'))
    try {
      for (const status of [409, 500]) {
        stack.sim.reset()
        stack.sim.setBehaviour({ fail_every: 1, fail_status: status })
        expect((await ask(stack, { model: 'single' })).status).toBe(status === 409 ? 409 : 502)
        expect(stack.sim.stats().chat).toBe(3) // router.retries.attempts
        stack.sim.reset()
        stack.sim.setBehaviour({ fail_every: 2, fail_status: status })
        await (await ask(stack, { model: 'single' })).text() // the sim's request 1: answered
        expect((await ask(stack, { model: 'single' })).status).toBe(200) // 2 fails, its retry 3 answers
      }
    } finally {
      await stack.close()
    }
  })

  it('honour Retry-After by waiting; one longer than retry_after_max takes the target out instead', async () => {
    const stack = await startStack(configure('-r'))
    try {
      stack.sim.setBehaviour({ fail_every: 2, fail_status: 429, retry_after_s: 1 })
      await (await ask(stack, { model: 'single' })).text() // request 1 of the sim: answered
      const started = performance.now()
      const res = await ask(stack, { model: 'single' }) // 2: a 429 with Retry-After: 1, then 3: answered
      expect(res.status).toBe(200)
      expect(performance.now() - started).toBeGreaterThanOrEqual(990)
      expect(stack.sim.stats().chat).toBe(3)

      stack.sim.reset()
      stack.sim.setBehaviour({ status: 429, retry_after_s: 30 })
      const refused = await ask(stack, { model: 'single' })
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('30')
      expect(stack.sim.stats().chat).toBe(1) // not retried: waiting 30 s is not the router's call
    } finally {
      await stack.close()
    }
  })
})

describe('streams', () => {
  let stack: Stack
  let client: OpenAI
  beforeAll(async () => {
    stack = await startStack(
      configure('-s', { router: { stream: { stall: '300ms' }, health: { min_requests: 50 } } }),
    )
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 })
  })
  afterAll(() => stack?.close())

  it('that die before the first chunk are served whole from the fallback', async () => {
    stack.sim.setBehaviour({ drop_after_chunks: 0 })
    const stream = await client.chat.completions.create({
      model: 'main',
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      stream: true,
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    expect(backup.stats().streams).toBe(1)
    stack.sim.reset()
  })

  it('that stall after the role chunk, before any content, are served whole from the fallback', async () => {
    stack.sim.setBehaviour({ stall_after_chunks: 0 })
    const started = backup.stats().streams
    const stream = await client.chat.completions.create({
      model: 'main',
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      stream: true,
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    expect(backup.stats().streams).toBe(started + 1)
    stack.sim.reset()
  })

  it('that die midway end with an error event', async () => {
    stack.sim.setBehaviour({ drop_after_chunks: 3, chunks: 20 })
    const stream = await client.chat.completions.create({
      model: 'main',
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      stream: true,
    })
    let chunks = 0
    await expect(async () => {
      for await (const _ of stream) chunks++
    }).rejects.toThrow()
    expect(chunks).toBeGreaterThan(0)
    stack.sim.reset()
  })

  it('that stall are cut after router.stream.stall and reported', async () => {
    stack.sim.setBehaviour({ stall_after_chunks: 2, chunks: 20 })
    const res = await stack.post(
      '/v1/chat/completions',
      { model: 'main', messages: [{ role: 'user', content: 'Tell me a story.' }], stream: true },
      { 'x-request-id': 'stalled-1' },
    )
    const text = await res.text()
    expect(text).toMatch(/data: \{"error":\{[^\n]*MERIDIAN_UPSTREAM_TIMEOUT/)
    const line = await stack.logged('stalled-1')
    expect(line).toMatchObject({ error: 'MERIDIAN_UPSTREAM_TIMEOUT' })
    stack.sim.reset()
  })
})

const redis = await needService('redis')

describe.skipIf(!redis.available)('two instances sharing the health gate through Redis', () => {
  it('the second skips a target the first found down, without failing on it first', async () => {
    const suffix = `-x${Date.now().toString(36)}`
    const shared = {
      router: { health: { store: redis.url, min_requests: 4, cooldown: '5s' } },
    }
    const a = await startStack(configure(suffix, shared as Partial<ConfigInput>))
    const b = await startStack((config, simUrl) => {
      configure(suffix, shared as Partial<ConfigInput>)(config, a.sim.url)
      void simUrl
    })
    try {
      a.sim.setBehaviour({ status: 503 })
      for (let i = 0; i < 8; i++) await (await ask(a)).text()
      expect(await healthOf(a, `primary${suffix}/main-large`)).toBe('down')
      const seen = a.sim.stats().chat
      await sleep(100) // the announcement crosses Redis
      const res = await ask(b)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-meridian-failover')).toBe('main -> spare')
      expect(a.sim.stats().chat).toBe(seen) // b never sent to it
    } finally {
      await b.close()
      await a.close()
    }
  })
})
