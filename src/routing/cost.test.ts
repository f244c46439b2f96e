import { describe, expect, it } from 'vitest'
import { costOf, usageOf } from './cost.js'

describe('usageOf', () => {
  it("reads a completion's usage, cached prompt tokens included", () => {
    const body = JSON.stringify({
      choices: [{ message: { content: 'the "usage" word in an answer' } }],
      usage: {
        prompt_tokens: 1200,
        completion_tokens: 300,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 1000 },
      },
    })
    expect(usageOf(body)).toEqual({ prompt: 1200, completion: 300, cached: 1000, written: 0 })
  })

  it("reads Anthropic's cache writes", () => {
    const body =
      '{"usage":{"prompt_tokens":1500,"completion_tokens":10,"total_tokens":1510,' +
      '"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":400}}}'
    expect(usageOf(body)).toEqual({ prompt: 1500, completion: 10, cached: 1000, written: 400 })
  })

  it('reads an embeddings answer, which has no completion tokens', () => {
    expect(usageOf('{"data":[],"usage":{"prompt_tokens":7,"total_tokens":7}}')).toEqual({
      prompt: 7,
      completion: 0,
      cached: 0,
      written: 0,
    })
  })

  it('is undefined without usage, or with a null one', () => {
    expect(usageOf('{"choices":[]}')).toBeUndefined()
    expect(usageOf('{"choices":[],"usage":null}')).toBeUndefined()
  })
})

describe('costOf', () => {
  it('prices prompt, cached prompt and completion tokens per million', () => {
    const price = { input: 3, output: 15, cached_input: 0.3 }
    expect(costOf(price, { prompt: 1200, completion: 300, cached: 1000, written: 0 })).toBeCloseTo(
      (200 * 3 + 1000 * 0.3 + 300 * 15) / 1e6,
      12,
    )
    // Without a cached rate, cached tokens cost what other prompt tokens do.
    expect(costOf({ input: 1, output: 2 }, { prompt: 10, completion: 5, cached: 4, written: 0 })).toBeCloseTo(
      20 / 1e6,
      12,
    )
    // Anthropic's cache writes are part of the prompt and cost their own (higher) rate.
    const anthropic = { input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 }
    expect(costOf(anthropic, { prompt: 1500, completion: 10, cached: 1000, written: 400 })).toBeCloseTo(
      (100 * 3 + 1000 * 0.3 + 400 * 3.75 + 10 * 15) / 1e6,
      12,
    )
    expect(costOf(undefined, { prompt: 1, completion: 1, cached: 0, written: 0 })).toBeUndefined()
  })
})
