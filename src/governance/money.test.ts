import { describe, expect, it } from 'vitest'
import { costNanos, formatUsd, maxCostNanos, promptCacheSavedNanos, toNanos } from './money.js'

describe('money', () => {
  it('formats nano-USD as USD without float noise', () => {
    expect(formatUsd(0)).toBe('0')
    expect(formatUsd(123)).toBe('0.000000123')
    expect(formatUsd(5_000_000_000)).toBe('5')
    expect(formatUsd(1_234_500_000)).toBe('1.2345')
    expect(formatUsd(toNanos(0.1 + 0.2))).toBe('0.3')
  })

  it('prices usage in integer nano-USD', () => {
    const price = { input: 0.15, output: 0.6 }
    expect(costNanos(price, { prompt: 1000, completion: 500, cached: 0, written: 0 })).toBe(450_000)
    expect(costNanos(undefined, { prompt: 1, completion: 1, cached: 0, written: 0 })).toBeUndefined()
  })

  it("counts what a provider's prompt cache saved, less the write premium", () => {
    const price = { input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 }
    expect(promptCacheSavedNanos(price, { prompt: 1000, completion: 0, cached: 1000, written: 0 })).toBe(
      2_700_000,
    )
    expect(promptCacheSavedNanos(price, { prompt: 1000, completion: 0, cached: 0, written: 1000 })).toBe(
      -750_000,
    )
    expect(
      promptCacheSavedNanos({ input: 1, output: 1 }, { prompt: 9, completion: 0, cached: 0, written: 0 }),
    ).toBe(0)
  })

  it('bounds a request from above: every prompt token at the dearest input rate, the whole answer', () => {
    expect(maxCostNanos({ input: 1, output: 2 }, 1000, 500)).toBe(2000 * 1000)
    // Anthropic's cache writes cost more than input: the bound uses them.
    expect(maxCostNanos({ input: 3, output: 15, cache_write: 3.75 }, 1_000_000, 0)).toBe(3.75e9)
  })
})
