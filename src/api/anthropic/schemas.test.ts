import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { GatewayError } from '../../core/errors.js'
import { validate } from '../openai/body.js'
import { anthropicError } from './errors.js'
import { countTokensRequestSchema, messagesRequestSchema } from './schemas.js'

const valid = { model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }

/** What a client receives for this body: status and Anthropic error body, or 'ok'. */
function answer(
  body: unknown,
  schema: z.ZodType = messagesRequestSchema,
): 'ok' | { status: number; body: unknown } {
  try {
    validate(schema, body)
    return 'ok'
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err
    const res = anthropicError(err)
    return { status: res.status, body: JSON.parse(res.body) }
  }
}

function rejects(body: unknown, field: string, schema: z.ZodType = messagesRequestSchema): void {
  const res = answer(body, schema)
  expect(res).not.toBe('ok')
  if (res === 'ok') return
  expect(res.status).toBe(400)
  expect(res.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  const message = (res.body as { error: { message: string } }).error.message
  expect(message.startsWith(`${field}: `), message).toBe(true)
}

describe('messagesRequestSchema', () => {
  it('accepts a minimal request and keeps unknown fields', () => {
    expect(answer(valid)).toBe('ok')
    expect(answer({ ...valid, service_tier: 'auto', top_k: 3, thinking: { type: 'enabled' } })).toBe('ok')
  })

  it('requires model, non-empty messages and a positive integer max_tokens', () => {
    rejects({ ...valid, model: undefined }, 'model')
    rejects({ ...valid, model: '' }, 'model')
    rejects({ ...valid, messages: [] }, 'messages')
    rejects({ ...valid, max_tokens: undefined }, 'max_tokens')
    rejects({ ...valid, max_tokens: 0 }, 'max_tokens')
    rejects({ ...valid, max_tokens: 1.5 }, 'max_tokens')
  })

  it('checks roles, content and the documented ranges', () => {
    rejects({ ...valid, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role')
    rejects({ ...valid, messages: [{ role: 'user', content: 3 }] }, 'messages[0].content')
    rejects({ ...valid, temperature: 1.5 }, 'temperature')
    rejects({ ...valid, top_p: -0.1 }, 'top_p')
    rejects({ ...valid, stop_sequences: 'END' }, 'stop_sequences')
    rejects({ ...valid, system: [{ type: 'text' }] }, 'system')
  })

  it('checks a known block by its type, naming the field, and lets an unknown type pass', () => {
    const content = (block: unknown) => ({ ...valid, messages: [{ role: 'user', content: [block] }] })
    rejects(content({ type: 'text' }), 'messages[0].content[0].text')
    rejects(
      content({ type: 'image', source: { type: 'base64', media_type: 'image/png' } }),
      'messages[0].content[0].source.data',
    )
    rejects(content({ type: 'tool_result' }), 'messages[0].content[0].tool_use_id')
    rejects(
      content({ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 1 }] }),
      'messages[0].content[0].content[0].text',
    )
    rejects(content({ type: 'tool_use', id: 't', name: 'f', input: 'x' }), 'messages[0].content[0].input')
    // A block without a type matches neither form of content: the union names the content.
    rejects(content({ foo: 1 }), 'messages[0].content')
    expect(answer(content({ type: 'search_result', anything: true }))).toBe('ok')
    expect(answer(content({ type: 'image', source: { type: 'file', file_id: 'f' } }))).toBe('ok')
  })

  it('requires an input_schema of a client tool, not of a server tool', () => {
    rejects({ ...valid, tools: [{ name: 'f' }] }, 'tools[0].input_schema')
    rejects({ ...valid, tools: [{ type: 'custom', name: 'f' }] }, 'tools[0].input_schema')
    rejects({ ...valid, tools: [{ input_schema: {} }] }, 'tools[0].name')
    expect(answer({ ...valid, tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toBe('ok')
  })

  it('requires the name of a forced tool', () => {
    rejects({ ...valid, tool_choice: { type: 'tool' } }, 'tool_choice.name')
    rejects({ ...valid, tool_choice: { type: 'required' } }, 'tool_choice.type')
    expect(answer({ ...valid, tool_choice: { type: 'tool', name: 'f' } })).toBe('ok')
  })
})

describe('countTokensRequestSchema', () => {
  it('needs no max_tokens but model and messages', () => {
    const { max_tokens: _, ...body } = valid
    expect(answer(body, countTokensRequestSchema)).toBe('ok')
    rejects({ ...body, messages: [] }, 'messages', countTokensRequestSchema)
  })
})
