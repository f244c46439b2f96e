// What `meridian sim` says in each dialect: auth in each API's own headers and errors in its own shape
// (OpenAI's, Anthropic's, Gemini's), and the Anthropic and Gemini routes and answers. sim-server.ts owns the
// sockets, the timing knobs and the stats, and asks this file what to send; the shapes live in src/sim.
import type { IncomingHttpHeaders } from 'node:http'
import {
  anthropicError,
  anthropicInputTokens,
  anthropicMessage,
  anthropicRequestProblem,
  anthropicStatusError,
  anthropicStreamFrames,
  planAnthropic,
} from '../../sim/anthropic.js'
import type { ChatStreamFrames } from '../../sim/chat-stream.js'
import {
  geminiBatchEmbedContents,
  geminiCountTokensProblem,
  geminiEmbedContent,
  geminiEmbedProblem,
  geminiError,
  geminiGenerateProblem,
  geminiInvalidKey,
  geminiPromptTokens,
  geminiResponse,
  geminiStatusError,
  geminiStreamFrames,
  planGemini,
} from '../../sim/gemini.js'
import { errorEnvelope, type JsonObject, statusEnvelope } from '../../sim/wire.js'

/** Which APIs the sim speaks: all of them at once, each on its own paths, or one (the others' paths 404). */
export type SimDialect = 'all' | 'openai' | 'anthropic' | 'gemini'

export const SIM_DIALECTS: readonly SimDialect[] = ['all', 'openai', 'anthropic', 'gemini']

/** The API whose error shape a route answers in. */
export type WireDialect = Exclude<SimDialect, 'all'>

/** Whether a sim started with `dialect` serves `wire`'s routes. */
export function speaks(dialect: SimDialect, wire: WireDialect): boolean {
  return dialect === 'all' || dialect === wire
}

/** The dialect of errors on paths no dialect claims: the only one spoken, or OpenAI's. */
export function primaryDialect(dialect: SimDialect): WireDialect {
  return dialect === 'all' ? 'openai' : dialect
}

export type AnthropicOp = 'messages' | 'count_tokens' | 'models'
export type GeminiOp =
  | 'models'
  | 'generateContent'
  | 'streamGenerateContent'
  | 'embedContent'
  | 'batchEmbedContents'
  | 'countTokens'

export type DialectRoute =
  /** `op` null: a path under the dialect's prefix that it does not serve, answered 404. */
  | { dialect: 'anthropic'; op: AnthropicOp | null; model: null }
  | { dialect: 'gemini'; op: GeminiOp | null; model: string | null }

const GEMINI_OPS: readonly string[] = [
  'generateContent',
  'streamGenerateContent',
  'embedContent',
  'batchEmbedContents',
  'countTokens',
]

const GEMINI_PREFIX = '/v1beta/models/'

/**
 * The Anthropic or Gemini route of a request, or null for the OpenAI routes (and paths nobody serves).
 * Anthropic and OpenAI share `GET /v1/models`: when the sim speaks both, a request carrying Anthropic's
 * `anthropic-version` or `x-api-key` header gets Anthropic's list, any other OpenAI's.
 *
 * @example dialectRoute('/v1beta/models/gemini-2.5-flash:generateContent', 'POST', 'all', {})
 * // { dialect: 'gemini', op: 'generateContent', model: 'gemini-2.5-flash' }
 */
export function dialectRoute(
  path: string,
  method: string,
  dialect: SimDialect,
  headers: IncomingHttpHeaders,
): DialectRoute | null {
  if (speaks(dialect, 'anthropic')) {
    if (path === '/v1/messages' || path === '/v1/messages/count_tokens') {
      const op = method !== 'POST' ? null : path === '/v1/messages' ? 'messages' : 'count_tokens'
      return { dialect: 'anthropic', op, model: null }
    }
    if (
      path === '/v1/models' &&
      (dialect === 'anthropic' ||
        headers['anthropic-version'] !== undefined ||
        headers['x-api-key'] !== undefined)
    ) {
      return { dialect: 'anthropic', op: method === 'GET' ? 'models' : null, model: null }
    }
  }
  if (!speaks(dialect, 'gemini') || !path.startsWith('/v1beta/')) return null
  if (path === '/v1beta/models')
    return { dialect: 'gemini', op: method === 'GET' ? 'models' : null, model: null }
  const notFound: DialectRoute = { dialect: 'gemini', op: null, model: null }
  if (!path.startsWith(GEMINI_PREFIX) || method !== 'POST') return notFound
  const rest = path.slice(GEMINI_PREFIX.length)
  const colon = rest.lastIndexOf(':')
  const op = rest.slice(colon + 1)
  if (colon <= 0 || !GEMINI_OPS.includes(op)) return notFound
  let model: string
  try {
    model = decodeURIComponent(rest.slice(0, colon))
  } catch {
    return notFound
  }
  return { dialect: 'gemini', op: op as GeminiOp, model }
}

/** What the stats count a dialect request as. */
export function routeKind(route: DialectRoute): 'chat' | 'embeddings' | 'models' | null {
  const op = route.op
  if (op === 'messages' || op === 'generateContent' || op === 'streamGenerateContent') return 'chat'
  if (op === 'embedContent' || op === 'batchEmbedContents') return 'embeddings'
  if (op === 'models') return 'models'
  return null
}

export interface DialectReply {
  status: number
  body: unknown
}

function queryParam(query: string, name: string): string | null {
  return query === '' ? null : new URLSearchParams(query).get(name)
}

function bearerToken(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization
  if (auth === undefined || auth === '') return null
  // The usual spelling first, so the OpenAI hot path makes no lowercased copy.
  if (auth.startsWith('Bearer ')) return auth.slice(7)
  return auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7) : auth
}

/**
 * The key a client sent where the dialect expects it, in full. OpenAI: a bearer token, else `api-key`.
 * Anthropic: `x-api-key`, else a bearer token (recent official SDKs send API keys that way). Gemini:
 * `x-goog-api-key`, else `?key=`.
 */
function receivedKey(wire: WireDialect, headers: IncomingHttpHeaders, query: string): string | null {
  if (wire === 'openai') {
    const token = bearerToken(headers)
    if (token !== null) return token
  }
  const header =
    headers[wire === 'openai' ? 'api-key' : wire === 'anthropic' ? 'x-api-key' : 'x-goog-api-key']
  if (typeof header === 'string' && header !== '') return header
  if (wire === 'anthropic') return bearerToken(headers)
  if (wire === 'gemini') {
    const key = queryParam(query, 'key')
    if (key !== null && key !== '') return key
  }
  return null
}

// Every dialect quotes the key it received in full, so tests can prove a gateway never leaks its own.
const OPENAI_NO_KEY =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using " +
  'Bearer auth (i.e. Authorization: Bearer YOUR_KEY).'
const ANTHROPIC_NO_KEY = 'x-api-key header is required'
const GEMINI_NO_KEY =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key " +
  'or other form of API consumer identity to call this API.'

/** The 401 of a wrong or missing key (Gemini's is the one its `status` knob sends; see `authFailure`). */
function unauthorized(wire: WireDialect, received: string | null): DialectReply {
  let body: unknown
  if (wire === 'openai') {
    body =
      received === null
        ? errorEnvelope(OPENAI_NO_KEY, 'invalid_request_error')
        : errorEnvelope(
            `Incorrect API key provided: ${received}.`,
            'invalid_request_error',
            null,
            'invalid_api_key',
          )
  } else if (wire === 'anthropic') {
    const message = received === null ? ANTHROPIC_NO_KEY : `invalid x-api-key: ${received}`
    body = anthropicError('authentication_error', message)
  } else {
    const quoted = received === null ? '' : ` Received: ${received}`
    body = geminiError(401, `Request had invalid authentication credentials.${quoted}`)
  }
  return { status: 401, body }
}

/**
 * The key a request presented, in full, or null: found once per request, for the auth check and the stats.
 * It is where the dialect expects it (see `receivedKey`), except that OpenAI's routes open to a right
 * `api-key` beside a wrong bearer token, so then that `api-key` is the key presented. `keys` is the accepted
 * set, or null when any key (or none) will do.
 *
 * @example presentedKey('gemini', {}, 'key=AIza-1&alt=sse', null) // 'AIza-1'
 */
export function presentedKey(
  wire: WireDialect,
  headers: IncomingHttpHeaders,
  query: string,
  keys: ReadonlySet<string> | null,
): string | null {
  const received = receivedKey(wire, headers, query)
  if (wire !== 'openai' || keys === null || received === null || keys.has(received)) return received
  const azure = headers['api-key']
  return typeof azure === 'string' && keys.has(azure) ? azure : received
}

/**
 * The error for a wrong or missing key (`received`, from `presentedKey`), or null when it is one of `keys`.
 * OpenAI and Anthropic answer 401; Gemini answers a wrong key 400 INVALID_ARGUMENT with reason
 * API_KEY_INVALID and a missing one 403 PERMISSION_DENIED, as Google does. One Set lookup: the OpenAI check
 * is on the benchmark's hot path.
 */
export function authFailure(
  wire: WireDialect,
  keys: ReadonlySet<string>,
  received: string | null,
): DialectReply | null {
  if (received !== null && keys.has(received)) return null
  if (wire !== 'gemini') return unauthorized(wire, received)
  if (received === null) return { status: 403, body: geminiError(403, GEMINI_NO_KEY) }
  const message = `API key not valid. Please pass a valid API key. Received: ${received}`
  return { status: 400, body: geminiInvalidKey(message) }
}

/** The error for a status set by the `status` or `error_rate` knobs; a 401 quotes the key received. */
export function statusError(
  wire: WireDialect,
  status: number,
  headers: IncomingHttpHeaders,
  query: string,
): DialectReply {
  if (status === 401) return unauthorized(wire, receivedKey(wire, headers, query))
  const body =
    wire === 'openai'
      ? statusEnvelope(status)
      : wire === 'anthropic'
        ? anthropicStatusError(status)
        : geminiStatusError(status)
  return { status, body }
}

/** A 404 in the dialect's shape. Anthropic's and Gemini's quote the path without its query (a Gemini key). */
export function notFound(wire: WireDialect, method: string, url: string): unknown {
  if (wire === 'openai') return errorEnvelope(`Invalid URL (${method} ${url})`, 'invalid_request_error')
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  return wire === 'anthropic'
    ? anthropicError('not_found_error', `Not found: ${method} ${path}`)
    : geminiError(404, `The requested URL ${path} was not found on this server (${method}).`)
}

/**
 * What is wrong with a routed request, after auth: Anthropic's required `anthropic-version` header, the
 * JSON, then the body.
 */
export function requestProblem(
  route: DialectRoute,
  headers: IncomingHttpHeaders,
  text: string,
  body: unknown,
  badJson: boolean,
): DialectReply | null {
  // A models list has no body, and wants no `anthropic-version`, so a bare key probe gets through.
  if (route.op === 'models') return null
  if (route.dialect === 'anthropic') {
    const invalid = (message: string) => ({
      status: 400,
      body: anthropicError('invalid_request_error', message),
    })
    const version = headers['anthropic-version']
    if (typeof version !== 'string' || version === '') return invalid('anthropic-version: header is required')
    if (badJson || text === '') return invalid('There was an issue with your request body: invalid JSON.')
    const problem = anthropicRequestProblem(body, route.op === 'count_tokens')
    return problem === null ? null : invalid(problem)
  }
  if (badJson || text === '') {
    return { status: 400, body: geminiError(400, 'Invalid JSON payload received. Unexpected token.') }
  }
  const op = route.op
  const problem =
    op === 'embedContent' || op === 'batchEmbedContents'
      ? geminiEmbedProblem(body, op === 'batchEmbedContents')
      : op === 'countTokens'
        ? geminiCountTokensProblem(body)
        : geminiGenerateProblem(body)
  return problem === null ? null : { status: 400, body: geminiError(400, problem) }
}

export type DialectAnswer =
  | { json: unknown; stream?: undefined }
  | { stream: ChatStreamFrames; contentType: string }

/**
 * The answer to a valid request. Streams: Anthropic's when the body says `stream: true`, Gemini's for
 * streamGenerateContent (SSE with `?alt=sse`, else a JSON array written element by element). `models` is
 * what a models list lists.
 */
export function answer(
  route: DialectRoute,
  body: JsonObject,
  query: string,
  chunks: number | null,
  models: readonly string[],
): DialectAnswer {
  if (route.op === 'models') {
    return { json: route.dialect === 'anthropic' ? anthropicModelList(models) : geminiModelList(models) }
  }
  if (route.dialect === 'anthropic') {
    if (route.op === 'count_tokens') return { json: { input_tokens: anthropicInputTokens(body) } }
    const plan = planAnthropic(body, { chunks })
    if (body.stream === true) {
      return { stream: anthropicStreamFrames(plan), contentType: 'text/event-stream' }
    }
    return { json: anthropicMessage(plan) }
  }
  const model = route.model!
  switch (route.op) {
    case 'embedContent':
      return { json: geminiEmbedContent(model, body) }
    case 'batchEmbedContents':
      return { json: geminiBatchEmbedContents(model, body) }
    case 'countTokens':
      return { json: { totalTokens: geminiPromptTokens(body, model) } }
    case 'streamGenerateContent': {
      const sse = queryParam(query, 'alt') === 'sse'
      const stream = geminiStreamFrames(planGemini(body, model, { chunks }), sse)
      return { stream, contentType: sse ? 'text/event-stream' : 'application/json' }
    }
    default:
      return { json: geminiResponse(planGemini(body, model, { chunks })) }
  }
}

/** What Anthropic's and Gemini's models lists show unless `--models` says otherwise. */
export const DEFAULT_ANTHROPIC_MODELS: readonly string[] = ['claude-sonnet-4-5', 'claude-haiku-4-5']
export const DEFAULT_GEMINI_MODELS: readonly string[] = [
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'gemini-embedding-001',
]

// The OpenAI list's fixed `created` (1_700_000_000) in RFC 3339, so every list is byte-stable.
const MODELS_CREATED_AT = '2023-11-14T22:13:20Z'

/**
 * A name as the providers write them: `claude-sonnet-4-5` → `Claude Sonnet 4.5`, `gemini-2.5-flash` →
 * `Gemini 2.5 Flash`.
 */
function displayName(id: string): string {
  let name = ''
  let afterNumber = false
  for (const part of id.split('-')) {
    const number = part !== '' && [...part].every((c) => c >= '0' && c <= '9')
    if (name !== '') name += number && afterNumber ? '.' : ' '
    name += part.charAt(0).toUpperCase() + part.slice(1)
    afterNumber = number
  }
  return name
}

/** `GET /v1/models` as Anthropic answers it: one page with everything. */
function anthropicModelList(ids: readonly string[]): JsonObject {
  const data = ids.map((id) => ({
    type: 'model',
    id,
    display_name: displayName(id),
    created_at: MODELS_CREATED_AT,
  }))
  return { data, has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null }
}

/** `GET /v1beta/models` as Gemini answers it: an embedding model embeds, any other generates. */
function geminiModelList(ids: readonly string[]): JsonObject {
  const models = ids.map((id) => ({
    name: `models/${id}`,
    version: '001',
    displayName: displayName(id),
    supportedGenerationMethods: id.includes('embedding')
      ? ['embedContent', 'batchEmbedContents']
      : ['generateContent', 'countTokens'],
  }))
  return { models }
}
