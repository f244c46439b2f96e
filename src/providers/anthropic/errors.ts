import { GatewayError } from '../../core/errors.js'
import { mapUpstreamStatus, upstreamMessage } from '../http-errors.js'

/** Anthropic's HTTP status for each error `type`, for errors that arrive inside a stream (with no status). */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
}

/**
 * An Anthropic error response (`{"type":"error","error":{"type","message"},"request_id"}`) → what the client
 * sees. Overload (529, `overloaded_error`) is Anthropic being busy for everyone, not a fault of the request
 * or of the gateway: a retryable 503, so the router may try another target. Everything else maps as it does
 * for every provider (mapUpstreamStatus): 429 keeps Retry-After, 401/403 are the gateway's credentials (502),
 * other 4xx are the client's with Anthropic's message.
 *
 * @example mapAnthropicError('claude', 529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', () => undefined)
 * // GatewayError MERIDIAN_UPSTREAM_ERROR, status 503, retryable
 */
export function mapAnthropicError(
  providerId: string,
  status: number,
  text: string,
  header: (name: string) => string | undefined,
): GatewayError {
  if (status === 529 || errorType(text) === 'overloaded_error') {
    const retryAfter = header('retry-after')
    return new GatewayError(
      'MERIDIAN_UPSTREAM_ERROR',
      `upstream ${providerId} is overloaded (${status}): ${upstreamMessage(text).message}`,
      { status: 503, headers: retryAfter ? { 'retry-after': retryAfter } : undefined },
    )
  }
  return mapUpstreamStatus(providerId, status, text, header)
}

/**
 * An `error` event inside a stream (`data: {"type":"error","error":{…}}`): mapped as the HTTP status its type
 * stands for would be. An unknown type counts as a server error.
 */
export function mapStreamError(providerId: string, data: string): GatewayError {
  const type = errorType(data)
  const status = type !== undefined && Object.hasOwn(STATUS_BY_TYPE, type) ? STATUS_BY_TYPE[type]! : 500
  return mapAnthropicError(providerId, status, data, () => undefined)
}

function errorType(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { type?: unknown } }
    return typeof body?.error?.type === 'string' ? body.error.type : undefined
  } catch {
    return undefined
  }
}
