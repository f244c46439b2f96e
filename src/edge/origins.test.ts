import { describe, expect, it } from 'vitest'
import { Origins, OriginsUnreachable } from './origins.js'

function origins(down: Set<string>, now: { t: number }) {
  const asked: string[] = []
  const o = new Origins({
    urls: ['http://a', 'http://b/'],
    now: () => now.t,
    fetch: async (req) => {
      const origin = new URL(req.url).origin
      asked.push(origin)
      if (down.has(origin)) throw new TypeError('connection refused')
      return new Response(origin)
    },
  })
  return { o, asked }
}

const build = (origin: string, signal: AbortSignal) => new Request(`${origin}/v1/models`, { signal })

describe('Origins', () => {
  it('sends to the first, and on a failure marks it down and moves on', async () => {
    const now = { t: 0 }
    const down = new Set(['http://a'])
    const { o, asked } = origins(down, now)
    expect(await (await o.send(build)).text()).toBe('http://b')
    expect(o.isDown('http://a')).toBe(true)
    // While it is down, it is tried last, not first.
    asked.length = 0
    await o.send(build)
    expect(asked).toEqual(['http://b'])
    // After the cool-down, first again.
    now.t = 10_001
    down.clear()
    asked.length = 0
    await o.send(build)
    expect(asked).toEqual(['http://a'])
  })

  it('passes any HTTP answer on (a 502 is the origin speaking), and fails when none answers', async () => {
    const now = { t: 0 }
    const answering = new Origins({
      urls: ['http://a'],
      now: () => now.t,
      fetch: async () => new Response('bad gateway', { status: 502 }),
    })
    expect((await answering.send(build)).status).toBe(502)
    const { o } = origins(new Set(['http://a', 'http://b']), now)
    await expect(o.send(build)).rejects.toBeInstanceOf(OriginsUnreachable)
  })
})
