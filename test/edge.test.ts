import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, adminClient } from './helpers/admin.js'
import { EDGE_SECRET, type RunningEdge, startEdge } from './helpers/edge.js'
import { needService } from './helpers/services.js'
import { type Stack, sseFrames, startStack } from './helpers/stack.js'
import { tcpProxy } from './helpers/tcp-proxy.js'
import { eventually } from './helpers/timing.js'

const redis = await needService('redis')
const run = Math.random().toString(36).slice(2, 8)
const PROJECT = `edge-${run}`
const KEY = `mk-edge-test-key-${run}-0123456789`
const LIMITED_KEY = `mk-edge-limited-${run}-0123456789`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!redis.available)('the edge on workerd, in front of the Node origin with Redis', () => {
  let origin: Stack
  let a: Awaited<ReturnType<typeof tcpProxy>>
  let b: Awaited<ReturnType<typeof tcpProxy>>
  let edge: RunningEdge
  let n = 0

  const ask = (
    content: string,
    extra: Record<string, unknown> = {},
    key = KEY,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${edge.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-request-id': `edge-${run}-${++n}`,
        ...headers,
      },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        temperature: 0,
        messages: [{ role: 'user', content }],
        ...extra,
      }),
    })
  /**
   * Asks until the edge answers from KV (its write-back of an origin hit, or an origin's push, lands after the
   * response: waitUntil), at most 20 times; the last answer, for the caller to check.
   */
  const untilEdge = async (question: string, extra: Record<string, unknown> = {}) => {
    let res = await ask(question, extra)
    for (let i = 0; i < 20 && res.headers.get('x-meridian-cache-layer') !== 'edge'; i++) {
      await res.body?.cancel()
      await sleep(100)
      res = await ask(question, extra)
    }
    return res
  }
  /** Origin requests by path so far (its request log). */
  const originRequests = (prefix: string) =>
    origin.logger.lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'request' && l.path.startsWith(prefix)).length

  beforeAll(async () => {
    origin = await startStack((c) => {
      c.admin = { token: ADMIN_TOKEN }
      c.cache = { source: `${redis.url}/0` }
      c.edge = { secret: EDGE_SECRET }
      c.keys = [
        { key: KEY, project: PROJECT, name: `edge-${run}` },
        { key: LIMITED_KEY, project: PROJECT, name: `edge-limited-${run}`, limits: { rpm: 3 } },
      ]
    })
    const target = new URL(origin.url)
    a = await tcpProxy(target)
    b = await tcpProxy(target)
    edge = await startEdge([`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`])
  }, 90_000)

  afterAll(async () => {
    await edge?.stop()
    await a?.close()
    await b?.close()
    await origin?.close()
  })

  it("serves the seed's sequence: a miss, a hit from the origin while KV is cold, then a hit at the edge", async () => {
    const question = `What is the capital of France? (${run})`
    const first = await ask(question)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-meridian-cache')).toBe('miss')
    expect(first.headers.get('server-timing')).toMatch(/gateway;dur=.*edge;dur=/)
    const answer = await first.json()

    const second = await ask(question)
    expect([second.headers.get('x-meridian-cache'), second.headers.get('x-meridian-cache-layer')]).toEqual([
      'hit',
      'origin',
    ])
    expect(await second.json()).toEqual(answer)

    // The write-back to KV runs after the second answer (waitUntil): the third finds it there.
    const third = await untilEdge(question)
    expect([third.headers.get('x-meridian-cache'), third.headers.get('x-meridian-cache-layer')]).toEqual([
      'hit',
      'edge',
    ])
    expect(third.headers.get('x-meridian-cost')).toBe('0')
    expect(Number(third.headers.get('x-meridian-saved'))).toBeGreaterThan(0)
    expect(third.headers.get('server-timing')).toMatch(/^edge;dur=/)
    expect(await third.json()).toEqual(answer)
    expect(origin.sim.stats().chat).toBe(1)
  })

  it('refuses a bad key at the edge: one lookup the first time, no origin contact after, never an API request', async () => {
    const before = { api: originRequests('/v1/'), internal: originRequests('/internal/') }
    const bad = await ask('hello', {}, 'mk-not-a-real-key-0000000000')
    expect(bad.status).toBe(401)
    expect((await bad.json()).error).toMatchObject({
      code: 'MERIDIAN_UNAUTHORIZED',
      type: 'authentication_error',
    })
    expect(originRequests('/v1/')).toBe(before.api)
    const looked = originRequests('/internal/')
    expect(looked - before.internal).toBeLessThanOrEqual(1)
    for (let i = 0; i < 3; i++)
      expect((await ask('hello', {}, 'mk-not-a-real-key-0000000000')).status).toBe(401)
    expect(originRequests('/internal/')).toBe(looked)
    expect(originRequests('/v1/')).toBe(before.api)
  })

  it('passes what it cannot read on to the origin, whose 400 the client gets, in the OpenAI envelope', async () => {
    const res = await fetch(`${edge.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{"model": "gpt-4o-mini", "messages": [',
    })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({
      code: 'MERIDIAN_INVALID_JSON',
      type: 'invalid_request_error',
    })
  })

  it('passes a stream through chunk by chunk, and replays a stored answer as a stream at the edge', async () => {
    const question = `Stream me a short answer (${run})`
    const live = await ask(question, { stream: true })
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const frames = sseFrames(await live.text())
    expect(frames.at(-1)).toBe('[DONE]')
    expect(frames.length).toBeGreaterThan(3)
    const replay = await untilEdge(question, { stream: true })
    expect(replay.headers.get('x-meridian-cache-layer')).toBe('edge')
    const replayed = sseFrames(await replay.text())
    expect(replayed.at(-1)).toBe('[DONE]')
    const text = (payloads: string[]) =>
      payloads
        .filter((f) => f !== '[DONE]')
        .map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '')
        .join('')
    expect(text(replayed)).toBe(text(frames))
  })

  it('sends the origin one usage record per request it answered itself: N edge hits, N ledger rows', async () => {
    const question = `Count my hits (${run})`
    await (await ask(question)).text()
    await (await untilEdge(question)).text()
    const ids = Array.from({ length: 12 }, (_, i) => `edge-hit-${run}-${i}`)
    for (const id of ids) {
      const res = await ask(question, {}, KEY, { 'x-request-id': id, 'x-meridian-tags': 'feature=edge-test' })
      expect(res.headers.get('x-meridian-cache-layer')).toBe('edge')
      await res.text()
    }
    const admin = adminClient(origin.url)
    let rows: {
      request_id: string
      tier: string
      cache_layer: string
      project: string
      saved_nusd: number
    }[] = []
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(200)) {
      const all = (await admin.get(`/admin/ledger?project=${PROJECT}&limit=10000`)).body.data as typeof rows
      rows = all.filter((r) => ids.includes(r.request_id))
      if (rows.length >= ids.length) break
    }
    expect(rows.map((r) => r.request_id).sort()).toEqual([...ids].sort())
    for (const row of rows) expect(row).toMatchObject({ tier: 'edge', cache_layer: 'edge', project: PROJECT })
    expect(rows.every((r) => r.saved_nusd > 0)).toBe(true)
    const byTag = (await admin.get(`/admin/usage?by=tag&tag=feature&project=${PROJECT}`)).body
    expect(byTag.rows.find((r: { group: string }) => r.group === 'edge-test').requests).toBe(ids.length)
  })

  it('enforces a key rate limit in its Durable Object, with the OpenAI headers', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await ask(`limited ${run} ${i}`, { temperature: 1 }, LIMITED_KEY)
      statuses.push(res.status)
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).not.toBeNull()
        expect((await res.json()).error.code).toBe('MERIDIAN_RATE_LIMITED')
      } else {
        expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3')
        await res.text()
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
  })

  it('fails over to the next origin when the first is down', async () => {
    await a.close()
    try {
      const res = await ask(`failover ${run}`, { temperature: 1 })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-meridian-cache')).toBe('bypass')
      await res.text()
    } finally {
      await a.reopen()
    }
  })

  it("gets new answers pushed into its KV by the origin (and Cloudflare's KV API when configured)", async () => {
    const puts: { path: string; auth: string | undefined; body: string }[] = []
    const kvApi = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => {
        body += d
      })
      req.on('end', () => {
        puts.push({ path: `${req.method} ${req.url}`, auth: req.headers.authorization, body })
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"success":true}')
      })
    })
    await new Promise<void>((r) => kvApi.listen(0, '127.0.0.1', r))
    // The origin's pushes pass through here on their way to the edge, so the test knows when one has landed
    // (the push runs in the background, and a request racing it would read through instead).
    let pushed = 0
    const relay = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const body = Buffer.concat(chunks)
      const forwarded = await fetch(new URL(req.url!, edge.url), {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body,
      })
      const answer = await forwarded.text()
      // Cache entries only: the origin also pushes its config when it starts.
      if (forwarded.ok && JSON.parse(body.toString()).cache !== undefined) pushed++
      res.writeHead(forwarded.status, { 'content-type': 'application/json' })
      res.end(answer)
    })
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
    const replicating = await startStack((c) => {
      c.admin = { token: ADMIN_TOKEN }
      c.cache = { source: `${redis.url}/0` }
      c.edge = {
        secret: EDGE_SECRET,
        replicate: [`http://127.0.0.1:${(relay.address() as AddressInfo).port}`],
        kv_api: {
          account_id: 'acct',
          cache_namespace: 'ns-cache',
          token: 'cf-token-0123',
          base_url: `http://127.0.0.1:${(kvApi.address() as AddressInfo).port}/client/v4`,
        },
      }
      c.keys = [{ key: KEY, project: PROJECT, name: `edge-${run}` }]
    })
    a.retarget(new URL(replicating.url))
    b.retarget(new URL(replicating.url))
    try {
      const question = `Pushed to the edge (${run})`
      const pushes = pushed
      const first = await ask(question, {}, KEY, { connection: 'close' })
      expect(first.headers.get('x-meridian-cache')).toBe('miss')
      await first.text()
      const lookups = () =>
        replicating.logger.lines.filter((l) => l.includes('"path":"/internal/cache/')).length
      // The edge asked the origin's cache once, for the first request, before forwarding it.
      const asked = lookups()
      await eventually(() => expect(pushed).toBeGreaterThan(pushes), 5000)
      const second = await ask(question)
      expect(second.headers.get('x-meridian-cache-layer')).toBe('edge')
      // The entry came by push: the edge did not have to ask the origin for it again.
      expect(lookups()).toBe(asked)
      const put = puts.find((p) =>
        p.path.startsWith('PUT /client/v4/accounts/acct/storage/kv/namespaces/ns-cache/values/'),
      )
      expect(put).toBeDefined()
      expect(put!.path).toMatch(/\?expiration_ttl=\d+$/)
      expect(put!.auth).toBe('Bearer cf-token-0123')
      expect(JSON.parse(put!.body)).toMatchObject({ project: PROJECT, target: 'sim/sim-small' })
    } finally {
      a.retarget(new URL(origin.url))
      b.retarget(new URL(origin.url))
      await replicating.close()
      await new Promise((r) => kvApi.close(r))
      await new Promise((r) => relay.close(r))
    }
  })

  it('with every origin down, still serves cached answers at the edge and answers the rest with a clear 502', async () => {
    const question = `Cached before the outage (${run})`
    await (await ask(question)).text()
    await (await untilEdge(question)).text()
    await a.close()
    await b.close()
    try {
      const cached = await ask(question)
      expect(cached.status).toBe(200)
      expect(cached.headers.get('x-meridian-cache-layer')).toBe('edge')
      await cached.text()
      const fresh = await ask(`Never asked before (${run})`)
      expect(fresh.status).toBe(502)
      expect((await fresh.json()).error).toMatchObject({
        code: 'MERIDIAN_ORIGIN_UNREACHABLE',
        type: 'upstream_error',
      })
    } finally {
      await a.reopen()
      await b.reopen()
    }
  })
})
