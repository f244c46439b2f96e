import type { GatewayError } from '../core/errors.js'
import type { UpstreamRequest } from '../core/http-client.js'

/** A JSON object as parsed from the wire. */
export type JsonObject = Record<string, unknown>

/** What the gateway asks of a provider. */
export type Operation = 'chat' | 'embeddings'

/**
 * The provider contract, version 1. A provider translates between the OpenAI wire format (what Meridian
 * speaks to clients) and its upstream API, in four pure steps; it never performs I/O itself, so the same
 * provider runs on Node and on Workers and is tested without a network.
 *
 * @example
 * const req = provider.buildRequest('chat', body, 'gpt-4o-mini', false)
 * const res = await http.request(req, { signal, timeoutMs: provider.timeoutMs })
 * const completion = res.status < 300 ? provider.parseResponse('chat', await res.text()) : undefined // JSON text
 */
export interface Provider {
  readonly contract: 'v1'
  /** The provider's id in the config. */
  readonly id: string
  readonly timeoutMs: number
  /**
   * Request transform: an OpenAI-shaped body (validated) and the upstream's model name → an HTTP request.
   * `usage`: a stream must end with a usage chunk whatever the client asked (the gateway prices every answer);
   * a provider whose upstream reports usage on its own, or cannot be asked, ignores it.
   */
  buildRequest(
    op: Operation,
    body: JsonObject,
    model: string,
    stream: boolean,
    usage?: boolean,
  ): UpstreamRequest
  /**
   * A minimal request that succeeds only with a valid key (listing models): how a project's own key is
   * checked before it is saved. Absent: the provider's keys cannot be checked (and so cannot be brought).
   */
  probeRequest?(): UpstreamRequest
  /**
   * Response transform: a successful upstream body → the OpenAI response body, as JSON text (a provider that
   * already speaks OpenAI's format hands the bytes on without a parse and re-serialize). Throws a GatewayError
   * when the body is unusable.
   */
  parseResponse(op: Operation, text: string, request?: ParseContext): string
  /**
   * Stream transform: the upstream body → OpenAI `chat.completion.chunk` payloads, each the JSON text of one
   * chunk (the gateway frames them as SSE and adds `data: [DONE]`). Payloads come in batches, one per
   * upstream read, so chunks that arrived together leave together (one write, not one per chunk); a batch
   * is never empty. Returns when the upstream finished cleanly; throws a GatewayError when it ended early
   * or sent an error.
   */
  transformStream(body: AsyncIterable<Uint8Array>, options: StreamOptions): AsyncIterable<string[]>
  /** Error mapping: an upstream error response → the error the client sees. Messages must already be scrubbed. */
  mapError(status: number, text: string, header: (name: string) => string | undefined): GatewayError
  /** The secrets this provider holds (its API key, auth headers), scrubbed from anything passed on or logged. */
  readonly secrets: readonly string[]
  /** The wire format the upstream speaks natively; absent means OpenAI's. */
  readonly dialect?: 'openai' | 'anthropic' | 'gemini'
  /**
   * Passthrough for a client that already speaks the provider's own dialect (Anthropic's Messages API to an
   * Anthropic target): the client's body with the model swapped in, untranslated, so fields such as
   * `cache_control` arrive intact.
   */
  buildNativeRequest?(body: JsonObject, model: string, stream: boolean): UpstreamRequest
}

/** The request a response answers, for providers whose responses do not say everything OpenAI's do. */
export interface ParseContext {
  /** The upstream's model name. */
  model: string
  /** The client's (OpenAI-shaped) body, e.g. for `encoding_format`. */
  body: JsonObject
}

/** What a stream transform needs to know of the request it answers. */
export interface StreamOptions {
  /** The client asked for `stream_options.include_usage`: end with a usage chunk (choices empty). */
  includeUsage: boolean
}
