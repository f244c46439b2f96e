import type { Price } from './catalog.js'

/** The tokens an answer used, as its provider reported them. */
export interface Usage {
  prompt: number
  completion: number
  /** Prompt tokens read from the provider's prompt cache (part of `prompt`). */
  cached: number
  /** Prompt tokens written to the provider's prompt cache (part of `prompt`; Anthropic charges extra for them). */
  written: number
}

const PROMPT = /"prompt_tokens"\s*:\s*(\d+)/
const COMPLETION = /"completion_tokens"\s*:\s*(\d+)/
const CACHED = /"cached_tokens"\s*:\s*(\d+)/
const WRITTEN = /"cache_write_tokens"\s*:\s*(\d+)/

/**
 * The `usage` of an OpenAI chat completion, a stream's final chunk or an embeddings answer, read from the body's tail (usage comes
 * last) without parsing the whole body; undefined when it reports none.
 *
 * @example usageOf('{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}')
 * // { prompt: 9, completion: 3, cached: 0, written: 0 }
 */
export function usageOf(json: string): Usage | undefined {
  const at = json.lastIndexOf('"usage"')
  if (at === -1) return undefined
  const tail = json.slice(at)
  const prompt = PROMPT.exec(tail)
  const completion = COMPLETION.exec(tail)
  // Embeddings report prompt tokens alone: they produced no completion.
  if (prompt === null) return undefined
  const cached = CACHED.exec(tail)
  const written = WRITTEN.exec(tail)
  return {
    prompt: Number(prompt[1]),
    completion: completion === null ? 0 : Number(completion[1]),
    cached: cached ? Number(cached[1]) : 0,
    written: written ? Number(written[1]) : 0,
  }
}

/** What `usage` costs at `price`, in USD; undefined without a price. */
export function costOf(price: Price | undefined, usage: Usage): number | undefined {
  if (price === undefined) return undefined
  const cached = Math.min(usage.cached, usage.prompt)
  const written = Math.min(usage.written, usage.prompt - cached)
  const perMillion =
    (usage.prompt - cached - written) * price.input +
    cached * (price.cached_input ?? price.input) +
    written * (price.cache_write ?? price.input) +
    usage.completion * price.output
  return perMillion / 1e6
}
