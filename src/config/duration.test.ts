import { describe, expect, it } from 'vitest'
import { parseDuration } from './duration.js'

describe('parseDuration', () => {
  it('reads each unit, and a bare number as seconds', () => {
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('10m')).toBe(600_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('30d')).toBe(2_592_000_000)
    expect(parseDuration(90)).toBe(90_000)
  })

  it('rejects what it cannot read', () => {
    for (const bad of ['', '1w', 'd', '-1s', '1 day']) expect(() => parseDuration(bad)).toThrow(/duration/)
  })
})
