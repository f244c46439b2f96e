import { describe, expect, it } from 'vitest'
import { type ErrorCode, GatewayError } from '../../core/errors.js'
import { anthropicError } from './errors.js'

const typeOf = (code: ErrorCode, status?: number) => {
  const res = anthropicError(new GatewayError(code, 'm', status === undefined ? {} : { status }))
  return [res.status, (JSON.parse(res.body) as { error: { type: string } }).error.type]
}

describe('anthropicError', () => {
  it("answers in Anthropic's envelope with the error's status and message", () => {
    const res = anthropicError(new GatewayError('MERIDIAN_UNAUTHORIZED', 'the gateway key is unknown'))
    expect(res).toEqual({
      status: 401,
      body: '{"type":"error","error":{"type":"authentication_error","message":"the gateway key is unknown"}}',
    })
  })

  it('adds request_id when given', () => {
    const res = anthropicError(new GatewayError('MERIDIAN_INTERNAL', 'internal gateway error'), 'req_1')
    expect(JSON.parse(res.body)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'internal gateway error' },
      request_id: 'req_1',
    })
  })

  it('maps each status to its Anthropic type', () => {
    expect(typeOf('MERIDIAN_INVALID_JSON')).toEqual([400, 'invalid_request_error'])
    expect(typeOf('MERIDIAN_INVALID_REQUEST')).toEqual([400, 'invalid_request_error'])
    expect(typeOf('MERIDIAN_UNAUTHORIZED')).toEqual([401, 'authentication_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_BAD_REQUEST', 403)).toEqual([403, 'permission_error'])
    expect(typeOf('MERIDIAN_NOT_FOUND')).toEqual([404, 'not_found_error'])
    expect(typeOf('MERIDIAN_MODEL_NOT_FOUND')).toEqual([404, 'not_found_error'])
    expect(typeOf('MERIDIAN_METHOD_NOT_ALLOWED')).toEqual([405, 'invalid_request_error'])
    expect(typeOf('MERIDIAN_BODY_TOO_LARGE')).toEqual([413, 'request_too_large'])
    expect(typeOf('MERIDIAN_UNSUPPORTED_MEDIA_TYPE')).toEqual([415, 'invalid_request_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_BAD_REQUEST', 422)).toEqual([422, 'invalid_request_error'])
    expect(typeOf('MERIDIAN_RATE_LIMITED')).toEqual([429, 'rate_limit_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_RATE_LIMITED')).toEqual([429, 'rate_limit_error'])
    expect(typeOf('MERIDIAN_INTERNAL')).toEqual([500, 'api_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_ERROR')).toEqual([502, 'api_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_AUTH')).toEqual([502, 'api_error'])
    expect(typeOf('MERIDIAN_NOT_READY')).toEqual([503, 'overloaded_error'])
    expect(typeOf('MERIDIAN_LIMITS_UNAVAILABLE')).toEqual([503, 'overloaded_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_TIMEOUT')).toEqual([504, 'timeout_error'])
    expect(typeOf('MERIDIAN_UPSTREAM_ERROR', 529)).toEqual([529, 'overloaded_error'])
  })
})
