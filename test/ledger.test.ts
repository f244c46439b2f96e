import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SimServer, startSim } from '../src/adapters/node/sim-server.js'
import { ADMIN_TOKEN, adminClient } from './helpers/admin.js'
import { databaseKinds, freshDatabase, type TestDatabase } from './helpers/databases.js'
import { chatBody, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

const kinds = await databaseKinds()

type Kind = 'miss' | 'stream' | 'cached' | 'fallback' | 'broken' | 'aborted' | 'denied' | 'embeddings'
const MIX: [Kind, number][] = [
  ['miss', 300],
  ['stream', 150],
  ['cached', 250],
  ['fallback', 100],
  ['broken', 60],
  ['aborted', 60],
  ['denied', 40],
  ['embeddings', 40],
]
const FEATURES = ['search', 'chat', 'onboarding', undefined]

/** A deterministic shuffle (so a failure reproduces). */
function shuffled<T>(items: T[], seed: number): T[] {
  let s = seed
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

describe.each(kinds)('the ledger on $name, after a mixed load of 1,000 requests', ({ name, available }) => {
  let db: TestDatabase
  let stack: Stack
  let failing: SimServer
  let slow: SimServer
  const sent = new Map<string, { kind: Kind; feature: string | undefined; status: number }>()

  beforeAll(async () => {
    if (!available) return
    db = await freshDatabase(name)
    failing = await startSim({ port: 0, apiKey: SIM_KEY, behaviour: { status: 503 } })
    slow = await startSim({ port: 0, apiKey: SIM_KEY, behaviour: { chunk_gap_ms: 40, chunks: 30 } })
    stack = await startStack((c, simUrl) => {
      c.log = { level: 'error', requests: false }
      c.admin = { token: ADMIN_TOKEN }
      c.storage = { database: db.url }
      // A replica of a few entries: repeated answers come from it when fresh, else from the source.
      c.cache = { source: 'memory', replica: { max_bytes: 2500 } }
      c.router = { retries: { attempts: 3, backoff: '1ms', backoff_max: '2ms' }, failover: false }
      c.providers!.push(
        { id: 'failing', type: 'openai', base_url: `${failing.url}/v1`, api_key: SIM_KEY },
        { id: 'slow', type: 'openai', base_url: `${slow.url}/v1`, api_key: SIM_KEY },
        { id: 'sim2', type: 'openai', base_url: `${simUrl}/v1`, api_key: SIM_KEY },
      )
      c.models!.push(
        {
          name: 'with-fallback',
          targets: [
            { provider: 'failing', model: 'x' },
            { provider: 'sim2', model: 'sim-small' },
          ],
        },
        { name: 'broken', targets: [{ provider: 'failing', model: 'x' }] },
        { name: 'slow', targets: [{ provider: 'slow', model: 'sim-small' }] },
        { name: 'denied', targets: [{ provider: 'sim', model: 'sim-small' }] },
      )
      c.projects = [{ id: 'test', models: { deny: ['denied'] } }]
    })

    const plan = shuffled(
      MIX.flatMap(([kind, count]) => Array.from({ length: count }, (_, i) => ({ kind, i }))),
      42,
    )
    const one = async ({ kind, i }: { kind: Kind; i: number }, n: number) => {
      const id = `load-${name}-${n}`
      const feature = FEATURES[n % FEATURES.length]
      const headers: Record<string, string> = { 'x-request-id': id }
      if (feature !== undefined) headers['x-meridian-tags'] = `feature=${feature},run=${name}`
      const ask = (text: string, extra: Record<string, unknown> = {}) =>
        chatBody({ messages: [{ role: 'user', content: text }], ...extra })
      let res: Response
      if (kind === 'embeddings') {
        res = await stack.post(
          '/v1/embeddings',
          { model: 'text-embedding-3-small', input: `text ${i}` },
          headers,
        )
      } else if (kind === 'aborted') {
        res = await stack.post(
          '/v1/chat/completions',
          ask(`slow ${i}`, { model: 'slow', stream: true }),
          headers,
        )
        // The first chunk, then the client goes away.
        const reader = res.body!.getReader()
        await reader.read()
        await reader.cancel()
        sent.set(id, { kind, feature, status: 499 })
        return
      } else {
        const body =
          kind === 'cached'
            ? ask(`cached question ${i % 30}`, { temperature: 0, stream: i % 3 === 0 })
            : kind === 'stream'
              ? ask(`stream ${i}`, { stream: true })
              : kind === 'fallback'
                ? ask(`fallback ${i}`, { model: 'with-fallback' })
                : kind === 'broken'
                  ? ask(`broken ${i}`, { model: 'broken' })
                  : kind === 'denied'
                    ? ask(`denied ${i}`, { model: 'denied' })
                    : ask(`miss ${i}`)
        res = await stack.post('/v1/chat/completions', body, headers)
      }
      await res.text()
      sent.set(id, { kind, feature, status: res.status })
    }
    let next = 0
    const worker = async () => {
      while (next < plan.length) {
        const n = next++
        await one(plan[n]!, n)
      }
    }
    await Promise.all(Array.from({ length: 20 }, worker))
  }, 120_000)

  afterAll(async () => {
    if (!available) return
    await stack.close()
    await failing.close()
    await slow.close()
    await db.drop()
  })

  it.skipIf(!available)(
    'holds exactly one row per request, plus one per extra upstream call, linked to it',
    async () => {
      const admin = adminClient(stack.url)
      // Aborted streams end on the gateway's side a moment after the client left: wait for their rows.
      let rows: Record<string, unknown>[] = []
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        rows = (await admin.get('/admin/ledger?limit=10000')).body.data
        if (rows.filter((r) => r.attempt === 0).length >= sent.size) break
        await new Promise((r) => setTimeout(r, 100))
      }
      const main = rows.filter((r) => r.attempt === 0)
      const extra = rows.filter((r) => r.attempt !== 0)
      expect(sent.size).toBe(1000)
      expect(main).toHaveLength(1000)
      const byRequest = new Map(main.map((r) => [r.request_id as string, r]))
      expect(byRequest.size).toBe(1000)
      for (const [id, request] of sent) {
        const row = byRequest.get(id)
        expect(row, id).toBeDefined()
        expect(row!.status, `${id} (${request.kind})`).toBe(request.status)
        expect(row!.project).toBe('test')
        expect(row!.key_id).toBe('test-key')
      }
      const ids = new Set(main.map((r) => r.id))
      for (const r of extra) expect(ids.has(r.parent_id), `${r.id} links to its request`).toBe(true)

      // Every upstream call the sims saw is a row: an extra attempt, or the call a request's row stands for.
      const sims = [stack.sim.stats(), failing.stats(), slow.stats()]
      const calls = sims.reduce((n, s) => n + s.chat + s.embeddings, 0)
      const served = main.filter((r) => r.target !== null && r.cache !== 'hit' && r.cache !== 'coalesced')
      expect(served.length + extra.length).toBe(calls)

      // Each kind of request is there, hits from both cache layers among them.
      const status = (kind: Kind) => [...sent.values()].filter((s) => s.kind === kind).map((s) => s.status)
      expect(new Set(status('broken'))).toEqual(new Set([502]))
      expect(new Set(status('denied'))).toEqual(new Set([403]))
      expect(new Set(status('fallback'))).toEqual(new Set([200]))
      // The failing target's calls before the health gate took it out: each an extra row of its request.
      expect(extra.length).toBeGreaterThan(0)
      for (const r of extra)
        expect([r.target, r.status, r.error]).toEqual(['failing/x', 502, 'MERIDIAN_UPSTREAM_ERROR'])
      const layers = new Set(main.filter((r) => r.cache === 'hit').map((r) => r.cache_layer))
      expect(layers).toEqual(new Set(['edge', 'origin']))
      expect(main.filter((r) => r.status === 499)).toHaveLength(60)
    },
  )

  it.skipIf(!available)(
    'adds up: usage by tag equals the total, request for request and cost for cost',
    async () => {
      const admin = adminClient(stack.url)
      const byTag = (await admin.get('/admin/usage?by=tag&tag=feature')).body
      const byProject = (await admin.get('/admin/usage?by=project')).body
      expect(byTag.total).toEqual(byProject.total)
      expect(byTag.total.requests).toBe(1000)
      expect(byTag.rows.map((r: { group: string | null }) => r.group)).toEqual([
        null,
        'chat',
        'onboarding',
        'search',
      ])
      const counted = new Map<string | null, number>()
      for (const s of sent.values()) counted.set(s.feature ?? null, (counted.get(s.feature ?? null) ?? 0) + 1)
      for (const row of byTag.rows) expect(row.requests).toBe(counted.get(row.group))
      expect(byTag.total.cost_usd).toBeGreaterThan(0)
      expect(byTag.total.saved_usd).toBeGreaterThan(0)
    },
  )
})
