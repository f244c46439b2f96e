import { describe, expect, it } from 'vitest'
import { mapGeminiError, streamError } from './errors.js'

const none = () => undefined
const google = (code: number, status: string, message: string, details?: unknown[]) =>
  JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } })

describe('Gemini error mapping', () => {
  it('429 RESOURCE_EXHAUSTED → 429, keeping Retry-After', () => {
    const error = mapGeminiError('g', 429, google(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded'), (h) =>
      h === 'retry-after' ? '7' : undefined,
    )
    expect(error).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_RATE_LIMITED',
      status: 429,
      retryable: true,
      headers: { 'retry-after': '7' },
    })
    expect(error.message).toContain('Quota exceeded')
  })

  it('429 without Retry-After takes the wait from RetryInfo, rounded up', () => {
    const body = google(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37.451s' },
    ])
    expect(mapGeminiError('g', 429, body, none)).toMatchObject({
      status: 429,
      headers: { 'retry-after': '38' },
    })
    expect(mapGeminiError('g', 429, google(429, 'RESOURCE_EXHAUSTED', 'q'), none).headers).toBeUndefined()
  })

  it('400 INVALID_ARGUMENT → the client’s 400, with Gemini’s message', () => {
    expect(
      mapGeminiError('g', 400, google(400, 'INVALID_ARGUMENT', '* contents: must not be empty'), none),
    ).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_BAD_REQUEST',
      status: 400,
      retryable: false,
      message: '* contents: must not be empty',
    })
  })

  it('a rejected API key (400 with an API_KEY_ reason), 401 and 403 → the gateway’s credentials (502)', () => {
    const invalidKey = google(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
      },
    ])
    for (const [status, body] of [
      [400, invalidKey],
      [403, google(403, 'PERMISSION_DENIED', 'Method doesn’t allow unregistered callers')],
      [401, google(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials')],
    ] as const) {
      expect(mapGeminiError('g', status, body, none)).toMatchObject({
        code: 'MERIDIAN_UPSTREAM_AUTH',
        status: 502,
        retryable: false,
      })
    }
  })

  it('400 FAILED_PRECONDITION (region, billing) is the deployment’s problem: a retryable 502', () => {
    const body = google(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.')
    expect(mapGeminiError('g', 400, body, none)).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_ERROR',
      status: 502,
      retryable: true,
    })
  })

  it('503 UNAVAILABLE and 500 INTERNAL → retryable 502; 404 → the client’s', () => {
    for (const [status, name] of [
      [503, 'UNAVAILABLE'],
      [500, 'INTERNAL'],
    ] as const) {
      const error = mapGeminiError('g', status, google(status, name, 'The model is overloaded.'), none)
      expect(error).toMatchObject({ code: 'MERIDIAN_UPSTREAM_ERROR', status: 502, retryable: true })
      expect(error.message).toBe(`upstream g returned ${status}: The model is overloaded.`)
    }
    expect(
      mapGeminiError('g', 404, google(404, 'NOT_FOUND', 'models/gemini-9 is not found'), none),
    ).toMatchObject({ code: 'MERIDIAN_UPSTREAM_BAD_REQUEST', status: 404 })
  })

  it('bodies that are not Google’s envelope still map by status', () => {
    expect(mapGeminiError('g', 502, '<html>Bad Gateway</html>', none)).toMatchObject({
      status: 502,
      retryable: true,
    })
  })

  it('in a stream: the error’s own code decides, arrays unwrapped, 502 when it has none', () => {
    expect(streamError('g', `[${google(429, 'RESOURCE_EXHAUSTED', 'q')}]`)).toMatchObject({ status: 429 })
    expect(streamError('g', '{"error":{"message":"boom"}}')).toMatchObject({
      code: 'MERIDIAN_UPSTREAM_ERROR',
      message: 'upstream g returned 502: boom',
    })
  })
})
