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
    expect(Object.keys(defaultBehaviour)).toHaveLength(8)
  })
})
