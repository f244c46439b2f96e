import { afterEach, describe, expect, it } from 'vitest'
import { validateAgainstSpec } from './helpers/openai-spec.js'
import { chatBody, GATEWAY_KEY, type Stack, sseFrames, startStack } from './helpers/stack.js'

const ADMIN = 'admin-token-0123456789abcdef'
const OTHER_KEY = 'mk-other-project-key-0123'
const deterministic = (extra: Record<string, unknown> = {}) => chatBody({ temperature: 0, ...extra })

let stack: Stack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

async function start(configure: Parameters<typeof startStack>[0] = () => {}) {
  stack = await startStack((config, simUrl) => {
    config.admin = { token: ADMIN }
    config.keys!.push({ key: OTHER_KEY, project: 'other', name: 'other-key' })
    configure(config, simUrl)
  })
  return stack
}

/** The assistant text of a JSON completion or of an SSE stream, whichever the response is. */
async function answerText(res: Response): Promise<string> {
  const text = await res.text()
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    return JSON.parse(text).choices[0].message.content
  }
  let out = ''
  for (const frame of sseFrames(text)) {
    if (frame === '[DONE]') continue
    const chunk = JSON.parse(frame)
    if (chunk.error) throw new Error(`stream error: ${frame}`)
    out += chunk.choices[0]?.delta?.content ?? ''
  }
  return out
}

describe('the exact cache', () => {
  it('answers the first of three identical temperature-0 requests upstream and the next two from the cache', async () => {
    const { sim, post } = await start()
    const statuses: string[] = []
    const bodies: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await post('/v1/chat/completions', deterministic())
      expect(res.status).toBe(200)
      statuses.push(`${res.headers.get('x-meridian-cache')}/${res.headers.get('x-meridian-cache-layer')}`)
      bodies.push(await res.text())
    }
    expect(statuses).toEqual(['miss/null', 'hit/edge', 'hit/edge'])
    expect(sim.stats().chat).toBe(1)
    expect(bodies[1]).toBe(bodies[0])
    expect(validateAgainstSpec('CreateChatCompletionResponse', JSON.parse(bodies[2]!))).toEqual([])
  })

  it('says how old a hit is, and shows the key only when asked to debug', async () => {
    const { post } = await start()
    const first = await post('/v1/chat/completions', deterministic())
    expect(first.headers.get('age')).toBeNull()
    expect(first.headers.get('x-meridian-cache-key')).toBeNull()
    const hit = await post('/v1/chat/completions', deterministic(), { 'x-meridian-debug': '1' })
    expect(hit.headers.get('age')).toBe('0')
    expect(hit.headers.get('x-meridian-cache-key')).toMatch(/^v1:[0-9a-f]{64}$/)
  })

  it('bypasses requests that are not deterministic under the default policy', async () => {
    const { sim, post } = await start()
    for (let i = 0; i < 2; i++) {
      const res = await post('/v1/chat/completions', chatBody())
      expect(res.headers.get('x-meridian-cache')).toBe('bypass')
    }
    expect(sim.stats().chat).toBe(2)
    // A seed is as good as temperature 0.
    await post('/v1/chat/completions', chatBody({ seed: 7 }))
    const seeded = await post('/v1/chat/completions', chatBody({ seed: 7 }))
    expect(seeded.headers.get('x-meridian-cache')).toBe('hit')
  })

  it('keys on what changes the answer and ignores what does not', async () => {
    const { sim, post } = await start()
    await post('/v1/chat/completions', deterministic({ user: 'alice', max_tokens: 50 }))
    const same = await post('/v1/chat/completions', { max_tokens: 50, user: 'bob', ...deterministic() })
    expect(same.headers.get('x-meridian-cache')).toBe('hit')
    const other = await post('/v1/chat/completions', deterministic({ max_tokens: 51 }))
    expect(other.headers.get('x-meridian-cache')).toBe('miss')
    expect(sim.stats().chat).toBe(2)
  })

  it('honours Cache-Control no-cache (does not read) and no-store (does not write)', async () => {
    const { sim, post } = await start()
    const noStore = await post('/v1/chat/completions', deterministic(), { 'cache-control': 'no-store' })
    expect(noStore.headers.get('x-meridian-cache')).toBe('miss')
    const afterNoStore = await post('/v1/chat/completions', deterministic())
    expect(afterNoStore.headers.get('x-meridian-cache')).toBe('miss')
    const noCache = await post('/v1/chat/completions', deterministic(), { 'cache-control': 'no-cache' })
    expect(noCache.headers.get('x-meridian-cache')).toBe('bypass')
    expect(sim.stats().chat).toBe(3)
    const hit = await post('/v1/chat/completions', deterministic())
    expect(hit.headers.get('x-meridian-cache')).toBe('hit')
    const both = await post('/v1/chat/completions', deterministic(), {
      'cache-control': 'no-cache, no-store',
    })
    expect(both.headers.get('x-meridian-cache')).toBe('bypass')
    expect(sim.stats().chat).toBe(4)
  })

  it('honours x-meridian-cache-ttl, and rejects a malformed one with a 400 envelope', async () => {
    const { post } = await start()
    const bad = await post('/v1/chat/completions', deterministic(), { 'x-meridian-cache-ttl': '1h' })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.code).toBe('MERIDIAN_INVALID_REQUEST')
    await post('/v1/chat/completions', deterministic(), { 'x-meridian-cache-ttl': '1' })
    expect((await post('/v1/chat/completions', deterministic())).headers.get('x-meridian-cache')).toBe('hit')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await post('/v1/chat/completions', deterministic())).headers.get('x-meridian-cache')).toBe('miss')
  })

  it('applies per-model and per-project rules: off wins, always caches anything', async () => {
    const { sim, post } = await start((config) => {
      config.models!.push({
        name: 'uncached',
        targets: [{ provider: 'sim', model: 'sim-small' }],
        cache: { mode: 'off' },
      })
      config.cache = { source: 'memory', projects: { other: { mode: 'always' } } }
    })
    await post('/v1/chat/completions', deterministic({ model: 'uncached' }))
    const off = await post('/v1/chat/completions', deterministic({ model: 'uncached' }))
    expect(off.headers.get('x-meridian-cache')).toBe('bypass')
    const asOther = { authorization: `Bearer ${OTHER_KEY}` }
    await post('/v1/chat/completions', chatBody(), asOther)
    const always = await post('/v1/chat/completions', chatBody(), asOther)
    expect(always.headers.get('x-meridian-cache')).toBe('hit')
    expect(sim.stats().chat).toBe(3)
  })

  it('replays a streamed answer as JSON and a JSON answer as a stream', async () => {
    const { sim, post } = await start()
    const streamed = await post('/v1/chat/completions', deterministic({ stream: true }))
    const streamedText = await answerText(streamed)
    const asJson = await post('/v1/chat/completions', deterministic())
    expect(asJson.headers.get('x-meridian-cache')).toBe('hit')
    const json = await asJson.json()
    expect(validateAgainstSpec('CreateChatCompletionResponse', json)).toEqual([])
    expect(json.choices[0].message.content).toBe(streamedText)

    const other = deterministic({ messages: [{ role: 'user', content: 'Another question' }] })
    const plain = await post('/v1/chat/completions', other)
    const plainText = (await plain.json()).choices[0].message.content
    const replay = await post('/v1/chat/completions', {
      ...other,
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(replay.headers.get('x-meridian-cache')).toBe('hit')
    expect(replay.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const frames = sseFrames(await replay.clone().text())
    expect(frames.at(-1)).toBe('[DONE]')
    for (const frame of frames.slice(0, -1)) {
      expect(validateAgainstSpec('CreateChatCompletionStreamResponse', JSON.parse(frame))).toEqual([])
    }
    expect(JSON.parse(frames.at(-2)!).usage.total_tokens).toBeGreaterThan(0)
    expect(await answerText(replay)).toBe(plainText)
    expect(sim.stats().chat).toBe(2)
  })

  it('never stores a stream the client cut short', async () => {
    const { sim, gateway, post } = await start()
    sim.setBehaviour({ chunks: 30, chunk_gap_ms: 20 })
    const controller = new AbortController()
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(deterministic({ stream: true })),
      signal: controller.signal,
    })
    const reader = res.body!.getReader()
    await reader.read()
    controller.abort()
    await new Promise((resolve) => setTimeout(resolve, 100))
    sim.setBehaviour({ chunk_gap_ms: 0 })
    const again = await post('/v1/chat/completions', deterministic({ stream: true }))
    expect(again.headers.get('x-meridian-cache')).toBe('miss')
    await again.text()
    expect(sim.stats().chat).toBe(2)
  })

  it('never stores an error', async () => {
    const { sim, post } = await start()
    sim.setBehaviour({ status: 500 })
    expect((await post('/v1/chat/completions', deterministic())).status).toBe(502)
    sim.setBehaviour({ status: null })
    const res = await post('/v1/chat/completions', deterministic())
    expect(res.status).toBe(200)
    expect(res.headers.get('x-meridian-cache')).toBe('miss')
  })
})

describe('tenancy', () => {
  it('never serves one project an entry written for another (randomized)', async () => {
    const { sim, post } = await start()
    let seed = 20261122
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const keys = { test: GATEWAY_KEY, other: OTHER_KEY }
    const seen = new Set<string>()
    let upstream = 0
    for (let i = 0; i < 60; i++) {
      const project = random() < 0.5 ? 'test' : 'other'
      const prompt = `question ${Math.floor(random() * 6)}`
      const stream = random() < 0.3
      const res = await post(
        '/v1/chat/completions',
        deterministic({ messages: [{ role: 'user', content: prompt }], stream }),
        { authorization: `Bearer ${keys[project]}` },
      )
      await res.text()
      const expected = seen.has(`${project}|${prompt}`) ? 'hit' : 'miss'
      expect(res.headers.get('x-meridian-cache'), `request ${i}: ${project} asks "${prompt}"`).toBe(expected)
      if (expected === 'miss') upstream++
      seen.add(`${project}|${prompt}`)
    }
    expect(sim.stats().chat).toBe(upstream)
    // Both projects asked some of the same questions: the test exercised the case it is about.
    const prompts = [...seen].map((s) => s.split('|')[1])
    expect(new Set(prompts).size).toBeLessThan(seen.size)
  })
})

describe('request coalescing', () => {
  for (const leaderStreams of [false, true]) {
    it(`makes one upstream call for 40 identical concurrent requests, half streaming (leader ${leaderStreams ? 'streams' : 'does not'})`, async () => {
      const { sim, post } = await start()
      sim.setBehaviour({ latency_ms: 300 })
      const leader = post('/v1/chat/completions', deterministic({ stream: leaderStreams }))
      await new Promise((resolve) => setTimeout(resolve, 20))
      const followers = Array.from({ length: 39 }, (_, i) =>
        post('/v1/chat/completions', deterministic({ stream: i % 2 === (leaderStreams ? 1 : 0) })),
      )
      const responses = await Promise.all([leader, ...followers])
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200))
      const kinds = responses.map((r) => r.headers.get('content-type')?.startsWith('text/event-stream'))
      expect(kinds.filter(Boolean)).toHaveLength(20)
      const texts = await Promise.all(responses.map(answerText))
      expect(new Set(texts).size).toBe(1)
      expect(texts[0]!.length).toBeGreaterThan(0)
      expect(responses.filter((r) => r.headers.get('x-meridian-cache') === 'coalesced')).toHaveLength(39)
      expect(sim.stats().chat).toBe(1)
    })
  }

  it('gives a streaming follower that joins late every chunk from the first', async () => {
    const { sim, post } = await start()
    sim.setBehaviour({ chunks: 12, chunk_gap_ms: 25 })
    const leader = await post('/v1/chat/completions', deterministic({ stream: true }))
    const leaderText = answerText(leader)
    await new Promise((resolve) => setTimeout(resolve, 120))
    const late = await post('/v1/chat/completions', deterministic({ stream: true }))
    expect(late.headers.get('x-meridian-cache')).toBe('coalesced')
    expect(await answerText(late)).toBe(await leaderText)
    expect(sim.stats().chat).toBe(1)
  })

  it("gives every follower the leader's error when the upstream fails, with the leader's calls only", async () => {
    const { sim, post } = await start()
    sim.setBehaviour({ latency_ms: 200, status: 500 })
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post('/v1/chat/completions', deterministic({ stream: i % 2 === 1 })),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual([502, 502, 502, 502, 502, 502])
    for (const res of responses) expect((await res.json()).error.code).toBe('MERIDIAN_UPSTREAM_ERROR')
    // One flight: the leader's three attempts (router.retries.attempts), none of the followers' own.
    expect(sim.stats().chat).toBe(3)
  })

  it('keeps the upstream call going for the followers when the first client leaves, and stops it when all have', async () => {
    const { sim, gateway, post } = await start()
    sim.setBehaviour({ latency_ms: 300 })
    const send = (signal?: AbortSignal) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(deterministic()),
        signal,
      })
    const first = new AbortController()
    const leaving = send(first.signal).catch((err: Error) => err.name)
    await new Promise((resolve) => setTimeout(resolve, 30))
    const follower = send()
    await new Promise((resolve) => setTimeout(resolve, 30))
    first.abort()
    expect(await leaving).toBe('AbortError')
    const res = await follower
    expect(res.status).toBe(200)
    expect(await answerText(res)).not.toBe('')
    expect(sim.stats().chat).toBe(1)

    // Now everyone leaves: the upstream request is abandoned, and nothing is stored.
    const body = deterministic({ messages: [{ role: 'user', content: 'nobody waits for this' }] })
    const controllers = [new AbortController(), new AbortController()]
    const gone = controllers.map((c) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: c.signal,
      }).catch(() => undefined),
    )
    await new Promise((resolve) => setTimeout(resolve, 60))
    for (const c of controllers) c.abort()
    await Promise.all(gone)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sim.stats().aborted).toBe(1)
    expect((await post('/v1/chat/completions', body)).headers.get('x-meridian-cache')).toBe('miss')
  })
})

describe('admin', () => {
  const admin = (stack: Stack, method: string, path: string, token = ADMIN) =>
    fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })

  it('purges by key and by project, returning counts', async () => {
    const s = await start()
    const first = await s.post('/v1/chat/completions', deterministic(), { 'x-meridian-debug': '1' })
    const key = first.headers.get('x-meridian-cache-key')!
    for (const q of ['a', 'b']) {
      await s.post('/v1/chat/completions', deterministic({ messages: [{ role: 'user', content: q }] }))
    }
    await s.post('/v1/chat/completions', deterministic(), { authorization: `Bearer ${OTHER_KEY}` })

    const byKey = await admin(s, 'DELETE', `/admin/cache/keys/${encodeURIComponent(key)}`)
    expect(byKey.status).toBe(200)
    expect(await byKey.json()).toEqual({ key, deleted: { source: 1, replica: 1 } })
    expect((await s.post('/v1/chat/completions', deterministic())).headers.get('x-meridian-cache')).toBe(
      'miss',
    )

    const byProject = await admin(s, 'DELETE', '/admin/cache/projects/test')
    expect(await byProject.json()).toEqual({ project: 'test', deleted: { source: 3, replica: 3 } })
    const otherStill = await s.post('/v1/chat/completions', deterministic(), {
      authorization: `Bearer ${OTHER_KEY}`,
    })
    expect(otherStill.headers.get('x-meridian-cache')).toBe('hit')

    const stats = await (await admin(s, 'GET', '/admin/cache/stats')).json()
    expect(stats.hits.edge).toBe(1)
    expect(stats.misses).toBe(5)
  })

  it('answers 401 to a wrong token, 404 when no admin token is configured, 400 to a malformed key', async () => {
    const s = await start()
    const wrong = await admin(s, 'DELETE', '/admin/cache/projects/test', 'not-the-admin-token')
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).error.type).toBe('authentication_error')
    const malformed = await admin(s, 'DELETE', '/admin/cache/keys/%E0%A4%A')
    expect(malformed.status).toBe(400)
    await s.close()
    stack = await startStack()
    const hidden = await admin(stack, 'GET', '/admin/cache/stats')
    expect(hidden.status).toBe(404)
  })
})
