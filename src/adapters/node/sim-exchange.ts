// The sim's state, and one request's: an IncomingMessage subclass that Node builds for each request, so the
// listeners in sim-server.ts and sim-stream.ts find everything on `this` and allocate no closures; the route
// a request takes (`classify`), and the JSON replies.
import { type IncomingHttpHeaders, IncomingMessage, type ServerResponse } from 'node:http'
import type { SimBehaviour } from '../../sim/behaviour.js'
import {
  type DialectRoute,
  dialectRoute,
  primaryDialect,
  type SimDialect,
  speaks,
  type WireDialect,
} from './sim-dialects.js'

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

export interface SimState {
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

export const ROUTE_OTHER = 0
export const ROUTE_NOT_FOUND = 1
export const ROUTE_CHAT = 2
export const ROUTE_EMBEDDINGS = 3
export const ROUTE_MODELS = 4
export const ROUTE_MODEL = 5
export const ROUTE_SIM = 6
export const ROUTE_DIALECT = 7

/**
 * One request and its response's state. Node builds it for us (createServer's IncomingMessage option), so
 * the listeners below find everything on `this` and no per-request closure is needed. Field names are
 * prefixed so they cannot shadow IncomingMessage's own.
 */
export class Exchange extends IncomingMessage {
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

export function requestId(sim: SimState): string {
  sim.sequence++
  return `req_sim_${sim.sequence}`
}

export function sendJson(
  ex: Exchange,
  status: number,
  value: unknown,
  retryAfter: number | null = null,
): void {
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
export function sendError(ex: Exchange, status: number, body: unknown): void {
  const sim = ex.simState!
  sim.stats.errors++
  const wait = sim.behaviour.retry_after_s
  let retryAfter: number | null = null
  if (status === 429) retryAfter = wait ?? 1
  else if (status === 503) retryAfter = wait
  sendJson(ex, status, body, retryAfter)
}

/** Sets the route; returns whether this is an upstream (/v1, /v1beta or Azure) request that the stats count. */
export function classify(ex: Exchange, path: string, method: string): boolean {
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
