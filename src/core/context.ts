import type { LimitGrant } from '../limits/limiter.js'
import type { RouteInfo } from '../routing/auto.js'
import type { Usage } from '../routing/cost.js'
import type { Clock } from './clock.js'

/** What the gateway learns about one request as it passes through; read by timing headers and the request log. */
export interface RequestContext {
  readonly id: string
  readonly method: string
  readonly path: string
  readonly start: number
  /** Time spent waiting on upstreams, in ms. */
  upstreamMs: number
  project: string | undefined
  /** The model name the client asked for. */
  model: string | undefined
  /** `provider/model` of the target that answered. */
  target: string | undefined
  stream: boolean
  /** The gateway key's id (its name), once authenticated. */
  keyId: string | undefined
  /** The request's hold on its rate limits, until `finishRequest` settles it. */
  limit: LimitGrant | undefined
  /** Time spent waiting on a remote rate-limit store, in ms (a `Server-Timing` entry when set). */
  limitsMs: number | undefined
  /** Tokens the answer used, when known (the provider's usage; 0 for a cache hit). */
  usedTokens: number | undefined
  /** Parameters the answering provider could not honour and dropped (`x-meridian-warning`). */
  warnings: readonly string[] | undefined
  /** What the cache did; undefined when the route has no cache (no `x-meridian-cache` header then). */
  cache: CacheInfo | undefined
  /** What auto-routing chose, when the client asked for `auto`. */
  route: RouteInfo | undefined
  /** The answer's token usage, read for auto-routed requests (their log line prices it). */
  usage: Usage | undefined
  /** `<asked> -> <served>` when a model of the same bucket answered in the asked model's place. */
  failover: string | undefined
  /** The model that answered, when it is not the one asked for (failover). */
  served: string | undefined
  /** A hedged request: the primary target, the hedge's, and which answered. */
  hedge: { primary: string; hedge: string; winner: string } | undefined
}

/** `x-meridian-cache` and its companions. */
export interface CacheInfo {
  /** `coalesced`: answered by an identical request that was already in flight. */
  status: 'hit' | 'miss' | 'bypass' | 'coalesced'
  /** On hits: which tier answered, and the entry's age in seconds. */
  layer?: 'edge' | 'origin'
  age?: number
  /** With `x-meridian-debug: 1`. */
  key?: string
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Keeps a client's `x-request-id` when it is safe to echo (a short token), otherwise makes one. */
export function requestIdFrom(headers: Headers): string {
  const given = headers.get('x-request-id')
  return given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID()
}

export function createContext(req: Request, path: string, clock: Clock): RequestContext {
  return {
    id: requestIdFrom(req.headers),
    method: req.method,
    path,
    start: clock.now(),
    upstreamMs: 0,
    project: undefined,
    model: undefined,
    target: undefined,
    stream: false,
    keyId: undefined,
    limit: undefined,
    limitsMs: undefined,
    usedTokens: undefined,
    warnings: undefined,
    cache: undefined,
    route: undefined,
    usage: undefined,
    failover: undefined,
    served: undefined,
    hedge: undefined,
  }
}
