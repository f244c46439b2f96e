import { describe, expect, it } from 'vitest'
import {
  base64Encode,
  embeddingInputs,
  embeddingList,
  embeddingsRequestProblem,
  float32Base64,
} from './embeddings.js'

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0))
}

function decodeFloat32(base64: string): number[] {
  const binary = atob(base64)
  const view = new DataView(new ArrayBuffer(binary.length))
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i))
  return Array.from({ length: binary.length / 4 }, (_, i) => view.getFloat32(i * 4, true))
}

describe('embeddings', () => {
  it('are unit-length, 1536 floats by default, and deterministic per input', () => {
    const a = embeddingList({ model: 'e', input: ['alpha', 'beta'] })
    expect(a.data.map((d) => d.index)).toEqual([0, 1])
    const [first, second] = a.data.map((d) => d.embedding as number[])
    expect(first).toHaveLength(1536)
    expect(norm(first!)).toBeCloseTo(1, 10)
    expect(first).not.toEqual(second)
    // The same input embeds the same whatever else is in the batch.
    expect(embeddingList({ model: 'e', input: 'beta' }).data[0]!.embedding).toEqual(second)
    expect(a.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 }) // ceil(5 / 4) + ceil(4 / 4)
  })

  it('honour dimensions and token-array inputs', () => {
    const list = embeddingList({ model: 'e', input: [[1, 2, 3], [4]], dimensions: 8 })
    expect(list.data).toHaveLength(2)
    expect((list.data[0]!.embedding as number[]).length).toBe(8)
    expect(norm(list.data[1]!.embedding as number[])).toBeCloseTo(1, 10)
    expect(list.usage.prompt_tokens).toBe(4)
    expect(embeddingInputs([1, 2])).toEqual([[1, 2]])
    expect(embeddingInputs([])).toBeNull()
    expect(embeddingInputs([1, 'a'])).toBeNull()
  })

  it('encode base64 as little-endian float32 of the same vector', () => {
    const floats = embeddingList({ model: 'e', input: 'x', dimensions: 64 }).data[0]!.embedding as number[]
    const encoded = embeddingList({ model: 'e', input: 'x', dimensions: 64, encoding_format: 'base64' })
      .data[0]!.embedding as string
    const decoded = decodeFloat32(encoded)
    expect(decoded).toHaveLength(64)
    for (const [i, v] of decoded.entries()) expect(v).toBeCloseTo(floats[i]!, 6)
    expect(float32Base64([1])).toBe('AACAPw==')
  })

  it('base64 matches the platform encoder for every padding length', () => {
    for (const text of ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', '\u00ff\u0000\u0080']) {
      const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0))
      expect(base64Encode(bytes)).toBe(btoa(text))
    }
  })

  it('validate input, dimensions and encoding_format', () => {
    expect(embeddingsRequestProblem({ model: 'e', input: 'x' })).toBeNull()
    expect(embeddingsRequestProblem({ model: 'e' })?.param).toBe('input')
    expect(embeddingsRequestProblem({ model: 'e', input: 'x', dimensions: 0 })?.param).toBe('dimensions')
    expect(embeddingsRequestProblem({ model: 'e', input: 'x', encoding_format: 'hex' })?.param).toBe(
      'encoding_format',
    )
    expect(embeddingsRequestProblem({ input: 'x' }, 'deployment')).toBeNull()
  })
})
