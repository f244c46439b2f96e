/**
 * Every error Meridian answers with has a stable code from this list, an HTTP status, an OpenAI error `type`
 * and a retryable flag. One wire shape: the OpenAI envelope `{"error":{"message","type","param","code"}}`.
 */
export const ErrorCodes = {
  MERIDIAN_INVALID_JSON: { status: 400, type: 'invalid_request_error', retryable: false },
  MERIDIAN_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', retryable: false },
  /** An admin request names something that exists already (a project id, a provider key for that provider). */
  MERIDIAN_CONFLICT: { status: 409, type: 'invalid_request_error', retryable: false },
  MERIDIAN_UNAUTHORIZED: { status: 401, type: 'authentication_error', retryable: false },
  /** A budget of the project or key has no room for this request's largest possible cost. */
  MERIDIAN_BUDGET_EXCEEDED: { status: 402, type: 'insufficient_quota', retryable: false },
  /** A policy of the project or key denies the request; `error.policy` names the rule and the denied value. */
  MERIDIAN_POLICY_DENIED: { status: 403, type: 'permission_error', retryable: false },
  MERIDIAN_NOT_FOUND: { status: 404, type: 'not_found_error', retryable: false },
  MERIDIAN_MODEL_NOT_FOUND: { status: 404, type: 'invalid_request_error', retryable: false },
  MERIDIAN_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error', retryable: false },
  MERIDIAN_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error', retryable: false },
  MERIDIAN_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error', retryable: false },
  /** A Meridian rate limit (rpm, tpm or concurrency of a key or project) has no room for this request. */
  MERIDIAN_RATE_LIMITED: { status: 429, type: 'rate_limit_exceeded', retryable: true },
  /** The upstream rejected the request as invalid (its 400/404/422): the client's request is at fault. */
  MERIDIAN_UPSTREAM_BAD_REQUEST: { status: 400, type: 'invalid_request_error', retryable: false },
  MERIDIAN_UPSTREAM_RATE_LIMITED: { status: 429, type: 'rate_limit_exceeded', retryable: true },
  MERIDIAN_UPSTREAM_ERROR: { status: 502, type: 'upstream_error', retryable: true },
  /** The provider refused the gateway's own credentials: a gateway configuration problem, not the client's. */
  MERIDIAN_UPSTREAM_AUTH: { status: 502, type: 'upstream_error', retryable: false },
  MERIDIAN_UPSTREAM_UNREACHABLE: { status: 502, type: 'upstream_error', retryable: true },
  MERIDIAN_UPSTREAM_INVALID_RESPONSE: { status: 502, type: 'upstream_error', retryable: true },
  MERIDIAN_UPSTREAM_TIMEOUT: { status: 504, type: 'timeout_error', retryable: true },
  /** The edge: no origin could be reached (every one of ORIGIN_URL refused or timed out). */
  MERIDIAN_ORIGIN_UNREACHABLE: { status: 502, type: 'upstream_error', retryable: true },
  /** The client went away before the answer was complete (nginx's 499); it never sees this. */
  MERIDIAN_CLIENT_CLOSED: { status: 499, type: 'client_closed', retryable: false },
  /** Auto-routing: no configured model clears the quality floor of the request's task type. */
  MERIDIAN_NO_ROUTE: { status: 503, type: 'server_error', retryable: false },
  MERIDIAN_NOT_READY: { status: 503, type: 'server_error', retryable: true },
  /** The rate-limit store cannot answer and `limits.on_store_error` is `closed`. */
  MERIDIAN_LIMITS_UNAVAILABLE: { status: 503, type: 'server_error', retryable: true },
  /** The budget store (database or Redis) did not answer; a budgeted request is refused rather than risk overspend. */
  MERIDIAN_BUDGET_UNAVAILABLE: { status: 503, type: 'server_error', retryable: true },
  /** An admin operation on the cache failed because a tier did (a request never sees this: it fails open). */
  MERIDIAN_CACHE_UNAVAILABLE: { status: 503, type: 'server_error', retryable: true },
  MERIDIAN_INTERNAL: { status: 500, type: 'server_error', retryable: true },
} as const satisfies Record<string, { status: number; type: string; retryable: boolean }>

export type ErrorCode = keyof typeof ErrorCodes

/**
 * A failure with a stable code, safe to show a client: its message never carries a secret or a stack.
 *
 * @example throw new GatewayError('MERIDIAN_MODEL_NOT_FOUND', 'model "x" does not exist', { param: 'model' })
 */
export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly type: string
  readonly retryable: boolean
  readonly param: string | null
  /** Extra response headers, e.g. Retry-After on a 429. */
  readonly headers: Record<string, string> | undefined
  /** Extra members of the envelope's `error` object, e.g. `policy` on a 403, `budget` on a 402. */
  readonly detail: Record<string, unknown> | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      param?: string | null
      status?: number
      headers?: Record<string, string>
      detail?: Record<string, unknown>
      cause?: unknown
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const spec = ErrorCodes[code]
    this.name = 'GatewayError'
    this.code = code
    this.status = options.status ?? spec.status
    this.type = spec.type
    this.retryable = spec.retryable
    this.param = options.param ?? null
    this.headers = options.headers
    this.detail = options.detail
  }

  /** The OpenAI error envelope, serialized (with `detail`'s members after the four standard ones). */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    const error = { message: this.message, type: this.type, param: this.param, code: this.code }
    return { error: this.detail === undefined ? error : { ...error, ...this.detail } }
  }
}

/** Anything thrown that is not a GatewayError becomes an opaque 500: its message may hold internals. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err
  return new GatewayError('MERIDIAN_INTERNAL', 'internal gateway error', { cause: err })
}
