import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chatBody, type Stack, sseFrames, startStack } from './helpers/stack.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack((config) => {
    config.providers![0]!.timeout_ms = 400
  })
})
afterAll(() => stack.close())
afterEach(() => stack.sim.reset())

async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('streaming', () => {
  it('passes each chunk on as it arrives, before the upstream has finished', async () => {
    stack.sim.setBehaviour({ chunks: 6, chunk_gap_ms: 150 })
    const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{/)
    // The upstream is still sending: the gateway did not wait for the whole stream.
    expect(stack.sim.stats().active).toBe(1)
    let rest = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    expect(sseFrames(rest).at(-1)).toBe('[DONE]')
    expect(stack.sim.stats().active).toBe(0)
  })

  it('a client that disconnects aborts its upstream request', async () => {
    stack.sim.setBehaviour({ chunks: 100, chunk_gap_ms: 50 })
    const client = new AbortController()
    const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }), {})
    void client
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    await waitFor(() => stack.sim.stats().aborted === 1, 'the upstream request to be aborted')
    expect(stack.sim.stats().active).toBe(0)
    await waitFor(() => stack.logger.lines.some((l) => l.includes('"status":499')), 'the request log line')
  })

  it('a client that disconnects before the answer aborts a non-stream upstream request', async () => {
    stack.sim.setBehaviour({ latency_ms: 3000 })
    const client = new AbortController()
    const pending = fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer mk-test-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify(chatBody()),
      signal: client.signal,
    }).catch((err: Error) => err)
    await waitFor(() => stack.sim.stats().active === 1, 'the upstream request to start')
    client.abort()
    expect(await pending).toBeInstanceOf(Error)
    await waitFor(() => stack.sim.stats().aborted === 1, 'the upstream request to be aborted')
  })

  it('an upstream that stalls mid-stream ends the stream with an error event', async () => {
    stack.sim.setBehaviour({ chunks: 10, stall_after_chunks: 2 })
    const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
    expect(res.status).toBe(200)
    const frames = sseFrames(await res.text())
    const last = JSON.parse(frames.at(-1)!)
    expect(last.error.code).toBe('MERIDIAN_UPSTREAM_TIMEOUT')
    expect(frames.slice(0, -1).length).toBeGreaterThanOrEqual(2)
    expect(frames).not.toContain('[DONE]')
  })

  it('an upstream that resets a stream before answering → 502', async () => {
    stack.sim.setBehaviour({ reset_rate: 1 })
    const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
    expect(res.status).toBe(502)
    expect((await res.json()).error.code).toBe('MERIDIAN_UPSTREAM_UNREACHABLE')
  })

  it('a long stream goes through whole', async () => {
    stack.sim.setBehaviour({ chunks: 2000 })
    const res = await stack.post('/v1/chat/completions', chatBody({ stream: true }))
    const frames = sseFrames(await res.text())
    expect(frames.at(-1)).toBe('[DONE]')
    const words = frames
      .slice(0, -1)
      .map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '')
      .join('')
    expect(words.trim().split(/\s+/)).toHaveLength(2000)
  })
})
