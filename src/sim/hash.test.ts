import { describe, expect, it } from 'vitest'
import { fnv1a64 } from './hash.js'

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64('')).toEqual({ hi: 0xcbf29ce4, lo: 0x84222325 })
    expect(fnv1a64('a')).toEqual({ hi: 0xaf63dc4c, lo: 0x8601ec8c })
    expect(fnv1a64('foobar')).toEqual({ hi: 0x85944171, lo: 0xf73967e8 })
  })
})
