import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { undiciClient } from '../src/adapters/node/http-client.js'
import { type SimServer, startSim } from '../src/adapters/node/sim-server.js'
import { validateConfig } from '../src/config/load.js'
import { createGateway } from '../src/core/gateway.js'
import { chatBody, memoryLogger } from './helpers/stack.js'

let sim: SimServer
const http = undiciClient()

beforeAll(async () => {
  sim = await startSim({ port: 0, apiKey: 'sk-sim' })
})
afterAll(async () => {
  await http.close()
  await sim.close()
})

/** A gateway whose deferred bookkeeping waits in `queue` until the test runs it. */
function gateway(logger = memoryLogger()) {
  const config = validateConfig(
    {
      log: { requests: true },
      providers: [{ id: 'sim', type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-sim' }],
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'sim', model: 'sim-small' }] }],
      limits: { projects: { default: { concurrent: 1 } } },
    },
    {},
    'test',
  )
  const queue: (() => void)[] = []
  const handle = createGateway({ config, http, logger, defer: (work) => queue.push(work) })
  const post = () =>
    handle(
      new Request('http://gw/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chatBody()),
      }),
    )
  const requestLines = () => logger.lines.filter((l) => l.includes('"msg":"request"'))
  return { queue, post, requestLines, logger }
}

describe('bookkeeping deferred until the response is handed over (GatewayDeps.defer)', () => {
  it('settles limits and writes the log line only when the deferred work runs', async () => {
    const gw = gateway()
    const first = await gw.post()
    expect(first.status).toBe(200)
    expect(gw.requestLines()).toHaveLength(0)
    expect(gw.queue).toHaveLength(1)
    // The one concurrency slot is still held: the bookkeeping that gives it back has not run.
    expect((await gw.post()).status).toBe(429)
    for (const work of gw.queue.splice(0)) work()
    expect(gw.requestLines()).toHaveLength(2)
    expect((await gw.post()).status).toBe(200)
  })

  it('logs a fault in deferred work instead of throwing it', async () => {
    const logger = memoryLogger()
    const info = logger.info
    logger.info = (msg, fields) => {
      if (msg === 'request') throw new Error('log sink broke')
      info(msg, fields)
    }
    const gw = gateway(logger)
    expect((await gw.post()).status).toBe(200)
    expect(() => {
      for (const work of gw.queue.splice(0)) work()
    }).not.toThrow()
    const errors = logger.lines.filter((l) => l.includes('"level":"error"'))
    expect(errors.join('\n')).toContain('request bookkeeping failed')
    expect(errors.join('\n')).toContain('log sink broke')
  })
})
