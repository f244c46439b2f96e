/*
 * The shipped model catalog: what Meridian knows about the major providers' models without being told.
 * Prices are the providers' published list prices in USD per million tokens (standard tier, prompts under any
 * long-context surcharge), as of 2025-11; output caps are the documented longest answer. They change, so
 * `models[].price`, `models[].bucket` and `models[].max_output_tokens` in the config override them. Add a model
 * here with its bucket, cap and price; nothing else needs to change.
 */

export const BUCKETS = ['small', 'medium', 'large', 'frontier', 'code', 'reasoning', 'long-context'] as const

/** A capability bucket: models in one bucket can stand in for each other. */
export type Bucket = (typeof BUCKETS)[number]

/** USD per million tokens. */
export interface Price {
  input: number
  output: number
  /** Input read from a provider's prompt cache. */
  cached_input?: number
  /** Input written to a provider's prompt cache (Anthropic charges for it). */
  cache_write?: number
}

export interface ModelFacts {
  bucket: Bucket
  price: Price
  /** The most output tokens one answer may have (what a budget reserves when a request sets no max_tokens). */
  maxOutput: number
}

const m = (
  bucket: Bucket,
  maxOutput: number,
  input: number,
  output: number,
  cached_input?: number,
  cache_write?: number,
): ModelFacts => ({
  bucket,
  maxOutput,
  price: {
    input,
    output,
    ...(cached_input === undefined ? {} : { cached_input }),
    ...(cache_write === undefined ? {} : { cache_write }),
  },
})

const K = 1024

export const MODEL_CATALOG: Readonly<Record<string, ModelFacts>> = {
  // OpenAI
  'gpt-5': m('frontier', 128_000, 1.25, 10, 0.125),
  'gpt-5-mini': m('medium', 128_000, 0.25, 2, 0.025),
  'gpt-5-nano': m('small', 128_000, 0.05, 0.4, 0.005),
  'gpt-4.1': m('large', 32 * K, 2, 8, 0.5),
  'gpt-4.1-mini': m('small', 32 * K, 0.4, 1.6, 0.1),
  'gpt-4.1-nano': m('small', 32 * K, 0.1, 0.4, 0.025),
  'gpt-4o': m('large', 16 * K, 2.5, 10, 1.25),
  'gpt-4o-mini': m('small', 16 * K, 0.15, 0.6, 0.075),
  o3: m('reasoning', 100_000, 2, 8, 0.5),
  'o3-mini': m('reasoning', 100_000, 1.1, 4.4, 0.55),
  'o4-mini': m('reasoning', 100_000, 1.1, 4.4, 0.275),
  // Anthropic (cache writes at the 5-minute rate)
  'claude-opus-4-1': m('frontier', 32_000, 15, 75, 1.5, 18.75),
  'claude-opus-4': m('frontier', 32_000, 15, 75, 1.5, 18.75),
  'claude-sonnet-4-5': m('large', 64_000, 3, 15, 0.3, 3.75),
  'claude-sonnet-4': m('large', 64_000, 3, 15, 0.3, 3.75),
  'claude-3-7-sonnet': m('large', 64_000, 3, 15, 0.3, 3.75),
  'claude-3-5-sonnet': m('large', 8 * K, 3, 15, 0.3, 3.75),
  'claude-haiku-4-5': m('medium', 64_000, 1, 5, 0.1, 1.25),
  'claude-3-5-haiku': m('small', 8 * K, 0.8, 4, 0.08, 1),
  // Google
  'gemini-2.5-pro': m('frontier', 64 * K, 1.25, 10, 0.31),
  'gemini-2.5-flash': m('medium', 64 * K, 0.3, 2.5, 0.075),
  'gemini-2.5-flash-lite': m('small', 64 * K, 0.1, 0.4, 0.025),
  'gemini-2.0-flash': m('small', 8 * K, 0.1, 0.4, 0.025),
  'gemini-1.5-pro': m('long-context', 8 * K, 1.25, 5, 0.3125),
  // DeepSeek
  'deepseek-chat': m('medium', 8 * K, 0.28, 0.42, 0.028),
  'deepseek-reasoner': m('reasoning', 64 * K, 0.28, 0.42, 0.028),
  // Mistral
  'mistral-small-latest': m('small', 32 * K, 0.1, 0.3),
  'mistral-medium-latest': m('medium', 32 * K, 0.4, 2),
  'mistral-large-latest': m('large', 32 * K, 2, 6),
  'codestral-latest': m('code', 32 * K, 0.3, 0.9),
  // Open-weight models as Groq, Together and Fireworks serve them
  'llama-3.1-8b-instant': m('small', 128 * K, 0.05, 0.08),
  'llama-3.3-70b-versatile': m('medium', 32 * K, 0.59, 0.79),
  'llama-3.3-70b': m('medium', 32 * K, 0.88, 0.88),
  'llama-v3p1-8b-instruct': m('small', 128 * K, 0.2, 0.2),
}

/** Embedding models: USD per million input tokens (they have no output and no bucket). */
export const EMBEDDING_PRICES: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 0.02,
  'text-embedding-3-large': 0.13,
  'text-embedding-ada-002': 0.1,
  'gemini-embedding-001': 0.15,
  'text-embedding-004': 0.1,
  'mistral-embed': 0.1,
}
