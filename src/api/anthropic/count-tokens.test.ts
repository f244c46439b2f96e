import { describe, expect, it } from 'vitest'
import { estimateTextTokens } from '../../limits/estimate.js'
import { countTokens } from './count-tokens.js'
import { countTokensRequestSchema } from './schemas.js'

type Json = Record<string, unknown>

const count = (fields: Json) =>
  countTokens(
    countTokensRequestSchema.parse({
      model: 'claude-x',
      messages: [{ role: 'user', content: 'hi' }],
      ...fields,
    }),
  ).input_tokens

const user = (content: unknown) => ({ messages: [{ role: 'user', content }] })

describe('countTokens', () => {
  it('counts message text plus four tokens of framing per message', () => {
    expect(count(user('Hello, world'))).toBe(4 + 3)
    expect(
      count({
        messages: [
          { role: 'user', content: 'Hello, world' },
          { role: 'assistant', content: [{ type: 'text', text: 'Hi there' }] },
        ],
      }),
    ).toBe(4 + 3 + 4 + 2)
  })

  it('counts the system prompt, a string or text blocks', () => {
    const base = count({})
    expect(count({ system: 'Be brief and kind.' })).toBe(base + estimateTextTokens('Be brief and kind.'))
    expect(
      count({
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: 'Be kind.' },
        ],
      }),
    ).toBe(base + estimateTextTokens('Be brief.') + estimateTextTokens('Be kind.'))
  })

  it('counts an image as 1,600 tokens and a PDF as 1,500', () => {
    const png = { type: 'base64', media_type: 'image/png', data: 'AAAA' }
    const pdf = { type: 'base64', media_type: 'application/pdf', data: 'JVBE' }
    expect(count(user([{ type: 'image', source: png }]))).toBe(4 + 1600)
    expect(count(user([{ type: 'document', source: pdf }]))).toBe(4 + 1500)
    expect(
      count(
        user([{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'abcdefgh' } }]),
      ),
    ).toBe(4 + 2)
  })

  it('counts tool calls, tool results (nested) and thinking', () => {
    expect(count(user([{ type: 'tool_result', tool_use_id: 't', content: 'abcd' }]))).toBe(4 + 1)
    expect(
      count(user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'abcdefgh' }] }])),
    ).toBe(4 + 2)
    const use = { type: 'tool_use', id: 't', name: 'weather', input: { city: 'Oslo' } }
    expect(count({ messages: [{ role: 'assistant', content: [use] }] })).toBe(
      4 + estimateTextTokens('weather{"city":"Oslo"}'),
    )
    expect(
      count({ messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'abcd' }] }] }),
    ).toBe(5)
  })

  it('counts an unknown block by its JSON text', () => {
    const block = { type: 'search_result', title: 'T', content: [] }
    expect(count(user([block]))).toBe(4 + estimateTextTokens(JSON.stringify(block)))
  })

  it('counts tools as their JSON text', () => {
    const tools = [{ name: 'weather', input_schema: { type: 'object' } }]
    expect(count({ tools })).toBe(count({}) + estimateTextTokens(JSON.stringify(tools)))
    expect(count({ tools: [] })).toBe(count({}))
  })

  it('counts non-ASCII text one token per character', () => {
    expect(count(user('日本語'))).toBe(4 + 3)
  })
})
