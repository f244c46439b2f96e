import type { CacheEngine, CacheHit } from '../cache/engine.js'
import { cachePlan } from '../cache/policy.js'
import { replayChunks, sseOf } from '../cache/replay.js'
import type { Clock } from '../core/clock.js'
import { GatewayError, toGatewayError } from '../core/errors.js'
import { attributionOf } from '../governance/attribution.js'
import { costNanos, formatUsd } from '../governance/money.js'
import { checkModel } from '../governance/policy.js'
import { ledgerRouteOf } from '../governance/routes.js'
import { chatTokens } from '../limits/estimate.js'
import { type Limiter, type LimitGrant, rateLimitHeaders } from '../limits/limiter.js'
import { bearerToken } from '../pipeline/auth.js'
import { usageOf } from '../routing/cost.js'
import { ASSERTION_HEADER, type EdgeAssertion, signAssertion } from './assertion.js'
import type { EdgeConfig } from './config.js'
import type { EdgeKey, EdgeKeys } from './keys.js'
import { type Origins, OriginsUnreachable } from './origins.js'
import type { EdgeUsage, UsageBatcher } from './usage.js'

export interface EdgeDeps {
  /** The edge's config: from KV, else from the origin. */
  config(): Promise<EdgeConfig>
  keys: EdgeKeys
  /** Rate limits (a Durable Object per project or key); undefined: the edge forwards unlimited. */
  limiter: Limiter | undefined
  /** Registers the rules of a key's replica entry for the limiter, before it is asked. */
  learnLimits(key: EdgeKey): void
  /** KV replica first, then the origin's cache-lookup route. */
  cache: CacheEngine
  origins: Origins
  usage: UsageBatcher
  /** HMAC key of the edge assertion (EDGE_SECRET). */
  assertion: CryptoKey
  clock: Clock
}

/** Keeps the runtime alive for work that finishes after the response (`ctx.waitUntil`). */
export type WaitUntil = (work: Promise<unknown>) => void

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const HOP = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade'])

interface Call {
  req: Request
  path: string
  id: string
  start: number
  waitUntil: WaitUntil
  key: EdgeKey | undefined
  grant: LimitGrant | undefined
}

/**
 * The edge tier as a fetch handler, the same on every runtime (the Workers adapter gives it KV, a Durable
 * Object and fetch): a bad key is refused here, rate limits are checked here, a cache hit is answered here
 * (from KV, else from the origin's cache, written back to KV), and everything else goes to the first healthy
 * origin with a signed assertion of what was checked. The cache key, the cache policy, key hashing, policy
 * checks and rate-limit rules are the origin's own code.
 */
export function createEdge(deps: EdgeDeps): (req: Request, waitUntil: WaitUntil) => Promise<Response> {
  const { clock } = deps
  return async (req, waitUntil) => {
    const url = new URL(req.url)
    const path = url.pathname
    if (path === '/health') return json(200, { status: 'ok', tier: 'edge' }, {})
    if (!path.startsWith('/v1/')) return passThrough(req, url)
    const given = req.headers.get('x-request-id')
    const call: Call = {
      req,
      path,
      id: given !== null && REQUEST_ID.test(given) ? given : crypto.randomUUID(),
      start: clock.now(),
      waitUntil,
      key: undefined,
      grant: undefined,
    }
    try {
      return await handle(call, url)
    } catch (err) {
      const error = toGatewayError(err)
      if (call.grant !== undefined) settleLimits(call, call.grant, 0)
      if (call.key !== undefined && error.status !== 401)
        record(call, undefined, error.status, error.code, undefined)
      return errorResponse(call, error)
    }
  }

  async function handle(call: Call, url: URL): Promise<Response> {
    const { req } = call
    const token = bearerToken(req.headers) ?? (req.headers.get('x-api-key')?.trim() || undefined)
    if (token === undefined) {
      throw new GatewayError(
        'MERIDIAN_UNAUTHORIZED',
        'missing gateway key: send it as "Authorization: Bearer <key>" (or in x-api-key)',
      )
    }
    const key = await deps.keys.resolve(token, call.waitUntil)
    call.key = key
    if (req.method !== 'POST') return forward(call, url, undefined, false)

    const config = await deps.config()
    const length = Number(req.headers.get('content-length') ?? 0)
    // Too large, or not JSON: the origin answers it (413, 400), and records it.
    if (length > config.maxBody) return forward(call, url, req.body, false)
    const text = await req.text()
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text)
      if (
        body === null ||
        typeof body !== 'object' ||
        Array.isArray(body) ||
        typeof body.model !== 'string'
      ) {
        return forward(call, url, text, false)
      }
    } catch {
      return forward(call, url, text, false)
    }
    const model = body.model as string

    if (deps.limiter !== undefined) {
      deps.learnLimits(key)
      const grant = deps.limiter.acquire(key.entry.keyId, key.entry.project, model, () =>
        chatTokens(body, config.defaultOutputTokens),
      )
      call.grant = grant instanceof Promise ? await grant : grant
    }

    const hit =
      call.path === '/v1/chat/completions' ? await lookup(call, config, key, body, model) : undefined
    const answered = hit === undefined ? undefined : answerHit(call, config, body, model, hit)
    return answered ?? forward(call, url, text, true)
  }

  /** A stored answer for this request, when the edge may serve one: else undefined (the origin decides). */
  async function lookup(
    call: Call,
    config: EdgeConfig,
    key: EdgeKey,
    body: Record<string, unknown>,
    model: string,
  ): Promise<CacheHit | undefined> {
    const known = Object.hasOwn(config.models, model) ? config.models[model] : undefined
    if (known === undefined) return undefined
    const policy = key.policy
    // A policy that would change the request (a forced model, a max_tokens sent for the client) or needs the
    // exact prompt count is the origin's to apply; so is a denial, which the origin audits.
    if (policy.forces || policy.maxInputTokens !== undefined) return undefined
    if (policy.maxTokens !== undefined) {
      const asked = body.max_completion_tokens ?? body.max_tokens
      if (typeof asked !== 'number' || asked > policy.maxTokens) return undefined
    }
    try {
      checkModel(policy, key.models, key.entry.project, model)
    } catch {
      return undefined
    }
    let plan: ReturnType<typeof cachePlan>
    try {
      const project = key.entry.project
      plan = cachePlan(
        config.cache,
        Object.hasOwn(config.cache.projects, project) ? config.cache.projects[project] : undefined,
        known.cache,
        body,
        call.req.headers,
      )
    } catch {
      return undefined
    }
    if (plan === undefined || !plan.read) return undefined
    const cacheKey = await deps.cache.key({
      project: key.entry.project,
      keyVersion: config.keyVersion,
      model,
      targets: known.labels,
      op: 'chat',
      body,
    })
    const found = await deps.cache.lookup(cacheKey)
    if (found === undefined || typeof found === 'symbol') return undefined
    if (found.writeBack !== undefined) call.waitUntil(found.writeBack)
    return found
  }

  /** The hit as this client asked for it; undefined when it cannot be replayed (the origin answers then). */
  function answerHit(
    call: Call,
    config: EdgeConfig,
    body: Record<string, unknown>,
    model: string,
    hit: CacheHit,
  ): Response | undefined {
    const { entry } = hit
    const stream = body.stream === true
    const options = body.stream_options as { include_usage?: unknown } | null | undefined
    const usage = usageOf(entry.body)
    const headers = baseHeaders(call)
    headers['x-meridian-cache'] = 'hit'
    headers['x-meridian-cache-layer'] = hit.layer
    headers.age = String(Math.max(0, Math.floor((clock.epoch() - entry.storedAt) / 1000)))
    headers['x-meridian-cost'] = '0'
    const saved = usage === undefined ? 0 : (costNanos(config.prices[entry.target], usage) ?? 0)
    if (saved > 0) headers['x-meridian-saved'] = formatUsd(saved)
    let text = entry.body
    if (stream) {
      try {
        text = sseOf(replayChunks(entry.body, { includeUsage: options?.include_usage === true }))
      } catch {
        return undefined
      }
      headers['content-type'] = 'text/event-stream; charset=utf-8'
      headers['cache-control'] = 'no-cache'
    }
    if (call.grant !== undefined) settleLimits(call, call.grant, 0)
    record(call, model, 200, null, { hit, usage, stream })
    return new Response(text, { status: 200, headers })
  }

  /** Forwards to the first healthy origin, with the assertion of what the edge checked. */
  async function forward(
    call: Call,
    url: URL,
    body: string | ReadableStream | null | undefined,
    limited: boolean,
  ): Promise<Response> {
    const { req, key } = call
    const assertion: EdgeAssertion = {
      key: key!.entry.keyId,
      project: key!.entry.project,
      request: call.id,
      at: clock.epoch(),
      limited: limited && call.grant !== undefined,
    }
    const signed = await signAssertion(deps.assertion, assertion)
    const edgeMs = clock.now() - call.start
    const headers = new Headers()
    for (const [name, value] of req.headers) if (!HOP.has(name)) headers.set(name, value)
    headers.set('x-request-id', call.id)
    headers.set(ASSERTION_HEADER, signed)
    const canRetry = typeof body === 'string' || body === undefined
    let res: Response
    try {
      res = await deps.origins.send((origin, signal) => {
        if (!canRetry && body !== null && (body as ReadableStream).locked) {
          throw new OriginsUnreachable(['(a streamed body cannot be sent twice)'])
        }
        return new Request(origin + url.pathname + url.search, {
          method: req.method,
          headers,
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : (body ?? req.body),
          signal,
          ...(canRetry ? {} : { duplex: 'half' }),
        } as RequestInit)
      })
    } catch (err) {
      if (err instanceof OriginsUnreachable) {
        throw new GatewayError(
          'MERIDIAN_ORIGIN_UNREACHABLE',
          `the gateway's origin cannot be reached (${err.tried.length} tried)`,
        )
      }
      throw err
    }
    const out = new Headers(res.headers)
    const timing = out.get('server-timing')
    const edge = `edge;dur=${edgeMs.toFixed(3)}`
    out.set('server-timing', timing === null ? edge : `${timing}, ${edge}`)
    const grant = call.grant
    if (grant !== undefined) {
      for (const [name, value] of Object.entries(rateLimitHeaders(grant.decision))) out.set(name, value)
    }
    if (grant === undefined || res.body === null) {
      if (grant !== undefined) settleLimits(call, grant, tokensOf(res))
      return new Response(res.body, { status: res.status, headers: out })
    }
    // The lease is held until the body is through (a stream's last chunk, or the client leaving).
    let settled = false
    const settle = () => {
      if (settled) return
      settled = true
      settleLimits(call, grant, tokensOf(res))
    }
    const reader = res.body.getReader()
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await reader.read()
        if (next.done) {
          settle()
          controller.close()
        } else controller.enqueue(next.value)
      },
      cancel(reason) {
        settle()
        return reader.cancel(reason)
      },
    })
    return new Response(stream, { status: res.status, headers: out })
  }

  /** Anything outside /v1 (the admin API, readiness) goes to the origin as it is. */
  async function passThrough(req: Request, url: URL): Promise<Response> {
    if (url.pathname.startsWith('/internal/')) {
      return json(
        404,
        new GatewayError('MERIDIAN_NOT_FOUND', `no route for ${req.method} ${url.pathname}`).toJSON(),
        {},
      )
    }
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.text()
    try {
      return await deps.origins.send(
        (origin, signal) =>
          new Request(origin + url.pathname + url.search, {
            method: req.method,
            headers: req.headers,
            body,
            signal,
          }),
      )
    } catch {
      const error = new GatewayError('MERIDIAN_ORIGIN_UNREACHABLE', "the gateway's origin cannot be reached")
      return json(error.status, error.toJSON(), {})
    }
  }

  /** Gives back what the request held in the Durable Object, kept alive past the response. */
  function settleLimits(call: Call, grant: LimitGrant, used: number | undefined): void {
    const done = deps.limiter?.settle(grant, used)
    if (done !== undefined) call.waitUntil(done)
  }

  function baseHeaders(call: Call): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-request-id': call.id,
      'server-timing': `edge;dur=${(clock.now() - call.start).toFixed(3)}`,
    }
    if (call.grant !== undefined) rateLimitHeaders(call.grant.decision, headers)
    return headers
  }

  function errorResponse(call: Call, error: GatewayError): Response {
    const headers = baseHeaders(call)
    if (error.headers) Object.assign(headers, error.headers)
    return json(error.status, error.toJSON(), headers)
  }

  /** The usage record of a request the edge answered itself (its ledger row at the origin). */
  function record(
    call: Call,
    model: string | undefined,
    status: number,
    error: string | null,
    served: { hit: CacheHit; usage: ReturnType<typeof usageOf>; stream: boolean } | undefined,
  ): void {
    const key = call.key!
    const route = ledgerRouteOf(call.path)
    if (route === undefined) return
    let attribution: ReturnType<typeof attributionOf> | undefined
    try {
      attribution = attributionOf(call.req.headers)
    } catch {
      attribution = undefined
    }
    const usage = served?.usage
    const entry: EdgeUsage = {
      id: `edge-${crypto.randomUUID()}`,
      request_id: call.id,
      ts: clock.epoch() - Math.round(clock.now() - call.start),
      project: key.entry.project,
      key_id: key.entry.keyId,
      session: attribution?.session ?? null,
      tags: attribution?.tags === undefined ? null : { ...attribution.tags },
      route,
      model_requested: model ?? null,
      model_served: served === undefined ? null : (model ?? null),
      target: served?.hit.entry.target ?? null,
      status,
      error,
      stream: served?.stream ?? false,
      cache: served === undefined ? null : 'hit',
      cache_layer: served?.hit.layer ?? null,
      tokens_in: usage?.prompt ?? null,
      tokens_out: usage?.completion ?? null,
      tokens_cached: usage?.cached ?? null,
      latency_ms: Math.round((clock.now() - call.start) * 1000) / 1000,
    }
    call.waitUntil(deps.usage.add(entry))
  }
}

/** The tokens an origin reports it used (`x-meridian-tokens`), for settling a tpm reservation. */
function tokensOf(res: Response): number | undefined {
  const value = res.headers.get('x-meridian-tokens')
  return value === null ? undefined : Number(value)
}

function json(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}
