import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../src/config/schema.js'
import { ADMIN_TOKEN, adminClient } from './helpers/admin.js'
import { databaseKinds, freshDatabase, type TestDatabase } from './helpers/databases.js'
import { validateAgainstSpec } from './helpers/openai-spec.js'
import { chatBody, GATEWAY_KEY, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

const kinds = await databaseKinds()
const ENCRYPTION_KEY = 'c'.repeat(64)
const PROJECT_KEY = 'sk-project-own-key-9876'
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** The gateway of these tests: projects alpha (with a policy) and beta, an admin token, the given database. */
function governed(db: TestDatabase, extra: (c: ConfigInput, simUrl: string) => void = () => {}) {
  return startStack(
    (c, simUrl) => {
      c.admin = { token: ADMIN_TOKEN }
      c.storage = { database: db.url, refresh: '200ms' }
      c.models!.push(
        { name: 'gpt-4o', targets: [{ provider: 'sim', model: 'sim-large' }] },
        { name: 'gpt-4.1', targets: [{ provider: 'sim', model: 'sim-large' }] },
      )
      c.projects = [
        {
          id: 'test',
          models: { deny: ['gpt-4.1'] },
          deny_modes: ['sport'],
          force: { code: 'gpt-4o' },
          max_input_tokens: 2000,
          max_tokens: 300,
        },
      ]
      extra(c, simUrl)
    },
    { env: { MERIDIAN_ENCRYPTION_KEY: ENCRYPTION_KEY }, simKeys: [PROJECT_KEY] },
  )
}

async function errorOf(res: Response, status: number) {
  expect(res.status).toBe(status)
  const body = await res.json()
  expect(validateAgainstSpec('ErrorResponse', body)).toEqual([])
  return body.error
}

describe.each(kinds)('governance on $name', ({ name, available }) => {
  let db: TestDatabase
  let stack: Stack
  let admin: ReturnType<typeof adminClient>

  beforeAll(async () => {
    if (!available) return
    db = await freshDatabase(name)
    stack = await governed(db)
    admin = adminClient(stack.url)
  })
  afterAll(async () => {
    if (!available) return
    await stack.close()
    await db.drop()
  })

  const call = (key: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  describe.skipIf(!available)('keys', () => {
    it('shows a new key once, stores only its hash, and revokes it at once', async () => {
      const made = await admin.post('/admin/keys', { project: 'test', name: 'ci' })
      expect(made.status).toBe(201)
      expect(made.body.key).toMatch(/^mk-[0-9A-Za-z]{43}$/)
      expect(made.body.prefix).toBe(made.body.key.slice(0, 9))
      expect((await call(made.body.key, chatBody())).status).toBe(200)

      const listed = await admin.get('/admin/keys?project=test')
      expect(JSON.stringify(listed.body)).not.toContain(made.body.key)
      const rows = await sql<{ id: string; hash: string; prefix: string }>`select * from api_keys`.execute(
        db.db,
      )
      expect(JSON.stringify(rows.rows)).not.toContain(made.body.key)
      expect(rows.rows.find((r) => r.id === made.body.id)?.hash).toBe(sha256(made.body.key))

      const revoked = await admin.post(`/admin/keys/${made.body.id}/revoke`, { reason: 'leaked' })
      expect(revoked.body.status).toBe('revoked')
      const refused = await errorOf(await call(made.body.key, chatBody()), 401)
      expect(refused.message).toMatch(/revoked/)
      const audit = await admin.get('/admin/audit?action=key.revoke')
      expect(audit.body.data[0]).toMatchObject({
        actor: 'admin:test',
        target: made.body.id,
        reason: 'leaked',
      })
    })

    it('refuses an expired key and an unknown one', async () => {
      const made = await admin.post('/admin/keys', { project: 'test' })
      await admin.patch(`/admin/keys/${made.body.id}`, { expires_at: '2020-01-01T00:00:00Z' })
      expect((await errorOf(await call(made.body.key, chatBody()), 401)).message).toMatch(/expired/)
      expect((await errorOf(await call('mk-not-a-key-at-all', chatBody()), 401)).message).toMatch(/invalid/)
    })

    it('holds a key to its own models', async () => {
      const made = await admin.post('/admin/keys', { project: 'test', models: ['gpt-4o', 'gpt-4.1*'] })
      expect((await call(made.body.key, chatBody({ model: 'gpt-4o' }))).status).toBe(200)
      const denied = await errorOf(await call(made.body.key, chatBody()), 403)
      expect(denied).toMatchObject({
        code: 'MERIDIAN_POLICY_DENIED',
        policy: { rule: 'key.models', value: 'gpt-4o-mini' },
      })
    })
  })

  describe.skipIf(!available)('policies', () => {
    it('denies a model with a 403 naming the rule and the value, and audits it', async () => {
      const res = await stack.post('/v1/chat/completions', chatBody({ model: 'gpt-4.1' }), {
        'x-request-id': `deny-${name}`,
      })
      const error = await errorOf(res, 403)
      expect(error).toMatchObject({
        type: 'permission_error',
        code: 'MERIDIAN_POLICY_DENIED',
        param: 'model',
        policy: { rule: 'models.deny', value: 'gpt-4.1' },
      })
      const audit = await admin.get('/admin/audit?action=request.denied')
      expect(
        audit.body.data.some(
          (e: { details: { request_id: string } }) => e.details.request_id === `deny-${name}`,
        ),
      ).toBe(true)
      const ledger = await admin.get(`/admin/ledger?request_id=deny-${name}`)
      expect(ledger.body.data[0]).toMatchObject({
        status: 403,
        error: 'MERIDIAN_POLICY_DENIED',
        cost_nusd: 0,
      })
    })

    it('answers a malformed x-meridian-tags with a 400 naming the header', async () => {
      const res = await stack.post('/v1/chat/completions', chatBody(), { 'x-meridian-tags': 'feature' })
      const error = await errorOf(res, 400)
      expect(error).toMatchObject({ code: 'MERIDIAN_INVALID_REQUEST', param: 'x-meridian-tags' })
    })

    it('denies a routing mode', async () => {
      const error = await errorOf(
        await stack.post('/v1/chat/completions', chatBody({ model: 'auto:sport' })),
        403,
      )
      expect(error.policy).toEqual({ rule: 'deny_modes', value: 'sport' })
    })

    it('forces a model for a task type, silently, into the ledger and the audit log', async () => {
      const code = chatBody({
        messages: [
          {
            role: 'user',
            content: 'Fix this Python function:\n```python\ndef add(a, b):\n    return a - b\n```',
          },
        ],
      })
      const res = await stack.post('/v1/chat/completions', code, { 'x-request-id': `force-${name}` })
      expect(res.status).toBe(200)
      expect((await res.json()).model).toBe('sim-large')
      const row = (await admin.get(`/admin/ledger?request_id=force-${name}`)).body.data[0]
      expect(row).toMatchObject({
        model_requested: 'gpt-4o-mini',
        model_served: 'gpt-4o',
        override: 'force.code: gpt-4o-mini -> gpt-4o',
      })
      const audit = await admin.get('/admin/audit?action=policy.override')
      expect(audit.body.data[0]).toMatchObject({ reason: 'force.code: gpt-4o-mini -> gpt-4o' })
    })

    it('caps the prompt and max_tokens, and sends the cap when a request sets none', async () => {
      const long = chatBody({ messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(1000) }] })
      const tooLong = await errorOf(await stack.post('/v1/chat/completions', long), 403)
      expect(tooLong.policy.rule).toBe('max_input_tokens')
      expect(tooLong.policy.value).toBeGreaterThan(2000)
      const tooMany = await errorOf(
        await stack.post('/v1/chat/completions', chatBody({ max_tokens: 301 })),
        403,
      )
      expect(tooMany).toMatchObject({ param: 'max_tokens', policy: { rule: 'max_tokens', value: 301 } })
      expect((await stack.post('/v1/chat/completions', chatBody())).status).toBe(200)
      expect(stack.sim.stats().last_request?.body).toMatchObject({ max_tokens: 300 })
    })
  })

  describe.skipIf(!available)('costs', () => {
    it('prices every answer in x-meridian-cost, and what the cache saved in x-meridian-saved', async () => {
      // (Not naming the database: "postgres" would make the classifier call it code, and policy force it.)
      const body = chatBody({
        temperature: 0,
        messages: [{ role: 'user', content: `Say hello to ${name.length}` }],
      })
      const miss = await stack.post('/v1/chat/completions', body, { 'x-request-id': `cost-${name}` })
      const answer = await miss.json()
      const { prompt_tokens: p, completion_tokens: c } = answer.usage
      const nanos = Math.round(((p * 0.15 + c * 0.6) / 1e6) * 1e9)
      expect(miss.headers.get('x-meridian-cost')).toBe((nanos / 1e9).toFixed(9).replace(/0+$/, ''))
      expect(miss.headers.get('x-meridian-saved')).toBeNull()
      const hit = await stack.post('/v1/chat/completions', body)
      expect(hit.headers.get('x-meridian-cache')).toBe('hit')
      expect(hit.headers.get('x-meridian-cost')).toBe('0')
      expect(hit.headers.get('x-meridian-saved')).toBe(miss.headers.get('x-meridian-cost'))
      const row = (await admin.get(`/admin/ledger?request_id=cost-${name}`)).body.data[0]
      expect(row.cost_nusd).toBe(nanos)
    })

    it('prices embeddings by their input tokens', async () => {
      const res = await stack.post(
        '/v1/embeddings',
        { model: 'text-embedding-3-small', input: 'price this text' },
        { 'x-request-id': `embed-${name}` },
      )
      const { usage } = await res.json()
      const nanos = Math.round(((usage.prompt_tokens * 0.02) / 1e6) * 1e9)
      expect(nanos).toBeGreaterThan(0)
      expect(res.headers.get('x-meridian-cost')).toBe((nanos / 1e9).toFixed(9).replace(/0+$/, ''))
      const row = (await admin.get(`/admin/ledger?request_id=embed-${name}`)).body.data[0]
      expect(row).toMatchObject({
        route: 'embeddings',
        cost_nusd: nanos,
        tokens_in: usage.prompt_tokens,
        tokens_out: 0,
      })
    })

    it("prices Anthropic's Messages API too, streamed or not", async () => {
      const messages = (stream: boolean, id: string) =>
        fetch(`${stack.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': GATEWAY_KEY, 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            max_tokens: 50,
            stream,
            messages: [{ role: 'user', content: 'Hi' }],
          }),
        })
      const unary = await messages(false, `msg-${name}`)
      const { usage } = await unary.json()
      const nanos = Math.round(((usage.input_tokens * 0.15 + usage.output_tokens * 0.6) / 1e6) * 1e9)
      expect(unary.headers.get('x-meridian-cost')).toBe(String(nanos / 1e9))
      await (await messages(true, `msg-stream-${name}`)).text()
      const rows = (await admin.get('/admin/ledger?limit=1000')).body.data
      const streamed = rows.find((r: { request_id: string }) => r.request_id === `msg-stream-${name}`)
      expect(streamed).toMatchObject({
        route: 'messages',
        stream: 1,
        status: 200,
        tokens_in: usage.input_tokens,
        estimated: 0,
      })
      expect(streamed.cost_nusd).toBeGreaterThan(0)
    })

    it('ends a live stream with its cost, which the SDKs skip as a comment', async () => {
      const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
      const text = await res.text()
      expect(text).toMatch(/\n: x-meridian-cost: 0\.\d+\n\ndata: \[DONE\]\n\n$/)
      // Governance asks upstream for usage; a client that did not ask does not get the usage chunk.
      expect(text).not.toContain('"choices":[]')
    })
  })

  describe.skipIf(!available)('bodies in the ledger', () => {
    it('keeps prompts and responses only for a project that opts in', async () => {
      const ask = async (id: string, stream: boolean) => {
        const res = await stack.post('/v1/chat/completions', chatBody({ stream }), { 'x-request-id': id })
        await res.text()
        return (await admin.get(`/admin/ledger?request_id=${id}`)).body.data[0]
      }
      expect(await ask(`quiet-${name}`, false)).toMatchObject({ prompt: null, response: null })
      await admin.patch('/admin/projects/test', { log_bodies: true })
      const kept = await ask(`kept-${name}`, false)
      expect(JSON.parse(kept.prompt).messages[0].content).toBe('Say hello')
      expect(JSON.parse(kept.response).object).toBe('chat.completion')
      const streamed = await ask(`kept-stream-${name}`, true)
      expect(JSON.parse(streamed.response).choices[0].message.content.length).toBeGreaterThan(0)
      await admin.patch('/admin/projects/test', { log_bodies: false })
      expect(await ask(`quiet-again-${name}`, false)).toMatchObject({ prompt: null, response: null })
    })
  })

  describe.skipIf(!available)('bring your own provider key', () => {
    it('checks the key live, stores it encrypted, and serves the project with it, never with the gateway key', async () => {
      const refused = await admin.post('/admin/projects/test/provider-keys', {
        provider: 'sim',
        key: 'sk-wrong-key-0000',
      })
      expect(refused.status).toBe(400)
      expect(refused.body.error.message).toMatch(/refused this key/)
      expect(JSON.stringify(refused.body)).not.toContain(SIM_KEY)

      const stored = await admin.post('/admin/projects/test/provider-keys', {
        provider: 'sim',
        key: PROJECT_KEY,
      })
      expect(stored.status).toBe(201)
      expect(stored.body).toMatchObject({ provider: 'sim', last4: PROJECT_KEY.slice(-4) })
      const rows = await sql<{ ciphertext: string }>`select ciphertext from provider_keys`.execute(db.db)
      expect(JSON.stringify(rows.rows)).not.toContain(PROJECT_KEY)

      const before = stack.sim.stats().keys
      for (let i = 0; i < 3; i++)
        expect((await stack.post('/v1/chat/completions', chatBody())).status).toBe(200)
      const after = stack.sim.stats().keys
      expect((after[PROJECT_KEY.slice(-4)] ?? 0) - (before[PROJECT_KEY.slice(-4)] ?? 0)).toBe(3)
      expect(after[SIM_KEY.slice(-4)]).toBe(before[SIM_KEY.slice(-4)])

      expect((await admin.delete('/admin/projects/test/provider-keys/sim')).status).toBe(200)
      expect((await stack.post('/v1/chat/completions', chatBody())).status).toBe(200)
      expect(stack.sim.stats().keys[SIM_KEY.slice(-4)]).toBe((before[SIM_KEY.slice(-4)] ?? 0) + 1)
    })
  })

  describe.skipIf(!available)('the admin API', () => {
    it('describes itself in OpenAPI, behind the admin token', async () => {
      expect((await fetch(`${stack.url}/admin/openapi.json`)).status).toBe(401)
      const doc = await admin.get('/admin/openapi.json')
      expect(doc.body.openapi).toBe('3.1.0')
      for (const path of [
        '/admin/projects',
        '/admin/keys',
        '/admin/keys/{id}/revoke',
        '/admin/budgets',
        '/admin/usage',
        '/admin/audit',
      ])
        expect(Object.keys(doc.body.paths)).toContain(path)
      expect(doc.body.paths['/admin/keys'].post.requestBody.content['application/json'].schema).toBeDefined()
    })

    it('answers bad input with a 400 naming the field, and unknown things with a 404', async () => {
      const bad = await admin.post('/admin/budgets', { scope: 'project', scope_id: 'test', usd: -1 })
      expect(bad.status).toBe(400)
      expect(bad.body.error.param).toBe('body.usd')
      expect((await admin.get('/admin/projects/nope')).status).toBe(404)
      expect((await admin.post('/admin/keys', { project: 'nope' })).status).toBe(404)
      const dup = await admin.post('/admin/projects', { id: 'test' })
      expect(dup.status).toBe(409)
    })

    it('exports usage as CSV', async () => {
      const csv = await admin.get('/admin/usage?by=model&format=csv')
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/)
      expect(csv.body.split('\n')[0]).toBe('model,requests,tokens_in,tokens_out,cost_usd,saved_usd')
      expect(csv.body).toContain('gpt-4o-mini,')
    })
  })
})
