import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { needService } from './helpers/services.js'
import { chatBody, GATEWAY_KEY, type Stack, startStack } from './helpers/stack.js'
import { tcpProxy } from './helpers/tcp-proxy.js'

const redis = await needService('redis')
const ADMIN = 'admin-token-0123456789abcdef'

describe.skipIf(!redis.available)('the cache with Redis as its source of truth', () => {
  // A project of its own per run, so runs sharing one Redis never see each other's entries.
  const project = `redis-test-${randomUUID().slice(0, 8)}`
  const stacks: Stack[] = []
  afterEach(async () => {
    const last = stacks.at(-1)
    if (last) {
      await fetch(`${last.url}/admin/cache/projects/${project}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN}` },
      })
    }
    for (const s of stacks.splice(0)) await s.close()
  })

  const start = async (source: string, replicaBytes = 64 * 1024 * 1024) => {
    const stack = await startStack((config) => {
      config.keys = [{ key: GATEWAY_KEY, project }]
      config.admin = { token: ADMIN }
      config.cache = { source, timeout_ms: 100, replica: { max_bytes: replicaBytes } }
    })
    stacks.push(stack)
    return stack
  }
  const ask = async (stack: Stack, content = 'What is Redis?') => {
    const res = await stack.post(
      '/v1/chat/completions',
      chatBody({ temperature: 0, messages: [{ role: 'user', content }] }),
    )
    expect(res.status).toBe(200)
    await res.text()
    return `${res.headers.get('x-meridian-cache')}/${res.headers.get('x-meridian-cache-layer')}`
  }

  it('survives a restart: the first repeat is an origin hit, the next an edge hit', async () => {
    const before = await start(redis.url)
    expect(await ask(before)).toBe('miss/null')
    await before.close()
    stacks.splice(stacks.indexOf(before), 1)
    const after = await start(redis.url)
    expect(await ask(after)).toBe('hit/origin')
    expect(await ask(after)).toBe('hit/edge')
    expect(after.sim.stats().chat).toBe(0)
  })

  it('keeps answering while Redis is away (cache bypassed, counted) and caches again once it is back', async () => {
    const proxy = await tcpProxy(new URL(redis.url))
    try {
      // No replica: every lookup has to reach Redis.
      const stack = await start(proxy.url, 0)
      expect(await ask(stack)).toBe('miss/null')
      expect(await ask(stack)).toBe('hit/origin')

      await proxy.close()
      expect(await ask(stack)).toBe('bypass/null')
      expect(await ask(stack, 'Asked while Redis is away')).toBe('bypass/null')
      expect(stack.sim.stats().chat).toBe(3)
      expect((await fetch(`${stack.url}/ready`)).status).toBe(503)
      const stats = await (
        await fetch(`${stack.url}/admin/cache/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })
      ).json()
      expect(stats.errors.redis).toBeGreaterThanOrEqual(3)
      expect(stack.logger.lines.some((l) => l.includes('cache tier failed'))).toBe(true)

      await proxy.reopen()
      const deadline = Date.now() + 5000
      let status = ''
      while (Date.now() < deadline) {
        status = await ask(stack)
        if (status === 'hit/origin') break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(status).toBe('hit/origin')
      expect(await ask(stack, 'Asked once Redis is back')).toBe('miss/null')
      expect(await ask(stack, 'Asked once Redis is back')).toBe('hit/origin')
      expect((await fetch(`${stack.url}/ready`)).status).toBe(200)
    } finally {
      await proxy.close()
    }
  })
})
