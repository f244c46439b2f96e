/**
 * The upstream HTTP capability. Core declares it; each runtime implements it (undici on Node, fetch on Workers),
 * so the gateway never depends on a particular client and tests can run it over real sockets.
 */
export interface UpstreamRequest {
  /** `https://api.openai.com`: scheme, host and port only, so a client can keep one pool per origin. */
  origin: string
  /** `/v1/chat/completions?x=y` */
  path: string
  method: 'GET' | 'POST' | 'PUT'
  headers: Record<string, string>
  body?: string
  /**
   * Request parameters a translating provider could not carry to its upstream and dropped; the client is
   * told in `x-meridian-warning` (never silently). Not sent upstream.
   */
  warnings?: readonly string[]
}

export interface UpstreamResponse {
  status: number
  /** Lower-case header lookup. */
  header(name: string): string | undefined
  /** The body as it arrives, chunk by chunk; read it once, either this way or with `text()`. */
  body: AsyncIterable<Uint8Array>
  text(): Promise<string>
  /** Releases the connection without reading the rest of the body. */
  discard(): void
}

export interface RequestOptions {
  /** Aborts the request and its body: the client went away. */
  signal: AbortSignal
  /** Longest wait for the response head, and longest silence between body chunks. */
  timeoutMs: number
  /** Longest silence between body chunks, when it differs (a stream's stall limit). */
  bodyTimeoutMs?: number
  /** Longest wait for a new connection, when it differs from the client's default. */
  connectTimeoutMs?: number
}

export interface HttpClient {
  request(req: UpstreamRequest, options: RequestOptions): Promise<UpstreamResponse>
}

/** How an upstream call failed below HTTP. Implementations throw this; core maps it to a status. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'network' | 'aborted',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'TransportError'
  }
}
