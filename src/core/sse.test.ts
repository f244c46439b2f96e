import { describe, expect, it } from 'vitest'
import { sseData } from './sse.js'

async function collect(parts: string[]): Promise<string[]> {
  const encoder = new TextEncoder()
  async function* source() {
    for (const part of parts) yield encoder.encode(part)
  }
  const out: string[] = []
  for await (const data of sseData(source())) out.push(data)
  return out
}

describe('sseData', () => {
  it('reads events split anywhere across chunks', async () => {
    const text = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    for (let cut = 1; cut < text.length; cut++) {
      expect(await collect([text.slice(0, cut), text.slice(cut)])).toEqual(['{"a":1}', '{"b":2}', '[DONE]'])
    }
  })

  it('handles CRLF, comments, event lines and data without a space', async () => {
    expect(await collect([': keep-alive\r\n\r\nevent: x\r\ndata:{"a":1}\r\n\r\n'])).toEqual(['{"a":1}'])
  })

  it('joins multi-line data', async () => {
    expect(await collect(['data: a\ndata: b\n\n'])).toEqual(['a\nb'])
  })

  it('keeps a final event that lacks its blank line', async () => {
    expect(await collect(['data: one\n\ndata: two'])).toEqual(['one', 'two'])
  })

  it('decodes multi-byte characters split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo 🌍\n\n')
    async function* source() {
      for (const b of bytes) yield new Uint8Array([b])
    }
    const out: string[] = []
    for await (const data of sseData(source())) out.push(data)
    expect(out).toEqual(['héllo 🌍'])
  })
})
