import { describe, expect, it } from 'vitest'
import { SseParser } from './sse.js'

const encoder = new TextEncoder()

function parse(parts: string[]): string[] {
  const parser = new SseParser()
  return [...parts.flatMap((part) => parser.push(encoder.encode(part))), ...parser.end()]
}

describe('SseParser', () => {
  it('reads events split anywhere across reads', () => {
    const text = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    for (let cut = 1; cut < text.length; cut++) {
      expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(['{"a":1}', '{"b":2}', '[DONE]'])
    }
  })

  it('handles CRLF, comments, event lines and data without a space', () => {
    expect(parse([': keep-alive\r\n\r\nevent: x\r\ndata:{"a":1}\r\n\r\n'])).toEqual(['{"a":1}'])
  })

  it('joins multi-line data', () => {
    expect(parse(['data: a\ndata: b\n\n'])).toEqual(['a\nb'])
  })

  it('keeps a final event that lacks its blank line', () => {
    expect(parse(['data: one\n\ndata: two'])).toEqual(['one', 'two'])
    expect(parse(['data: one\r\n\r\ndata: two\r'])).toEqual(['one', 'two'])
  })

  it('decodes multi-byte characters split between reads', () => {
    const bytes = encoder.encode('data: héllo 🌍\n\n')
    const parser = new SseParser()
    const out = [...bytes].flatMap((b) => parser.push(new Uint8Array([b])))
    expect(out).toEqual(['héllo 🌍'])
  })
})
