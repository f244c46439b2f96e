import { type Clock, systemClock } from '../../core/clock.js'
import { GatewayError } from '../../core/errors.js'
import type { JsonObject, Operation, Provider, StreamOptions } from '../provider.js'
import { mapGeminiError } from './errors.js'
import { translateRequest } from './request.js'
import { parseChat, parseEmbeddings } from './response.js'
import { transformGeminiStream } from './stream.js'

export { GEMINI_PARAMETERS, translateRequest } from './request.js'

export interface GeminiOptions {
  /** The provider's id in the config. */
  id: string
  /** API root including its version. Default: https://generativelanguage.googleapis.com/v1beta */
  baseUrl?: string
  /** Sent as the x-goog-api-key header, never in the URL (URLs end up in logs). */
  apiKey?: string
  headers?: Record<string, string>
  timeoutMs: number
  /** For `created` when Gemini's answer carries no time. Default: the system clock. */
  clock?: Pick<Clock, 'epoch'>
}

/**
 * What a response transform may be told of the request it answers. Contract v1 passes neither, so the
 * pipeline may add them: `model` names an embeddings list (Gemini's answer does not), `body` carries
 * `encoding_format` and the input (for the token estimate). Chat needs neither: Gemini names its model.
 */
export interface GeminiRequestContext {
  model?: string
  body?: JsonObject
}

/** The provider, whose transforms also take what the pipeline knows of the request (optional in contract v1). */
export interface GeminiProvider extends Provider {
  parseResponse(op: Operation, text: string, request?: GeminiRequestContext): string
  transformStream(
    body: AsyncIterable<Uint8Array>,
    options: StreamOptions & { model?: string },
  ): AsyncIterable<string[]>
}

/** What happens to each OpenAI embeddings parameter (see GEMINI_PARAMETERS for the meaning). */
export const GEMINI_EMBEDDING_PARAMETERS: Record<string, 'mapped' | 'dropped' | 'rejected'> = {
  model: 'mapped', // the URL path and each request's `model`
  input: 'mapped', // one request per string; token arrays are a 400
  dimensions: 'mapped', // outputDimensionality
  encoding_format: 'mapped', // base64 is encoded by the response transform
  user: 'dropped',
}

/**
 * The Google Generative Language API (Gemini) provider: OpenAI chat and embeddings requests translated to
 * `generateContent`, `streamGenerateContent?alt=sse` and `batchEmbedContents`, and the answers back.
 *
 * @example
 * const gemini = createGemini({ id: 'google', apiKey: env.GEMINI_API_KEY, timeoutMs: 60_000 })
 * gemini.buildRequest('chat', body, 'gemini-2.5-flash', true) // POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
 */
export function createGemini(options: GeminiOptions): GeminiProvider {
  const base = new URL(options.baseUrl ?? 'https://generativelanguage.googleapis.com/v1beta')
  const origin = base.origin
  const basePath = base.pathname.replace(/\/+$/, '')
  const clock = options.clock ?? systemClock
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  const secrets: string[] = []
  if (options.apiKey) {
    headers['x-goog-api-key'] = options.apiKey
    secrets.push(options.apiKey)
  }
  const streamHeaders = { ...headers, accept: 'text/event-stream' }
  const now = () => Math.floor(clock.epoch() / 1000)

  return {
    contract: 'v1',
    id: options.id,
    timeoutMs: options.timeoutMs,
    secrets,
    dialect: 'gemini',

    probeRequest() {
      return { origin, path: `${basePath}/models`, method: 'GET', headers }
    },

    buildRequest(op, body, model, stream) {
      const name = resourceName(model)
      if (op === 'embeddings') {
        const translated = embeddingsRequest(body, name)
        return {
          origin,
          path: `${basePath}/${name}:batchEmbedContents`,
          method: 'POST',
          headers,
          body: JSON.stringify(translated.body),
          ...(translated.dropped.length > 0 ? { warnings: translated.dropped } : {}),
        }
      }
      const translated = translateRequest(body, model)
      return {
        origin,
        path: `${basePath}/${name}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        method: 'POST',
        headers: stream ? streamHeaders : headers,
        body: JSON.stringify(translated.body),
        ...(translated.dropped.length > 0 ? { warnings: translated.dropped } : {}),
      }
    },

    parseResponse(op, text, request) {
      if (op === 'embeddings') {
        return parseEmbeddings(text, options.id, {
          model: request?.model ?? '',
          encodingFormat: request?.body?.encoding_format,
          input: request?.body?.input,
        })
      }
      return parseChat(text, options.id, { model: request?.model ?? '', created: now() })
    },

    transformStream(source, streamOptions) {
      return transformGeminiStream(source, {
        providerId: options.id,
        includeUsage: streamOptions.includeUsage,
        model: streamOptions.model ?? '',
        created: now(),
      })
    },

    mapError(status, text, header) {
      return mapGeminiError(options.id, status, text, header)
    },
  }
}

/** `gemini-2.5-flash` → `models/gemini-2.5-flash`; a full resource name (`tunedModels/x`) stays as it is. */
function resourceName(model: string): string {
  if (model.includes('/')) return model.split('/').map(encodeURIComponent).join('/')
  return `models/${encodeURIComponent(model)}`
}

/**
 * OpenAI embeddings request → one `batchEmbedContents` call, whatever the number of inputs (a string is a
 * batch of one). Token-array inputs are a 400: Gemini embeds text only, and OpenAI's token ids mean nothing
 * to its tokenizer.
 */
function embeddingsRequest(body: JsonObject, name: string): { body: JsonObject; dropped: string[] } {
  const dropped: string[] = []
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue
    const rule = GEMINI_EMBEDDING_PARAMETERS[key]
    if (rule === 'rejected') {
      throw new GatewayError('MERIDIAN_INVALID_REQUEST', `${key} is not supported by Gemini`, { param: key })
    }
    if (rule !== 'mapped') dropped.push(key)
  }
  const input = body.input
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : []
  if (texts.length === 0 || !texts.every((text) => typeof text === 'string')) {
    throw new GatewayError(
      'MERIDIAN_INVALID_REQUEST',
      'input must be a string or an array of strings for Gemini (token arrays are not supported)',
      { param: 'input' },
    )
  }
  const dimensions = typeof body.dimensions === 'number' ? { outputDimensionality: body.dimensions } : {}
  return {
    body: { requests: texts.map((text) => ({ model: name, content: { parts: [{ text }] }, ...dimensions })) },
    dropped,
  }
}
