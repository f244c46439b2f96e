import { describe, expect, it } from 'vitest'
import { mapAnthropicError, mapStreamError } from './errors.js'

const body = (type: string, message: string) =>
  JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' })
const none = () => undefined

describe('anthropic error mapping', () => {
  it('529 overloaded → 503, retryable, Anthropic message kept', () => {
    const error = mapAnthropicError('claude', 529, body('overloaded_error', 'Overloaded'), none)
    expect(error).toMatchObject({ code: 'MERIDIAN_UPSTREAM_ERROR', status: 503, retryable: true })
    expect(error.message).toBe('upstream claude is overloaded (529): Overloaded')
    expect(error.headers).toBeUndefined()
  })

  it('429 rate_limit_error keeps Retry-After', () => {
    const error = mapAnthropicError('claude', 429, body('rate_limit_error', 'Slow down'), (h) =>
      h === 'retry-after' ? '12' : undefined,
    )
    expect(error).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_RATE_LIMITED',
      status: 429,
      retryable: true,
      headers: { 'retry-after': '12' },
    })
    expect(error.message).toContain('Slow down')
  })

  it('401 authentication_error is the gateway’s problem: 502 MERIDIAN_UPSTREAM_AUTH', () => {
    expect(
      mapAnthropicError('claude', 401, body('authentication_error', 'invalid x-api-key'), none),
    ).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_AUTH',
      status: 502,
      retryable: false,
    })
  })

  it('400 invalid_request_error → 400 with Anthropic’s message', () => {
    const message = 'messages.1.content.0.tool_result: unexpected `tool_use_id` found in `tool_result` blocks'
    const error = mapAnthropicError('claude', 400, body('invalid_request_error', message), none)
    expect(error).toMatchObject({ code: 'MERIDIAN_UPSTREAM_BAD_REQUEST', status: 400, retryable: false })
    expect(error.message).toBe(message)
  })

  it('500 api_error → 502, retryable', () => {
    expect(mapAnthropicError('claude', 500, body('api_error', 'Internal server error'), none)).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_ERROR',
      status: 502,
      retryable: true,
    })
  })

  it('stream error events map by their type', () => {
    expect(mapStreamError('claude', body('overloaded_error', 'Overloaded'))).toMatchObject({ status: 503 })
    expect(mapStreamError('claude', body('api_error', 'boom'))).toMatchObject({ status: 502 })
    expect(mapStreamError('claude', body('invalid_request_error', 'bad'))).toMatchObject({ status: 400 })
    expect(mapStreamError('claude', body('constructor', 'odd'))).toMatchObject({ status: 502 })
    expect(mapStreamError('claude', 'not json')).toMatchObject({ status: 502 })
  })
})
