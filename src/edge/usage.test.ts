import { describe, expect, it } from 'vitest'
import { type EdgeUsage, ledgerEntryOfEdge, UsageBatcher } from './usage.js'

const record = (id: string, extra: Partial<EdgeUsage> = {}): EdgeUsage => ({
  id,
  request_id: id,
  ts: 1,
  project: 'p',
  key_id: 'k',
  session: null,
  tags: { feature: 'x' },
  route: 'chat',
  model_requested: 'gpt-4o-mini',
  model_served: 'gpt-4o-mini',
  target: 'sim/m',
  status: 200,
  error: null,
  stream: false,
  cache: 'hit',
  cache_layer: 'edge',
  tokens_in: 1000,
  tokens_out: 500,
  tokens_cached: 0,
  latency_ms: 2,
  ...extra,
})

describe('UsageBatcher', () => {
  it('sends one batch per window, with every record added to it', async () => {
    const sent: string[][] = []
    const batcher = new UsageBatcher({
      send: async (records) => void sent.push(records.map((r) => r.id)),
      sleep: () => Promise.resolve(),
      now: () => 0,
    })
    const first = batcher.add(record('a'))
    const second = batcher.add(record('b'))
    expect(second).toBe(first)
    await first
    expect(sent).toEqual([['a', 'b']])
  })

  it('retries a failed batch, spills it when it keeps failing, and sends the spilled with a later batch', async () => {
    let failing = true
    const sent: string[][] = []
    const spilled: EdgeUsage[][] = []
    let now = 0
    const batcher = new UsageBatcher({
      send: async (records) => {
        if (failing) throw new Error('origin down')
        sent.push(records.map((r) => r.id))
      },
      spill: async (records) => void spilled.push(records),
      unspill: async () => spilled.splice(0).flat(),
      sleep: () => Promise.resolve(),
      now: () => now,
    })
    await batcher.add(record('a'))
    expect(spilled).toEqual([[record('a')]])
    failing = false
    now = 61_000
    await batcher.add(record('b'))
    expect(sent).toEqual([['b', 'a']])
  })
})

describe('ledgerEntryOfEdge', () => {
  it('prices a hit at nothing, saving what its stored answer cost', () => {
    const row = ledgerEntryOfEdge(record('a'), () => ({ input: 1, output: 2 }))
    expect(row).toMatchObject({
      tier: 'edge',
      cost_nusd: 0,
      saved_nusd: 2000 * 1000,
      attempt: 0,
      tags: { feature: 'x' },
    })
    const refused = ledgerEntryOfEdge(
      record('b', { cache: null, status: 429, tokens_in: null, tokens_out: null }),
      () => undefined,
    )
    expect(refused).toMatchObject({ status: 429, saved_nusd: 0, cost_nusd: 0 })
  })
})
