// Deterministic embeddings for the simulated upstream: request checks, unit vectors per input, and OpenAI's
// base64 float32 encoding. Pure and runtime-agnostic: no node:*, no Buffer, no btoa.

import { estimateTokens, fnv1a64, Prng } from './hash.js'
import { type EmbeddingList, isObject, isPositiveInt, type JsonObject, type RequestProblem } from './wire.js'

/** One input to embed: a string or an array of token ids. */
export type EmbeddingInput = string | number[]

export const DEFAULT_EMBEDDING_DIMENSIONS = 1536

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t))
}

/** OpenAI's four input forms (string, strings, tokens, token arrays) as a list; null when malformed. */
export function embeddingInputs(input: unknown): EmbeddingInput[] | null {
  if (typeof input === 'string') return [input]
  if (!Array.isArray(input) || input.length === 0) return null
  if (input.every((item) => typeof item === 'string')) return input as string[]
  if (isTokenArray(input)) return [input]
  if (input.every(isTokenArray)) return input as number[][]
  return null
}

export function embeddingsRequestProblem(body: unknown, model?: string): RequestProblem | null {
  if (!isObject(body)) return { message: 'The request body must be a JSON object.', param: null }
  if (model === undefined && (typeof body.model !== 'string' || body.model === '')) {
    return { message: 'you must provide a model parameter', param: 'model' }
  }
  if (embeddingInputs(body.input) === null) {
    return {
      message: "Invalid 'input': expected a string, an array of strings or of token arrays.",
      param: 'input',
    }
  }
  const dimensions = body.dimensions
  if (
    dimensions !== undefined &&
    dimensions !== null &&
    (!isPositiveInt(dimensions) || dimensions > 16_384)
  ) {
    return { message: "Invalid 'dimensions': expected an integer between 1 and 16384.", param: 'dimensions' }
  }
  const format = body.encoding_format
  if (format !== undefined && format !== null && format !== 'float' && format !== 'base64') {
    return { message: "Invalid 'encoding_format': expected 'float' or 'base64'.", param: 'encoding_format' }
  }
  return null
}

/**
 * A deterministic unit-length vector for one input: the same model and input give the same vector whatever
 * else is in the batch, so cached and fresh embeddings agree.
 */
export function embeddingVector(model: string, input: EmbeddingInput, dimensions: number): Float64Array {
  const key = typeof input === 'string' ? `s:${input}` : `t:${input.join(',')}`
  const rng = new Prng(fnv1a64(`${model}\u0000${key}`))
  const vector = new Float64Array(dimensions)
  let norm = 0
  for (let i = 0; i < dimensions; i++) {
    const value = rng.unit() * 2 - 1
    vector[i] = value
    norm += value * value
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0
  for (let i = 0; i < dimensions; i++) vector[i]! *= scale
  return vector
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 with padding, without Buffer or btoa. */
export function base64Encode(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + BASE64[(n >>> 6) & 63]! + BASE64[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + '=='
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + BASE64[(n >>> 6) & 63]! + '='
  }
  return out
}

/** OpenAI's `encoding_format: "base64"`: the vector as little-endian float32, base64-encoded. */
export function float32Base64(vector: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4))
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true)
  return base64Encode(new Uint8Array(view.buffer))
}

/**
 * Answers an embeddings request (validate it with `embeddingsRequestProblem` first).
 * Usage: ceil(chars / 4) per string input, one token per id of a token array.
 */
export function embeddingList(body: JsonObject, options: { model?: string } = {}): EmbeddingList {
  const model = options.model ?? String(body.model)
  const inputs = embeddingInputs(body.input) ?? []
  const dimensions = isPositiveInt(body.dimensions) ? body.dimensions : DEFAULT_EMBEDDING_DIMENSIONS
  const base64 = body.encoding_format === 'base64'
  let tokens = 0
  const data = inputs.map((input, index) => {
    tokens += typeof input === 'string' ? estimateTokens(input) : input.length
    const vector = embeddingVector(model, input, dimensions)
    const embedding = base64 ? float32Base64(vector) : Array.from(vector)
    return { object: 'embedding' as const, index, embedding }
  })
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }
}
