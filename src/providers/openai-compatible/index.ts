import type { ProviderConfig } from '../../config/schema.js'
import { GatewayError } from '../../core/errors.js'
import { SseParser } from '../../core/sse.js'
import { mapUpstreamStatus } from '../http-errors.js'
import type { JsonObject, Operation, Provider } from '../provider.js'
import { PRESETS, type Preset } from './presets.js'

const PATHS: Record<Operation, string> = { chat: '/chat/completions', embeddings: '/embeddings' }

/**
 * The OpenAI-compatible provider: OpenAI itself and every API that copies its wire format, each a preset.
 * Requests pass through with the model swapped in; responses and stream chunks pass through as they are.
 */
export function createOpenAICompatible(config: ProviderConfig): Provider {
  const preset: Preset = PRESETS[config.preset ?? 'openai']
  const base = new URL(config.base_url ?? preset.baseUrl ?? '')
  const origin = base.origin
  const basePath = base.pathname.replace(/\/+$/, '')
  const apiVersion = config.api_version ? `?api-version=${encodeURIComponent(config.api_version)}` : ''

  const headers: Record<string, string> = { 'content-type': 'application/json', ...config.headers }
  const secrets: string[] = []
  if (config.api_key) {
    if (preset.auth === 'api-key') headers['api-key'] = config.api_key
    else headers.authorization = `Bearer ${config.api_key}`
    secrets.push(config.api_key)
  }
  const streamHeaders = { ...headers, accept: 'text/event-stream' }
  const rename = preset.rename ? Object.entries(preset.rename) : undefined

  const path = preset.deploymentPaths
    ? (op: Operation, model: string) =>
        `${basePath}/openai/deployments/${encodeURIComponent(model)}${PATHS[op]}${apiVersion}`
    : (op: Operation) => `${basePath}${PATHS[op]}${apiVersion}`

  return {
    contract: 'v1',
    id: config.id,
    timeoutMs: config.timeout_ms,
    secrets,

    buildRequest(op, body, model, stream, usage) {
      const out: JsonObject = { ...body, model }
      if (stream && usage && !preset.usageUnasked) {
        const options = body.stream_options as JsonObject | null | undefined
        if (options?.include_usage !== true) out.stream_options = { ...options, include_usage: true }
      }
      if (rename) {
        for (const [from, to] of rename) {
          if (from in out) {
            out[to] = out[from]
            delete out[from]
          }
        }
      }
      return {
        origin,
        path: path(op, model),
        method: 'POST',
        headers: stream ? streamHeaders : headers,
        body: JSON.stringify(out),
      }
    },

    probeRequest() {
      const models = preset.deploymentPaths ? `${basePath}/openai/models` : `${basePath}/models`
      return { origin, path: `${models}${apiVersion}`, method: 'GET', headers }
    },

    parseResponse(_op, text) {
      // Passed on as it is; a cheap look at its ends catches the HTML error page some proxies answer with.
      const body = text.trim()
      if (body.charCodeAt(0) !== 123 || body.charCodeAt(body.length - 1) !== 125) {
        throw new GatewayError(
          'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
          `upstream ${config.id} sent a body that is not a JSON object`,
        )
      }
      return body
    },

    async *transformStream(source) {
      const parser = new SseParser()
      const state: StreamState = { done: false, finished: false }
      for await (const bytes of source) {
        const batch = passOn(parser.push(bytes), state, config.id)
        if (batch.length > 0) yield batch
        if (state.done) return
      }
      const batch = passOn(parser.end(), state, config.id)
      if (batch.length > 0) yield batch
      // A few servers close without [DONE]; a stream that never finished a choice was cut off.
      if (!state.done && !state.finished) {
        throw new GatewayError(
          'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
          `upstream ${config.id} ended the stream before it finished`,
        )
      }
    },

    mapError(status, text, header) {
      return mapUpstreamStatus(config.id, status, text, header)
    },
  }
}

interface StreamState {
  /** `[DONE]` was seen. */
  done: boolean
  /** A choice reported its finish_reason. */
  finished: boolean
}

/** OpenAI's chunks pass through as they are: the batch is the parser's own array, cut at `[DONE]`. */
function passOn(events: string[], state: StreamState, providerId: string): string[] {
  for (let i = 0; i < events.length; i++) {
    const data = events[i]!
    if (data === '[DONE]') {
      state.done = true
      return i === 0 ? [] : events.slice(0, i)
    }
    // Some OpenAI-compatible servers report a failure inside the stream rather than with a status.
    if (data.startsWith('{"error"')) throw mapUpstreamStatus(providerId, 502, data, () => undefined)
    if (!state.finished && data.includes('"finish_reason":"')) state.finished = true
  }
  return events
}
