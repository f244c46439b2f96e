import { Pool } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_KEY, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

// The Node adapter gives each request its connection's abort signal (src/adapters/node/server.ts). That signal
// outlives the request, so whatever a request hangs on it must come off when the request ends; otherwise a
// keep-alive connection piles up listeners, one or more per request, until Node warns of a leak.

let stack: Stack
const warnings: string[] = []
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)

beforeAll(async () => {
  stack = await startStack((config, simUrl) => {
    config.providers = [
      { id: 'a', type: 'openai', base_url: `${simUrl}/v1`, api_key: SIM_KEY },
      { id: 'b', type: 'openai', base_url: `${simUrl}/v1`, api_key: SIM_KEY },
    ]
    config.models = [
      { name: 'plain', targets: [{ provider: 'a', model: 'plain' }] },
      {
        name: 'timed',
        targets: [{ provider: 'a', model: 'timed', timeouts: { ttfb: '5s', total: '10s' } }],
      },
      {
        name: 'hedged',
        hedge: true,
        targets: [
          { provider: 'a', model: 'first' },
          { provider: 'b', model: 'second' },
        ],
      },
    ]
    config.router = { hedge: { after: '1ms', min: '1ms' } }
    config.cache = { source: 'memory' }
  })
  stack.sim.setBehaviour({ latency_ms: 15 })
  process.on('warning', onWarning)
})
afterAll(async () => {
  process.off('warning', onWarning)
  await stack.close()
})

// Only `temperature: 0` is cacheable (the cache's default mode): identical such requests in flight together
// coalesce. The others go upstream on the client's own signal.
const body = (model: string, content: string, stream: boolean, temperature: number) =>
  JSON.stringify({ model, stream, temperature, messages: [{ role: 'user', content }] })

async function ask(pool: Pool, model: string, content: string, stream = false, temperature = 1) {
  const res = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
    body: body(model, content, stream, temperature),
  })
  const text = await res.body.text()
  expect(res.statusCode, text).toBe(200)
  return res.headers
}

describe("listeners on the connection's abort signal", () => {
  it('come off when each request ends, for every kind of request on one keep-alive connection', async () => {
    const pool = new Pool(stack.url, { connections: 1 })
    try {
      for (let i = 0; i < 15; i++) {
        await ask(pool, 'plain', `plain ${i}`, i % 2 === 0)
        await ask(pool, 'timed', `timed ${i}`)
        await ask(pool, 'timed', `timed stream ${i}`, true)
        await ask(pool, 'hedged', `hedged ${i}`)
      }
      // Coalesced: two connections ask the same question at once; one of them follows the other's flight.
      const other = new Pool(stack.url, { connections: 1 })
      try {
        for (let i = 0; i < 15; i++) {
          const same = `same ${i}`
          const both = await Promise.all([
            ask(pool, 'plain', same, false, 0),
            ask(other, 'plain', same, false, 0),
          ])
          expect(both.map((h) => h['x-meridian-cache'])).toContain('coalesced')
        }
      } finally {
        await other.close()
      }
      const hedged = stack.logger.lines.filter((l) => l.includes('"hedge":{'))
      expect(hedged.length).toBeGreaterThan(10)
    } finally {
      await pool.close()
    }
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
  })
})
