// `meridian sim`: an OpenAI-compatible upstream for tests, demos and load tests, which also speaks
// Anthropic's and Gemini's APIs on their own paths (sim-dialects.ts). It is the "direct" baseline of the
// latency benchmark, so it is raw node:http with no framework: per-request state lives on an IncomingMessage
// subclass (sim-exchange.ts) and every listener is a module-level function, so a request allocates no
// closures; non-stream bodies go out in one end() with a content-length. Streams are paced in sim-stream.ts.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  applyBehaviourPatch,
  defaultBehaviour,
  parseBehaviourPatch,
  type SimBehaviour,
} from '../../sim/behaviour.js'
import { chatCompletion, chatRequestProblem, planChat } from '../../sim/chat.js'
import { chatStreamFrames } from '../../sim/chat-stream.js'
import { embeddingList, embeddingsRequestProblem } from '../../sim/embeddings.js'
import { errorEnvelope, type JsonObject, modelList, modelObject } from '../../sim/wire.js'
import {
  answer,
  authFailure,
  DEFAULT_ANTHROPIC_MODELS,
  DEFAULT_GEMINI_MODELS,
  notFound,
  presentedKey,
  requestProblem,
  routeKind,
  SIM_DIALECTS,
  type SimDialect,
  statusError,
} from './sim-dialects.js'
import {
  classify,
  Exchange,
  ROUTE_CHAT,
  ROUTE_DIALECT,
  ROUTE_EMBEDDINGS,
  ROUTE_MODEL,
  ROUTE_MODELS,
  ROUTE_NOT_FOUND,
  ROUTE_OTHER,
  ROUTE_SIM,
  type SimState,
  type SimStats,
  sendError,
  sendJson,
} from './sim-exchange.js'
import { startStream } from './sim-stream.js'

export type { SimLastRequest, SimStats } from './sim-exchange.js'

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
