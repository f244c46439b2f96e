import type { Attribution } from '../governance/attribution.js'
import type { Account } from '../governance/state.js'
import type { LimitGrant } from '../limits/limiter.js'
import type { RouteInfo } from '../routing/auto.js'
import type { Usage } from '../routing/cost.js'
import type { ResolvedTarget } from '../routing/models.js'
import type { Clock } from './clock.js'

/** What the gateway learns about one request as it passes through; read by timing headers and the request log. */
export interface RequestContext {
  /** The `x-request-id` the client sees: its own, when it sent a safe one. */
  readonly id: string
  /** Unique per request whatever the client sent: the ledger row's id and the budget reservation's. */
  readonly uid: string
  readonly method: string
  readonly path: string
  readonly start: number
  /** Aborts when the client has gone; upstream calls made for this request end with it. */
  readonly signal: AbortSignal
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
  /** Governance's view of the caller (its key and project); undefined when governance is off. */
  account: Account | undefined
  /** Tags and session, for the ledger. */
  attribution: Attribution | undefined
  /** The configured model that served (after auto-routing, a forced model or a failover). */
  resolved: string | undefined
  /** The target that answered (its price is the cost's). */
  answered: ResolvedTarget | undefined
  /** Every upstream call, in order; all but the one that answered become extra ledger rows. */
  attempts: AttemptRecord[] | undefined
  /** What budgets and the ledger need to know of the request, counted once. */
  tokens: RequestTokens | undefined
  /** A budget reservation held until the request ends (nano-USD). */
  reservation: { amount: number; warning: string | undefined } | undefined
  /** A policy that changed the request (`force.code: gpt-4o-mini -> gpt-4o`). */
  override: string | undefined
  /** The cost and what caching saved, once known (nano-USD). */
  cost: Priced | undefined
  /** Content chunks a stream delivered, for estimating its output when the upstream reports no usage. */
  streamedChunks: number
  /** The answer's text, kept only for projects that log bodies. */
  responseText: string | undefined
  /** The request body, kept only for projects that log bodies. */
  requestBody: unknown
  /** The edge forwarded it, having applied its rate limits already (its signed assertion says so). */
  limitedAtEdge: boolean
  /** Its limits were checked before its body was read (no rule needed the body): none to check after. */
  limitsEarly: boolean
  /** What to undo when the request ends (`onAbortWhileOpen`'s listeners). */
  atEnd: (() => void)[] | undefined
}

/** One upstream call, for the ledger. */
export interface AttemptRecord {
  target: ResolvedTarget
  /** Epoch ms when it started. */
  started: number
  ms: number
  /** HTTP status it ended with (499 for one aborted: a hedge's loser). */
  status: number
  error: string | undefined
  /** This call's answer is the request's. */
  won: boolean
}

export interface RequestTokens {
  /** The prompt, counted with the tokenizer. */
  prompt: number
  /** The longest answer asked for (`max_tokens` × `n`), undefined when the request sets none. */
  output: number | undefined
  /** Answers asked for (`n`). */
  choices: number
}

export interface Priced {
  /** nano-USD; 0 for a cache hit or an error. */
  cost: number | undefined
  saved: number
  /** Auto-routing: what the reference model would have cost. */
  reference: number | undefined
  /** The tokens were estimated (no usage from the provider). */
  estimated: boolean
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

/**
 * A request's context: its id (the client's `x-request-id` when it is a short safe token, else a new UUID) and
 * its own unique id for the ledger (the same UUID, or a new one when the client chose the id). `signal` is the
 * client's (see `RequestEnv`); `req.signal` when the runtime gives none.
 */
export function createContext(
  req: Request,
  path: string,
  clock: Clock,
  signal: AbortSignal = req.signal,
): RequestContext {
  const given = req.headers.get('x-request-id')
  const id = given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID()
  return {
    id,
    uid: id === given ? crypto.randomUUID() : id,
    method: req.method,
    path,
    start: clock.now(),
    signal,
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
    account: undefined,
    attribution: undefined,
    resolved: undefined,
    answered: undefined,
    attempts: undefined,
    tokens: undefined,
    reservation: undefined,
    override: undefined,
    cost: undefined,
    streamedChunks: 0,
    responseText: undefined,
    requestBody: undefined,
    limitedAtEdge: false,
    limitsEarly: false,
    atEnd: undefined,
  }
}

/**
 * Calls `listener` once if `signal` aborts while the request is open; the listener is removed when the request
 * ends (with its bookkeeping, see `finishRequest`). `signal` may be the client connection's (`ctx.signal`, or
 * one linked to it), which outlives the request, so a listener left there would pile up.
 */
export function onAbortWhileOpen(ctx: RequestContext, signal: AbortSignal, listener: () => void): void {
  signal.addEventListener('abort', listener, { once: true })
  const undo = () => signal.removeEventListener('abort', listener)
  if (ctx.atEnd === undefined) ctx.atEnd = [undo]
  else ctx.atEnd.push(undo)
}
