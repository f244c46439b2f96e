import { describe, expect, it } from 'vitest'
import { defaultBehaviour, parseBehaviourPatch } from './behaviour.js'

describe('behaviour patches', () => {
  it('accept known keys and reject unknown ones by name', () => {
    expect(parseBehaviourPatch({ latency_ms: 5, status: null })).toEqual({
      ok: true,
      patch: { latency_ms: 5, status: null },
    })
    const unknown = parseBehaviourPatch({ latency: 5 })
    expect(unknown.ok).toBe(false)
    expect(!unknown.ok && unknown.error).toContain('"latency"')
    expect(!unknown.ok && unknown.key).toBe('latency')
    const range = parseBehaviourPatch({ error_rate: 2 })
    expect(!range.ok && range.error).toContain('error_rate')
    expect(parseBehaviourPatch([]).ok).toBe(false)
    expect(Object.keys(defaultBehaviour)).toHaveLength(14)
  })

  it('validate the fault knobs strictly, naming the key', () => {
    expect(parseBehaviourPatch({ fail_every: 2, fail_status: 503, retry_after_s: 0 }).ok).toBe(true)
    expect(parseBehaviourPatch({ slow_every: 20, slow_ms: 2000, drop_after_chunks: 0 }).ok).toBe(true)
    expect(parseBehaviourPatch({ fail_every: null, slow_every: null, drop_after_chunks: null }).ok).toBe(true)
    const bad: [string, unknown][] = [
      ['fail_every', 0],
      ['fail_every', 1.5],
      ['fail_every', '2'],
      ['fail_status', 200],
      ['fail_status', 600],
      ['fail_status', null],
      ['retry_after_s', -1],
      ['retry_after_s', 0.5],
      ['slow_every', 0],
      ['slow_ms', -1],
      ['slow_ms', 2_147_483_648],
      ['slow_ms', null],
      ['drop_after_chunks', -1],
      ['drop_after_chunks', 1.5],
    ]
    for (const [key, value] of bad) {
      const result = parseBehaviourPatch({ [key]: value })
      expect(result.ok, `${key}: ${String(value)}`).toBe(false)
      expect(!result.ok && result.key).toBe(key)
      expect(!result.ok && result.error).toContain(`"${key}"`)
    }
    expect(defaultBehaviour).toMatchObject({
      fail_every: null,
      fail_status: 500,
      retry_after_s: null,
      slow_every: null,
      slow_ms: 0,
      drop_after_chunks: null,
    })
  })
})
