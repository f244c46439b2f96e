import { describe, expect, it } from 'vitest'
import { createScrubber } from './scrub.js'

describe('createScrubber', () => {
  it('removes every occurrence of every secret', () => {
    const scrub = createScrubber(['sk-abcdef123', 'key-999999'])
    expect(scrub('got sk-abcdef123 and key-999999, again sk-abcdef123')).toBe(
      'got [REDACTED] and [REDACTED], again [REDACTED]',
    )
  })

  it('removes a longer secret whole when it contains a shorter one', () => {
    const scrub = createScrubber(['secret1', 'secret1-extended'])
    expect(scrub('x secret1-extended y')).toBe('x [REDACTED] y')
  })

  it('leaves text alone when there are no secrets', () => {
    expect(createScrubber([])('nothing to hide')).toBe('nothing to hide')
  })
})
