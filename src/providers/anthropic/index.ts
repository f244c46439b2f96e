import { type Clock, systemClock } from '../../core/clock.js'
import { GatewayError } from '../../core/errors.js'
import type { UpstreamRequest } from '../../core/http-client.js'
import type { JsonObject, Operation, Provider } from '../provider.js'
import { mapAnthropicError } from './errors.js'
import { translateRequest } from './request.js'
import { translateResponse } from './response.js'
import { translateStream } from './stream.js'

export { mapAnthropicError } from './errors.js'
export {
  ANTHROPIC_PARAMETERS,
  type ParameterRule,
  type TranslatedRequest,
  translateRequest,
} from './request.js'

export interface AnthropicOptions {
  /** The provider's id in the config. */
  id: string
  /** Default `https://api.anthropic.com/v1`; `/messages` is appended. */
  baseUrl?: string
  /** Sent as `x-api-key`. */
  apiKey?: string
  /** The `anthropic-version` header; default `2023-06-01`. */
  version?: string
  /** `max_tokens` when the client sends neither `max_tokens` nor `max_completion_tokens`; default 4096. */
  defaultMaxTokens?: number
  /** The same default per upstream model name; wins over `defaultMaxTokens`. */
  maxTokensByModel?: Record<string, number>
  /** Extra request headers (`anthropic-beta`, say). */
  headers?: Record<string, string>
  timeoutMs: number
  /** Gives responses their `created`; default the system clock. */
  clock?: Pick<Clock, 'epoch'>
}

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com/v1'
export const ANTHROPIC_VERSION = '2023-06-01'

/**
 * The native Anthropic provider: OpenAI chat requests translated to the Messages API and the answers (whole
 * or streamed) translated back. A client that already speaks the Messages API is passed through untouched
 * (`buildNativeRequest`). Chat only: Anthropic has no embeddings API.
 *
 * @example
 * const claude = createAnthropic({ id: 'claude', apiKey: key, timeoutMs: 60_000 })
 * const req = claude.buildRequest('chat', { messages: [{ role: 'user', content: 'Hi' }] }, 'claude-haiku-4-5', false)
 * // POST https://api.anthropic.com/v1/messages, x-api-key and anthropic-version set
 */
export function createAnthropic(options: AnthropicOptions): Provider {
  const base = new URL(options.baseUrl ?? ANTHROPIC_BASE_URL)
  const origin = base.origin
  const path = `${base.pathname.replace(/\/+$/, '')}/messages`
  const clock = options.clock ?? systemClock

  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...options.headers,
    'anthropic-version': options.version ?? ANTHROPIC_VERSION,
  }
  const secrets: string[] = []
  if (options.apiKey) {
    headers['x-api-key'] = options.apiKey
    secrets.push(options.apiKey)
  }
  const streamHeaders = { ...headers, accept: 'text/event-stream' }

  const chatOnly = (op: Operation) => {
    if (op !== 'chat') {
      throw new GatewayError(
        'MERIDIAN_INVALID_REQUEST',
        `anthropic has no embeddings API: provider ${options.id} serves chat only`,
      )
    }
  }
  const post = (body: JsonObject, stream: boolean): UpstreamRequest => ({
    origin,
    path,
    method: 'POST',
    headers: stream ? streamHeaders : headers,
    body: JSON.stringify(body),
  })

  return {
    contract: 'v1',
    id: options.id,
    timeoutMs: options.timeoutMs,
    secrets,
    dialect: 'anthropic',

    probeRequest() {
      return { origin, path: `${base.pathname.replace(/\/+$/, '')}/models`, method: 'GET', headers }
    },

    buildRequest(op, body, model, stream) {
      chatOnly(op)
      const { body: translated, dropped } = translateRequest(body, model, {
        defaultMaxTokens: options.defaultMaxTokens,
        maxTokensByModel: options.maxTokensByModel,
        stream,
      })
      const req: UpstreamRequest = post(translated, stream)
      // What Anthropic cannot honour and was left out: the gateway names it in x-meridian-warning.
      if (dropped.length > 0) req.warnings = dropped
      return req
    },

    buildNativeRequest(body, model, stream) {
      return post({ ...body, model }, stream)
    },

    parseResponse(op, text) {
      chatOnly(op)
      return translateResponse(text, { providerId: options.id, created: Math.floor(clock.epoch() / 1000) })
    },

    transformStream(body, { includeUsage }) {
      return translateStream(body, { providerId: options.id, includeUsage, clock })
    },

    mapError(status, text, header) {
      return mapAnthropicError(options.id, status, text, header)
    },
  }
}
