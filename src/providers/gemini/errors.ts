import { GatewayError } from '../../core/errors.js'
import { mapUpstreamStatus } from '../http-errors.js'

/** Google's error envelope, `{error: {code, message, status, details}}` (a stream may wrap it in an array). */
interface GoogleError {
  code?: number
  message?: string
  status?: string
  details?: { '@type'?: string; reason?: string; retryDelay?: string }[]
}

function googleError(text: string): GoogleError | undefined {
  try {
    const body = JSON.parse(text) as unknown
    const envelope = (Array.isArray(body) ? body[0] : body) as { error?: unknown } | null
    const error = envelope?.error
    return typeof error === 'object' && error !== null ? (error as GoogleError) : undefined
  } catch {
    return undefined
  }
}

/**
 * Maps a Gemini error response the way every provider's is mapped (mapUpstreamStatus: 429 keeps its wait,
 * 401/403 are the gateway's credentials, other 4xx the client's request, 5xx a retryable 502), with what
 * Google's envelope adds:
 * - an invalid or expired API key comes as 400 INVALID_ARGUMENT with an `API_KEY_*` reason: it is the
 *   gateway's key, so MERIDIAN_UPSTREAM_AUTH (502), not the client's 400;
 * - 400 FAILED_PRECONDITION (the API is not available in the gateway's region, billing not enabled) is the
 *   deployment's problem too: a 502 another target may not have;
 * - a 429 without Retry-After takes its wait from the RetryInfo detail (`"retryDelay": "37.5s"`), which is
 *   where Google puts it.
 *
 * @example mapGeminiError('g', 429, '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}', () => '7')
 */
export function mapGeminiError(
  providerId: string,
  status: number,
  text: string,
  header: (name: string) => string | undefined,
): GatewayError {
  const error = googleError(text)
  const details = Array.isArray(error?.details) ? error.details : []
  const message = error?.message ?? ''
  if (details.some((d) => typeof d?.reason === 'string' && d.reason.startsWith('API_KEY_'))) {
    return new GatewayError(
      'MERIDIAN_UPSTREAM_AUTH',
      `upstream ${providerId} refused the gateway's credentials (${status}): ${message}`,
    )
  }
  if (status === 400 && error?.status === 'FAILED_PRECONDITION') {
    return new GatewayError(
      'MERIDIAN_UPSTREAM_ERROR',
      `upstream ${providerId} cannot serve this request: ${message}`,
    )
  }
  if (status === 429 && header('retry-after') === undefined) {
    const delay = details.find((d) => typeof d?.retryDelay === 'string')?.retryDelay
    const seconds = delay ? Number.parseFloat(delay) : Number.NaN
    if (Number.isFinite(seconds) && seconds >= 0) {
      const retryAfter = String(Math.ceil(seconds))
      return mapUpstreamStatus(providerId, status, text, (name) =>
        name === 'retry-after' ? retryAfter : undefined,
      )
    }
  }
  return mapUpstreamStatus(providerId, status, text, header)
}

/** An error object Gemini sent inside a stream, mapped by the HTTP status it names (502 when it names none). */
export function streamError(providerId: string, data: string): GatewayError {
  const code = googleError(data)?.code
  const status = typeof code === 'number' && code >= 400 && code < 600 ? code : 502
  return mapGeminiError(providerId, status, data, () => undefined)
}
