import { Hono } from 'hono'
import { mountAdmin } from '../api/admin/index.js'
import {
  handleCacheStats,
  handleHealthStats,
  handleLimitStats,
  handleMetrics,
  handlePurgeKey,
  handlePurgeProject,
  pathParam,
} from '../api/admin/operations.js'
import { anthropicErrorResponse, handleCountTokens, handleMessages } from '../api/anthropic/handler.js'
import { handleHealth, handleReady } from '../api/health.js'
import { handleCacheLookup, handleEdgeConfig, handleKeyLookup, handleUsage } from '../api/internal.js'
import { handleChat } from '../api/openai/chat.js'
import { handleEmbeddings } from '../api/openai/embeddings.js'
import { handleModels, modelsListJson } from '../api/openai/models.js'
import { type CacheEngine, createCacheEngine } from '../cache/engine.js'
import type { Sha256Hex } from '../cache/fingerprint.js'
import { Flights } from '../cache/flight.js'
import type { CacheTier } from '../cache/tier.js'
import type { Config } from '../config/schema.js'
import { assertionKey } from '../edge/assertion.js'
import { edgeConfigOf } from '../edge/config.js'
import type { Governance } from '../governance/governance.js'
import { configRules, createLimiter, type Limiter } from '../limits/limiter.js'
import { memoryLimits } from '../limits/memory.js'
import type { LimitStore } from '../limits/store.js'
import { staticKeys } from '../pipeline/auth.js'
import { ownKeyCandidates, reserveBudget } from '../pipeline/govern.js'
import type { Provider } from '../providers/provider.js'
import { createProvider } from '../providers/registry.js'
import { createAutoRouter } from '../routing/auto.js'
import { HealthGate, type HealthOptions, type SharedHealth } from '../routing/health.js'
import { createModelTable, type ResolvedTarget } from '../routing/models.js'
import { failoverTable, timerSleep } from '../routing/router.js'
import { type Logger, silentLogger } from '../telemetry/logger.js'
import { type Clock, systemClock } from './clock.js'
import { createContext, type RequestContext } from './context.js'
import { GatewayError } from './errors.js'
import type { HttpClient } from './http-client.js'
import { errorResponse } from './respond.js'
import type { ReadinessCheck, Runtime } from './runtime.js'
import { createScrubber } from './scrub.js'

export interface GatewayDeps {
  /** The validated configuration (see `parseConfig`). */
  config: Config
  /** How to reach upstreams: undici on Node, fetch on Workers. */
  http: HttpClient
  clock?: Clock
  logger?: Logger
  /** Dependencies `GET /ready` checks. */
  readiness?: ReadinessCheck[]
  /** Where rate-limit counters live (Redis on Node at scale); in process memory when absent. */
  limits?: LimitStore
  /** The cache's tiers (built by the adapter from `config.cache`); without them nothing is cached. */
  cache?: CacheTiers
  /** Where the health gate shares outages between instances (Redis on Node); this instance alone when absent. */
  health?: SharedHealth
  /** In [0, 1), for load balancing and backoff jitter (Math.random when absent). */
  random?: () => number
  /** Waits for backoffs and hedge delays (the runtime's timers when absent). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /**
   * Projects, keys, policies, budgets and the ledger (started by the adapter); without it, keys come from the
   * config alone and nothing is accounted.
   */
  governance?: Governance
  /**
   * Runs a request's bookkeeping (settling its limits and budget, its ledger row, its log line) once its
   * response is on its way: `setImmediate` on Node, so that work is not between the upstream's answer and the
   * client. When absent it runs at once, before the response is returned.
   */
  defer?: (work: () => void) => void
}

export interface CacheTiers {
  /** The source of truth: Redis, SQLite or memory. */
  source: CacheTier
  /** The replica read first: in-process on Node, KV on Workers. */
  replica?: CacheTier
  /** A faster SHA-256 than Web Crypto's, where the runtime has one. */
  sha256?: Sha256Hex
  /** Write-only copies of every stored answer (the edge's KV). */
  mirrors?: CacheTier[]
}

/** How often a failing store (cache tier, rate-limit store) is logged at most (each failure is counted). */
const STORE_ERROR_LOG_MS = 10_000

/** A Web-standard request handler: the whole gateway, for any runtime that speaks Request and Response. */
export type FetchHandler = (req: Request, env?: RequestEnv) => Response | Promise<Response>

/** What a runtime knows of a request beyond the Request itself. */
export interface RequestEnv {
  /**
   * Aborts when the client has gone; `req.signal` when absent. The Node adapter gives one per connection (a
   * client leaves an HTTP/1.1 request only by closing its connection), which spares every request an
   * AbortController of its own.
   */
  signal?: AbortSignal
}

/**
 * Builds the gateway. Runtime-agnostic: everything it needs arrives in `deps`.
 *
 * @example
 * const handle = createGateway({ config: parseConfig(text, env), http: undiciClient() })
 * const res = await handle(new Request('http://gw/v1/models'))
 */
export function createGateway(deps: GatewayDeps): FetchHandler {
  const { config } = deps
  const providers = new Map<string, Provider>()
  for (const p of config.providers) providers.set(p.id, createProvider(p, config.models))
  const clock = deps.clock ?? systemClock
  const models = createModelTable(config.models, providers)
  const logger = deps.logger ?? silentLogger
  const rt: Runtime = {
    config,
    clock,
    http: deps.http,
    logger,
    scrub: createScrubber([...providers.values()].flatMap((p) => p.secrets)),
    keys: deps.governance?.resolveKey ?? staticKeys(config.keys),
    models,
    auto: createAutoRouter(config, models),
    router: {
      config: config.router,
      health: new HealthGate(healthOptions(config.router.health), clock, deps.health),
      failovers: failoverTable(models),
      random: deps.random ?? Math.random,
      sleep: deps.sleep ?? timerSleep,
    },
    readiness: deps.readiness ?? [],
    limiter: limiter(config, deps.limits, logger, clock, deps.governance),
    cache: deps.cache ? cacheEngine(deps.cache, logger, clock) : undefined,
    flights: new Flights(),
    cacheRules: new Map(Object.entries(config.cache.projects)),
    targets: targetsByLabel(models.values()),
    governance: deps.governance,
    edge: config.edge.secret === undefined ? undefined : { assertion: assertionKey(config.edge.secret) },
    defer: deps.defer,
  }
  if (deps.governance !== undefined) {
    rt.reserve = (ctx, model) => reserveBudget(rt, ctx, model)
    rt.candidates = ownKeyCandidates
  }
  const modelsJson = modelsListJson(models, Math.floor(clock.epoch() / 1000), rt.auto.aliases)

  type Handler = (req: Request, ctx: RequestContext) => Response | Promise<Response>
  const app = new Hono()
  type Fail = (rt: Runtime, ctx: RequestContext, err: unknown) => Response
  /** A route: its context, its handler, and its failures in the route's error shape (OpenAI's by default). */
  const route =
    (handler: Handler, fail: Fail = errorResponse) =>
    async (c: { req: { raw: Request; path: string }; env: unknown }) => {
      const env = c.env as RequestEnv | undefined
      const ctx = createContext(c.req.raw, c.req.path, clock, env?.signal)
      try {
        return await handler(c.req.raw, ctx)
      } catch (err) {
        return fail(rt, ctx, err)
      }
    }
  app.post(
    '/v1/chat/completions',
    route((req, ctx) => handleChat(rt, req, ctx)),
  )
  app.post(
    '/v1/messages',
    route((req, ctx) => handleMessages(rt, req, ctx), anthropicErrorResponse),
  )
  app.post(
    '/v1/messages/count_tokens',
    route((req, ctx) => handleCountTokens(rt, req, ctx), anthropicErrorResponse),
  )
  app.post(
    '/v1/embeddings',
    route((req, ctx) => handleEmbeddings(rt, req, ctx)),
  )
  app.get(
    '/v1/models',
    route((req, ctx) => handleModels(rt, req, ctx, modelsJson)),
  )
  app.get(
    '/health',
    route((_, ctx) => handleHealth(rt, ctx)),
  )
  app.get(
    '/ready',
    route((_, ctx) => handleReady(rt, ctx)),
  )
  app.delete(
    '/admin/cache/keys/:key',
    route((req, ctx) => handlePurgeKey(rt, req, ctx, pathParam(ctx.path, '/admin/cache/keys/'))),
  )
  app.delete(
    '/admin/cache/projects/:project',
    route((req, ctx) => handlePurgeProject(rt, req, ctx, pathParam(ctx.path, '/admin/cache/projects/'))),
  )
  app.get(
    '/admin/cache/stats',
    route((req, ctx) => handleCacheStats(rt, req, ctx)),
  )
  app.get(
    '/admin/limits/stats',
    route((req, ctx) => handleLimitStats(rt, req, ctx)),
  )
  app.get(
    '/admin/health',
    route((req, ctx) => handleHealthStats(rt, req, ctx)),
  )
  app.get(
    '/admin/metrics',
    route((req, ctx) => handleMetrics(rt, req, ctx)),
  )
  mountAdmin(app, rt)
  const edgeConfig = JSON.stringify(edgeConfigOf(config, models))
  app.get(
    '/internal/keys/:hash',
    route((req, ctx) => handleKeyLookup(rt, req, ctx, pathParam(ctx.path, '/internal/keys/'))),
  )
  app.get(
    '/internal/cache/:key',
    route((req, ctx) => handleCacheLookup(rt, req, ctx, pathParam(ctx.path, '/internal/cache/'))),
  )
  app.post(
    '/internal/usage',
    route((req, ctx) => handleUsage(rt, req, ctx)),
  )
  app.get(
    '/internal/edge-config',
    route((req, ctx) => handleEdgeConfig(rt, req, ctx, edgeConfig)),
  )
  // Wrong methods are told apart here rather than by catch-all routes: a second route matching the same
  // path would take every request off Hono's single-handler fast path.
  const known = new Set([
    '/v1/chat/completions',
    '/v1/messages',
    '/v1/messages/count_tokens',
    '/v1/embeddings',
    '/v1/models',
    '/health',
    '/ready',
  ])
  app.notFound(
    route((req, ctx) => {
      if (known.has(ctx.path)) {
        throw new GatewayError(
          'MERIDIAN_METHOD_NOT_ALLOWED',
          `method ${req.method} is not allowed on ${ctx.path}`,
        )
      }
      throw new GatewayError('MERIDIAN_NOT_FOUND', `no route for ${req.method} ${ctx.path}`)
    }),
  )

  return (req, env) => app.fetch(req, env)
}

/**
 * A store failure's warning, written at most once per 10 s for each `about` (every failure is still counted
 * where it happens): an outage is one line, not one per request.
 */
function storeWarning(logger: Logger, clock: Clock) {
  const lastLogged = new Map<string, number>()
  return (about: string, message: string, err: unknown, fields: Record<string, unknown> = {}) => {
    const now = clock.now()
    if (now - (lastLogged.get(about) ?? -Infinity) < STORE_ERROR_LOG_MS) return
    lastLogged.set(about, now)
    logger.warn(message, { ...fields, error: err instanceof Error ? err.message : String(err) })
  }
}

/** The cache engine over the adapter's tiers. */
function cacheEngine(tiers: CacheTiers, logger: Logger, clock: Clock): CacheEngine {
  const warn = storeWarning(logger, clock)
  return createCacheEngine({
    ...tiers,
    onError: (tier, op, err) => warn(tier, 'cache tier failed; requests go on without it', err, { tier, op }),
  })
}

/** Every target of every model, by label. */
function targetsByLabel(models: Iterable<{ targets: ResolvedTarget[] }>): Map<string, ResolvedTarget> {
  const out = new Map<string, ResolvedTarget>()
  for (const model of models) for (const t of model.targets) if (!out.has(t.label)) out.set(t.label, t)
  return out
}

/** The limiter, when any key or project has limits (or may get some: governance edits them at run time). */
function limiter(
  config: Config,
  store: LimitStore | undefined,
  logger: Logger,
  clock: Clock,
  governance: Governance | undefined,
): Limiter | undefined {
  const limited = config.keys.some((k) => k.limits) || Object.keys(config.limits.projects).length > 0
  if (!limited && governance === undefined) return undefined
  const warn = storeWarning(logger, clock)
  const policy =
    config.limits.on_store_error === 'open' ? 'admitting requests unchecked' : 'refusing requests'
  const fixed = governance === undefined ? configRules(config) : undefined
  return createLimiter({
    rules: governance?.limitRules ?? (() => fixed!),
    onStoreFailure: config.limits.on_store_error,
    store: store ?? memoryLimits({ leaseMs: config.limits.lease }),
    onStoreError: (err) => warn('limits', `rate-limit store failed; ${policy} until it answers`, err),
  })
}

/** The health gate's options from `router.health`. */
function healthOptions(config: Config['router']['health']): Partial<HealthOptions> {
  return {
    windowMs: config.window,
    minRequests: config.min_requests,
    errorRate: config.error_rate,
    slowFactor: config.slow_factor,
    cooldownMs: config.cooldown,
    probeEvery: config.probe_every,
  }
}
