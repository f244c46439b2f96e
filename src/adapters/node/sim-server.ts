// `meridian sim`: an OpenAI-compatible upstream for tests, demos and load tests, which also speaks
// Anthropic's and Gemini's APIs on their own paths (sim-dialects.ts). It is the "direct" baseline of the
// latency benchmark, so it is raw node:http with no framework: per-request state lives on an IncomingMessage
// subclass and every listener is a module-level function, so a request allocates no closures; non-stream
// bodies go out in one end() with a content-length.
import { createServer, type IncomingHttpHeaders, IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  applyBehaviourPatch,
  defaultBehaviour,
  parseBehaviourPatch,
  type SimBehaviour,
} from '../../sim/behaviour.js'
import { chatCompletion, chatRequestProblem, planChat } from '../../sim/chat.js'
import { type ChatStreamFrames, chatStreamFrames } from '../../sim/chat-stream.js'
import { embeddingList, embeddingsRequestProblem } from '../../sim/embeddings.js'
import { errorEnvelope, type JsonObject, modelList, modelObject } from '../../sim/wire.js'
import {
  answer,
  authFailure,
  DEFAULT_ANTHROPIC_MODELS,
  DEFAULT_GEMINI_MODELS,
  type DialectRoute,
  dialectRoute,
  notFound,
  presentedKey,
  primaryDialect,
  requestProblem,
  routeKind,
  SIM_DIALECTS,
  type SimDialect,
  speaks,
  statusError,
  type WireDialect,
} from './sim-dialects.js'

export interface SimOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (any free port; read it back from `port`). */
  port?: number
  /**
   * When set, OpenAI routes must send it as `Authorization: Bearer <key>` or `api-key: <key>`, Anthropic's
   * as `x-api-key`, Gemini's as `x-goog-api-key` or `?key=`. An empty string sets no key.
   */
  apiKey?: string
  /**
   * More keys, each accepted as `apiKey` is: the sim accepts any key of `apiKey` and `apiKeys` together
   * (empty strings are skipped). Neither set, any key or none will do.
   */
  apiKeys?: readonly string[]
  /** Default `all`: every dialect on its own paths. One dialect makes the others' paths 404. */
  dialect?: SimDialect
  /**
   * What the models lists (OpenAI's, Anthropic's, Gemini's) list; by default each dialect's own names. Chat
   * and embeddings answer any model name.
   */
  models?: string[]
  /** The start-up behaviour, restored by `reset()` and `POST /sim/reset`. */
  behaviour?: Partial<SimBehaviour>
  /** Milliseconds since the epoch, for `created`; tests inject a fixed clock. */
  now?: () => number
}

export interface SimLastRequest {
  method: string
  /** The path with its query string. */
  path: string
  /** All headers, lowercased, as sent. */
  headers: IncomingHttpHeaders
  /** The parsed JSON body, or null when there was none or it did not parse. */
  body: unknown
}

export interface SimStats {
  /** Every /v1, /v1beta (Gemini) and Azure (/openai/deployments/…) request. */
  requests: number
  /** Chat completions, Anthropic messages and Gemini generate/streamGenerateContent. */
  chat: number
  embeddings: number
  models: number
  /** SSE responses started. */
  streams: number
  /** Error bodies sent on the counted paths, in any dialect. */
  errors: number
  /** Sockets reset by `reset_rate`. */
  resets: number
  /** Streams whose socket `drop_after_chunks` destroyed. */
  drops: number
  /**
   * Requests whose client went away before the response finished: during any delay (`latency_ms`, `slow_ms`,
   * `ttft_ms`, `chunk_gap_ms`) or a stalled stream.
   */
  aborted: number
  /** Requests in flight; live, so `reset()` leaves it alone. */
  active: number
  /**
   * The requests `requests` counts, by the last 4 characters of the key each presented, accepted or not
   * (`none` without one), e.g. `{ "cdef": 3, "1234": 1 }`: which key a gateway sent, never the whole key
   * (unless it is 4 characters or fewer).
   */
  keys: Record<string, number>
  last_request: SimLastRequest | null
}

export interface SimServer {
  /** e.g. `http://127.0.0.1:9100`, without a trailing slash. */
  url: string
  port: number
  /** Stops listening and destroys every connection, stalled streams included. Idempotent. */
  close(): Promise<void>
  stats(): SimStats
  behaviour(): SimBehaviour
  /** Validates and applies a patch; throws an Error naming the bad key. Returns the full behaviour. */
  setBehaviour(patch: Partial<SimBehaviour>): SimBehaviour
  /** Zeroes the stats (except `active`) and restores the start-up behaviour. */
  reset(): void
}

export const DEFAULT_SIM_MODELS: readonly string[] = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']

// Model objects carry a fixed `created` so the models list is byte-stable.
const MODELS_CREATED = 1_700_000_000

interface SimState {
  behaviour: SimBehaviour
  readonly initial: SimBehaviour
  /** The accepted keys, or null when any key (or none) will do. */
  readonly keys: ReadonlySet<string> | null
  readonly models: Readonly<Record<WireDialect, readonly string[]>>
  readonly now: () => number
  readonly dialect: SimDialect
  stats: SimStats
  sequence: number
  /** Chat and embeddings requests since start or reset, in arrival order: what `fail_every` and `slow_every` count. */
  counted: number
}

const ROUTE_OTHER = 0
const ROUTE_NOT_FOUND = 1
const ROUTE_CHAT = 2
const ROUTE_EMBEDDINGS = 3
const ROUTE_MODELS = 4
const ROUTE_MODEL = 5
const ROUTE_SIM = 6
const ROUTE_DIALECT = 7

/**
 * One request and its response's state. Node builds it for us (createServer's IncomingMessage option), so
 * the listeners below find everything on `this` and no per-request closure is needed. Field names are
 * prefixed so they cannot shadow IncomingMessage's own.
 */
class Exchange extends IncomingMessage {
  simState: SimState | null = null
  simReply: ServerResponse<Exchange> | null = null
  simRoute = ROUTE_OTHER
  /** The Azure deployment (which is the model) or the id of `GET /v1/models/{id}`. */
  simArg: string | null = null
  simAzure = false
  /** The Anthropic or Gemini operation, when `simRoute` is ROUTE_DIALECT (or a 404 under their paths). */
  simDialect: DialectRoute | null = null
  /** The API whose error shape (and auth) this request gets. */
  simWire: WireDialect = 'openai'
  simQuery = ''
  /** The key presented (see `presentedKey`), in full: auth checks it; the stats keep its last 4 characters. */
  simKey: string | null = null
  simText = ''
  simBody: unknown = null
  simBadJson = false
  /** Its chat or embeddings ordinal since start or reset (1, 2, …), or 0 when it is not counted. */
  simOrdinal = 0
  /** The sim destroyed the socket itself (`reset_rate`, `drop_after_chunks`): not a client abort. */
  simCut = false
  simTimer: ReturnType<typeof setTimeout> | null = null
  // Streaming: the SSE frames, the next to write, and where content chunks sit among them.
  simFrames: string[] | null = null
  simNext = 0
  simWaited = -1
  simContentStart = 0
  simContentEnd = 0
  simStallAt = -1
  simDropAt = -1
  simGapMs = 0
}

function freshStats(active: number): SimStats {
  return {
    requests: 0,
    chat: 0,
    embeddings: 0,
    models: 0,
    streams: 0,
    errors: 0,
    resets: 0,
    drops: 0,
    aborted: 0,
    active,
    keys: {},
    last_request: null,
  }
}

/**
 * Where `stats.keys` counts a key: its last 4 characters, `none` for no key. (The stats' object can take
 * any tag: no property of Object.prototype is 4 characters or fewer.)
 */
function keyTag(key: string | null): string {
  if (key === null) return 'none'
  return key.length <= 4 ? key : key.slice(-4)
}

function validBehaviour(base: SimBehaviour, patch: unknown): SimBehaviour {
  const parsed = parseBehaviourPatch(patch)
  if (!parsed.ok) throw new Error(parsed.error)
  return applyBehaviourPatch(base, parsed.patch)
}

/**
 * Starts the simulated upstream.
 *
 * @example
 * const sim = await startSim({ apiKey: 'sk-test', behaviour: { latency_ms: 20 } })
 * await fetch(`${sim.url}/v1/models`, { headers: { authorization: 'Bearer sk-test' } })
 * await sim.close()
 */
export async function startSim(options: SimOptions = {}): Promise<SimServer> {
  const initial = validBehaviour({ ...defaultBehaviour }, options.behaviour ?? {})
  const keys = new Set([options.apiKey ?? '', ...(options.apiKeys ?? [])])
  keys.delete('')
  const models = options.models
  const dialect = options.dialect ?? 'all'
  if (!SIM_DIALECTS.includes(dialect)) {
    throw new Error(`unknown sim dialect "${dialect}" (known: ${SIM_DIALECTS.join(', ')})`)
  }
  const sim: SimState = {
    behaviour: initial,
    initial,
    keys: keys.size === 0 ? null : keys,
    models: {
      openai: models ?? DEFAULT_SIM_MODELS,
      anthropic: models ?? DEFAULT_ANTHROPIC_MODELS,
      gemini: models ?? DEFAULT_GEMINI_MODELS,
    },
    now: options.now ?? Date.now,
    dialect,
    stats: freshStats(0),
    sequence: 0,
    counted: 0,
  }
  const server = createServer<typeof Exchange>({ IncomingMessage: Exchange, noDelay: true }, (req, res) =>
    onRequest(sim, req, res),
  )
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | null = null
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
      return closing
    },
    stats: () => ({ ...sim.stats, keys: { ...sim.stats.keys } }),
    behaviour: () => ({ ...sim.behaviour }),
    setBehaviour(patch) {
      sim.behaviour = validBehaviour(sim.behaviour, patch)
      return { ...sim.behaviour }
    },
    reset: () => resetSim(sim),
  }
}

/** A host to put in a URL: wildcard binds are reached through loopback, IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

function resetSim(sim: SimState): void {
  sim.stats = freshStats(sim.stats.active)
  sim.behaviour = sim.initial
  sim.counted = 0
}

function ignore(): void {}

function onRequest(sim: SimState, ex: Exchange, res: ServerResponse<Exchange>): void {
  ex.simState = sim
  ex.simReply = res
  const url = ex.url ?? '/'
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (q !== -1) ex.simQuery = url.slice(q + 1)
  if (classify(ex, path, ex.method ?? 'GET')) {
    const stats = sim.stats
    stats.requests++
    stats.active++
    const key = presentedKey(ex.simWire, ex.headers, ex.simQuery, sim.keys)
    ex.simKey = key
    const tag = keyTag(key)
    stats.keys[tag] = (stats.keys[tag] ?? 0) + 1
    const route = ex.simRoute
    const kind = route === ROUTE_DIALECT ? routeKind(ex.simDialect!) : null
    if (route === ROUTE_CHAT || kind === 'chat') {
      stats.chat++
      ex.simOrdinal = ++sim.counted
    } else if (route === ROUTE_EMBEDDINGS || kind === 'embeddings') {
      stats.embeddings++
      ex.simOrdinal = ++sim.counted
    } else if (route === ROUTE_MODELS || route === ROUTE_MODEL || kind === 'models') stats.models++
    res.on('close', onResponseClose)
  }
  // A client that resets mid-body makes the request emit 'error'; unhandled, that would crash the sim.
  ex.on('error', ignore)
  ex.setEncoding('utf8')
  ex.on('data', onData)
  ex.on('end', onEnd)
}

/** Sets the route; returns whether this is an upstream (/v1, /v1beta or Azure) request that the stats count. */
function classify(ex: Exchange, path: string, method: string): boolean {
  const dialect = ex.simState!.dialect
  const routed = dialectRoute(path, method, dialect, ex.headers)
  if (routed !== null) {
    ex.simDialect = routed
    ex.simWire = routed.dialect
    ex.simRoute = routed.op === null ? ROUTE_NOT_FOUND : ROUTE_DIALECT
    return true
  }
  ex.simWire = primaryDialect(dialect)
  if (path.startsWith('/sim/')) {
    ex.simRoute = ROUTE_SIM
    return false
  }
  if (!speaks(dialect, 'openai')) {
    // Anthropic shares /v1 with OpenAI: its other /v1 paths are its own 404s, counted like OpenAI's.
    if (dialect !== 'anthropic' || !path.startsWith('/v1/')) return false
    ex.simRoute = ROUTE_NOT_FOUND
    return true
  }
  if (path.startsWith('/v1/')) {
    if (path === '/v1/chat/completions') ex.simRoute = method === 'POST' ? ROUTE_CHAT : ROUTE_NOT_FOUND
    else if (path === '/v1/embeddings') ex.simRoute = method === 'POST' ? ROUTE_EMBEDDINGS : ROUTE_NOT_FOUND
    else if (path === '/v1/models') ex.simRoute = method === 'GET' ? ROUTE_MODELS : ROUTE_NOT_FOUND
    else if (path.startsWith('/v1/models/') && method === 'GET') {
      ex.simArg = decodeSegment(path.slice('/v1/models/'.length))
      ex.simRoute = ex.simArg === null ? ROUTE_NOT_FOUND : ROUTE_MODEL
    } else ex.simRoute = ROUTE_NOT_FOUND
    return true
  }
  if (path.startsWith('/openai/deployments/')) {
    const rest = path.slice('/openai/deployments/'.length)
    const slash = rest.indexOf('/')
    const deployment = slash > 0 ? decodeSegment(rest.slice(0, slash)) : null
    const operation = slash > 0 ? rest.slice(slash) : ''
    ex.simAzure = true
    ex.simArg = deployment
    if (deployment !== null && method === 'POST' && operation === '/chat/completions')
      ex.simRoute = ROUTE_CHAT
    else if (deployment !== null && method === 'POST' && operation === '/embeddings') {
      ex.simRoute = ROUTE_EMBEDDINGS
    } else ex.simRoute = ROUTE_NOT_FOUND
    return true
  }
  return false
}

function decodeSegment(segment: string): string | null {
  try {
    const decoded = decodeURIComponent(segment)
    // Slashes are allowed: OpenAI-compatible providers name models like `meta-llama/Llama-3.1-8B`.
    return decoded === '' ? null : decoded
  } catch {
    return null
  }
}

function onData(this: Exchange, chunk: string): void {
  this.simText += chunk
}

function onEnd(this: Exchange): void {
  const sim = this.simState!
  if (this.simText !== '') {
    try {
      this.simBody = JSON.parse(this.simText)
    } catch {
      this.simBadJson = true
    }
  }
  if (this.simRoute === ROUTE_SIM) handleSim(this, sim)
  else if (this.simRoute === ROUTE_OTHER) sendJson(this, 404, notFoundBody(this))
  else {
    sim.stats.last_request = {
      method: this.method ?? 'GET',
      path: this.url ?? '/',
      headers: this.headers,
      body: this.simBody,
    }
    const behaviour = sim.behaviour
    let delay = behaviour.latency_ms
    if (hits(this.simOrdinal, behaviour.slow_every)) delay = Math.min(delay + behaviour.slow_ms, MAX_DELAY_MS)
    if (delay > 0) this.simTimer = setTimeout(respond, delay, this)
    else respond(this)
  }
}

// setTimeout treats a longer delay as 1 ms.
const MAX_DELAY_MS = 2_147_483_647

/** Whether the request with this ordinal is one of every `every`th (never when uncounted or the knob is off). */
function hits(ordinal: number, every: number | null): boolean {
  return every !== null && ordinal > 0 && ordinal % every === 0
}

function onResponseClose(this: ServerResponse<Exchange>): void {
  const ex = this.req
  const stats = ex.simState!.stats
  stats.active--
  if (ex.simTimer !== null) {
    clearTimeout(ex.simTimer)
    ex.simTimer = null
  }
  if (!this.writableFinished && !ex.simCut) stats.aborted++
  ex.simFrames = null
}

/** After `latency_ms` (and `slow_ms`): reset, or an error, or the answer. */
function respond(ex: Exchange): void {
  ex.simTimer = null
  if (ex.simReply!.destroyed) return
  const sim = ex.simState!
  const behaviour = sim.behaviour
  if (behaviour.reset_rate > 0 && Math.random() < behaviour.reset_rate) {
    ex.simCut = true
    sim.stats.resets++
    ex.socket.resetAndDestroy()
    return
  }
  const refused = refusal(ex, sim, behaviour)
  if (refused !== null) sendError(ex, refused.status, refused.body)
  else if (ex.simRoute === ROUTE_DIALECT) answerDialect(ex, sim)
  else if (ex.simRoute === ROUTE_MODELS) sendJson(ex, 200, modelList(sim.models.openai, MODELS_CREATED))
  else if (ex.simRoute === ROUTE_MODEL) sendJson(ex, 200, modelObject(ex.simArg!, MODELS_CREATED))
  else if (ex.simRoute === ROUTE_CHAT) answerChat(ex, sim)
  else sendJson(ex, 200, embeddingList(ex.simBody as JsonObject, { model: azureModel(ex) }))
}

/** An error to send: the status and the body, in the request's dialect. */
interface Refusal {
  status: number
  body: unknown
}

function invalidRequest(message: string, param: string | null = null): Refusal {
  return { status: 400, body: errorEnvelope(message, 'invalid_request_error', param) }
}

/** A 404 for a path nobody serves, in the request's dialect. */
function notFoundBody(ex: Exchange): unknown {
  return notFound(ex.simWire, ex.method ?? 'GET', ex.url ?? '/')
}

function azureModel(ex: Exchange): string | undefined {
  return ex.simAzure ? ex.simArg! : undefined
}

/** The error this request gets, if any, in the order a real upstream checks: the status knob, `fail_every`,
 * auth, the error rate, the route, then the body. */
function refusal(ex: Exchange, sim: SimState, behaviour: SimBehaviour): Refusal | null {
  const wire = ex.simWire
  if (behaviour.status !== null) return statusError(wire, behaviour.status, ex.headers, ex.simQuery)
  if (hits(ex.simOrdinal, behaviour.fail_every)) {
    return statusError(wire, behaviour.fail_status, ex.headers, ex.simQuery)
  }
  if (sim.keys !== null) {
    const denied = authFailure(wire, sim.keys, ex.simKey)
    if (denied !== null) return denied
  }
  if (behaviour.error_rate > 0 && Math.random() < behaviour.error_rate) {
    return statusError(wire, behaviour.fail_status, ex.headers, ex.simQuery)
  }
  const route = ex.simRoute
  if (route === ROUTE_NOT_FOUND) return { status: 404, body: notFoundBody(ex) }
  if (route === ROUTE_DIALECT) {
    return requestProblem(ex.simDialect!, ex.headers, ex.simText, ex.simBody, ex.simBadJson)
  }
  if (route === ROUTE_MODELS) return null
  if (route === ROUTE_MODEL) {
    if (sim.models.openai.includes(ex.simArg!)) return null
    const message = `The model '${ex.simArg}' does not exist or you do not have access to it.`
    return { status: 404, body: errorEnvelope(message, 'invalid_request_error', 'model', 'model_not_found') }
  }
  if (ex.simAzure && !/(?:^|&)api-version=[^&]/.test(ex.simQuery)) {
    return invalidRequest("Missing required query parameter 'api-version'.", 'api-version')
  }
  if (ex.simBadJson || ex.simText === '')
    return invalidRequest('We could not parse the JSON body of your request.')
  const problem =
    route === ROUTE_CHAT
      ? chatRequestProblem(ex.simBody, azureModel(ex))
      : embeddingsRequestProblem(ex.simBody, azureModel(ex))
  return problem === null ? null : invalidRequest(problem.message, problem.param)
}

function answerChat(ex: Exchange, sim: SimState): void {
  const body = ex.simBody as JsonObject
  const plan = planChat(body, { chunks: sim.behaviour.chunks, model: azureModel(ex) })
  const created = Math.floor(sim.now() / 1000)
  if (body.stream !== true) sendJson(ex, 200, chatCompletion(plan, created))
  else {
    const options = body.stream_options
    const includeUsage =
      typeof options === 'object' && options !== null && 'include_usage' in options
        ? options.include_usage === true
        : false
    startStream(ex, sim, chatStreamFrames(plan, created, includeUsage))
  }
}

/** An Anthropic or Gemini answer: a JSON body, or a stream paced like the OpenAI ones. */
function answerDialect(ex: Exchange, sim: SimState): void {
  const route = ex.simDialect!
  const models = sim.models[route.dialect]
  const answered = answer(route, ex.simBody as JsonObject, ex.simQuery, sim.behaviour.chunks, models)
  if (answered.stream === undefined) sendJson(ex, 200, answered.json)
  else startStream(ex, sim, answered.stream, answered.contentType)
}

function startStream(
  ex: Exchange,
  sim: SimState,
  stream: ChatStreamFrames,
  contentType = 'text/event-stream',
): void {
  const { frames, contentStart, contentEnd } = stream
  const behaviour = sim.behaviour
  ex.simFrames = frames
  ex.simContentStart = contentStart
  ex.simContentEnd = contentEnd
  ex.simGapMs = behaviour.chunk_gap_ms
  const stall = behaviour.stall_after_chunks
  // A stall past the last content chunk holds back the finish chunk: the stream never completes.
  ex.simStallAt = stall === null ? -1 : Math.min(contentStart + stall, contentEnd)
  // A drop of 0 comes right after the head, before even the role (or message_start) frames.
  const drop = behaviour.drop_after_chunks
  ex.simDropAt = drop === null ? -1 : drop === 0 ? 0 : Math.min(contentStart + drop, contentEnd)
  sim.stats.streams++
  const res = ex.simReply!
  res.writeHead(200, {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'x-request-id': requestId(sim),
  })
  if (behaviour.ttft_ms > 0) {
    // The head is due now (after latency_ms); only the first chunk waits.
    res.flushHeaders()
    ex.simTimer = setTimeout(pump, behaviour.ttft_ms, ex)
  } else pump(ex)
}

/**
 * Writes every frame that is due, in one write: the role chunks and the first content chunk at once, then
 * each later content chunk after `chunk_gap_ms`, and the finish, usage and [DONE] frames right after the
 * last content chunk. A frame is written as soon as it is due, never held back.
 */
function pump(ex: Exchange): void {
  ex.simTimer = null
  const res = ex.simReply!
  const frames = ex.simFrames
  if (frames === null || res.destroyed) return
  let out = ''
  let i = ex.simNext
  while (i < frames.length) {
    if (i === ex.simDropAt) {
      ex.simNext = i
      drop(ex, res, out)
      return
    }
    if (i === ex.simStallAt) {
      // Hold the connection open, sending nothing, until the client gives up (or close() destroys it).
      ex.simNext = i
      if (out !== '') res.write(out)
      return
    }
    if (ex.simGapMs > 0 && i > ex.simContentStart && i < ex.simContentEnd && ex.simWaited !== i) {
      ex.simNext = i
      ex.simWaited = i
      if (out !== '') res.write(out)
      ex.simTimer = setTimeout(pump, ex.simGapMs, ex)
      return
    }
    out += frames[i]
    i++
  }
  ex.simNext = i
  res.end(out)
}

/**
 * `drop_after_chunks`: writes what is due (the head at least), then destroys the socket once that is on the
 * wire, so the client sees the chunks, then the connection end without the stream's end.
 */
function drop(ex: Exchange, res: ServerResponse<Exchange>, out: string): void {
  ex.simCut = true
  ex.simFrames = null
  ex.simState!.stats.drops++
  // A fault path: the one closure here is not on the hot path.
  res.write(out, () => res.destroy())
}

function requestId(sim: SimState): string {
  sim.sequence++
  return `req_sim_${sim.sequence}`
}

function sendJson(ex: Exchange, status: number, value: unknown, retryAfter: number | null = null): void {
  const body = JSON.stringify(value)
  const res = ex.simReply!
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId(ex.simState!),
  }
  if (retryAfter !== null) headers['retry-after'] = String(retryAfter)
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * An error on an upstream path: counted, and a 429 says when to retry, as OpenAI's and Anthropic's do (after
 * 1 s, or `retry_after_s`, which a 503 then carries too).
 */
function sendError(ex: Exchange, status: number, body: unknown): void {
  const sim = ex.simState!
  sim.stats.errors++
  const wait = sim.behaviour.retry_after_s
  let retryAfter: number | null = null
  if (status === 429) retryAfter = wait ?? 1
  else if (status === 503) retryAfter = wait
  sendJson(ex, status, body, retryAfter)
}

/** /sim/*: the control plane, without auth and without counting in the stats. */
function handleSim(ex: Exchange, sim: SimState): void {
  const url = ex.url ?? ''
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const method = ex.method
  if (path === '/sim/stats' && method === 'GET') sendJson(ex, 200, sim.stats)
  else if (path === '/sim/config' && method === 'GET') sendJson(ex, 200, sim.behaviour)
  else if (path === '/sim/reset' && method === 'POST') {
    resetSim(sim)
    sendJson(ex, 200, sim.behaviour)
  } else if (path === '/sim/config' && method === 'POST') {
    const parsed = ex.simBadJson ? null : parseBehaviourPatch(ex.simBody)
    if (parsed === null) sendJson(ex, 400, errorEnvelope('The body must be JSON.', 'invalid_request_error'))
    else if (!parsed.ok) sendJson(ex, 400, errorEnvelope(parsed.error, 'invalid_request_error', parsed.key))
    else {
      sim.behaviour = applyBehaviourPatch(sim.behaviour, parsed.patch)
      sendJson(ex, 200, sim.behaviour)
    }
  } else sendJson(ex, 404, errorEnvelope(`Invalid URL (${ex.method} ${ex.url})`, 'invalid_request_error'))
}
