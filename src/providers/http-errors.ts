import { GatewayError } from '../core/errors.js'

/** The message an upstream put in its error body: OpenAI's envelope, a bare `message`, or the text itself. */
export function upstreamMessage(text: string): { message: string; param: string | null } {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown }
    const error = (Array.isArray(body) ? body[0]?.error : body.error) as
      | { message?: unknown; param?: unknown }
      | string
    if (typeof error === 'string') return { message: error, param: null }
    if (error && typeof error.message === 'string') {
      return { message: error.message, param: typeof error.param === 'string' ? error.param : null }
    }
    if (typeof body.message === 'string') return { message: body.message, param: null }
  } catch {
    // not JSON: fall through to the text itself
  }
  const trimmed = text.trim()
  return {
    message: trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed || '(empty body)',
    param: null,
  }
}

/**
 * Maps an upstream HTTP error to what the client sees, the same way for every provider:
 * 429 stays 429 with Retry-After; 5xx becomes 502 naming the upstream status; the upstream refusing the
 * gateway's credentials is the gateway's problem (502), not the client's (401); other 4xx are the client's.
 */
export function mapUpstreamStatus(
  providerId: string,
  status: number,
  text: string,
  header: (name: string) => string | undefined,
): GatewayError {
  const { message, param } = upstreamMessage(text)
  if (status === 429) {
    const retryAfter = header('retry-after')
    return new GatewayError(
      'MERIDIAN_UPSTREAM_RATE_LIMITED',
      `upstream ${providerId} is rate limiting: ${message}`,
      {
        headers: retryAfter ? { 'retry-after': retryAfter } : undefined,
      },
    )
  }
  if (status === 401 || status === 403) {
    return new GatewayError(
      'MERIDIAN_UPSTREAM_AUTH',
      `upstream ${providerId} refused the gateway's credentials (${status}): ${message}`,
    )
  }
  if (status === 408) {
    return new GatewayError('MERIDIAN_UPSTREAM_TIMEOUT', `upstream ${providerId} timed out (408): ${message}`)
  }
  if (status === 409) {
    // A conflict (OpenAI: "the request conflicted with another"): worth retrying, and 409 if it persists.
    return new GatewayError('MERIDIAN_UPSTREAM_ERROR', `upstream ${providerId} returned 409: ${message}`, {
      status: 409,
    })
  }
  if (status >= 400 && status < 500) {
    return new GatewayError('MERIDIAN_UPSTREAM_BAD_REQUEST', message, { status, param })
  }
  // A 503's Retry-After tells the router how long to wait before trying the target again.
  const retryAfter = header('retry-after')
  return new GatewayError(
    'MERIDIAN_UPSTREAM_ERROR',
    `upstream ${providerId} returned ${status}: ${message}`,
    {
      headers: retryAfter ? { 'retry-after': retryAfter } : undefined,
    },
  )
}
