import type { GatewayError } from '../../core/errors.js'

/** Anthropic's error types (`error.type`), as its API reference lists them. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error'

const BY_STATUS: Record<number, AnthropicErrorType> = {
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

/**
 * The Anthropic error type for a Meridian error, from its status: Anthropic uses `invalid_request_error` for
 * any 4xx it does not name, `api_error` for a 5xx. 503 (not ready, limits store down) is `overloaded_error`,
 * Anthropic's "come back soon"; a gateway timeout (504) is `timeout_error`.
 */
export function anthropicErrorType(err: GatewayError): AnthropicErrorType {
  const type = BY_STATUS[err.status]
  if (type !== undefined) return type
  return err.status >= 400 && err.status < 500 ? 'invalid_request_error' : 'api_error'
}

/**
 * A Meridian error in Anthropic's shape, `{"type":"error","error":{"type","message"}}`, with the same status
 * (the SDKs retry on it as they would on Anthropic's: 408, 409, 429, 5xx). A validation error's message names
 * the field (`messages: Too small: …`): Anthropic's envelope has no `param`. `err.headers` (Retry-After) still
 * belong on the response; `requestId` becomes the envelope's `request_id` when given.
 *
 * @example anthropicError(new GatewayError('MERIDIAN_UNAUTHORIZED', 'bad key'))
 * // { status: 401, body: '{"type":"error","error":{"type":"authentication_error","message":"bad key"}}' }
 */
export function anthropicError(err: GatewayError, requestId?: string): { status: number; body: string } {
  const body: Record<string, unknown> = {
    type: 'error',
    error: { type: anthropicErrorType(err), message: err.message },
  }
  if (requestId !== undefined) body.request_id = requestId
  return { status: err.status, body: JSON.stringify(body) }
}
