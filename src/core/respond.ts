import { rateLimitHeaders } from '../limits/limiter.js'
import { costHeaders, recordRequest } from '../pipeline/record.js'
import type { RouteInfo } from '../routing/auto.js'
import { costOf, type Usage } from '../routing/cost.js'
import { serverTiming } from '../telemetry/server-timing.js'
import type { RequestContext } from './context.js'
import { type GatewayError, toGatewayError } from './errors.js'
import type { Runtime } from './runtime.js'

/** The headers every response carries. A plain record: the Node server writes it without a Headers object. */
export function baseHeaders(rt: Runtime, ctx: RequestContext, contentType: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-request-id': ctx.id,
    'server-timing': serverTiming(ctx, rt.clock),
  }
  const cache = ctx.cache
  if (cache !== undefined) {
    headers['x-meridian-cache'] = cache.status
    if (cache.layer !== undefined) {
      headers['x-meridian-cache-layer'] = cache.layer
      headers.age = String(cache.age ?? 0)
    }
    if (cache.key !== undefined) headers['x-meridian-cache-key'] = cache.key
  }
  if (ctx.limit !== undefined) rateLimitHeaders(ctx.limit.decision, headers)
  if (ctx.failover !== undefined) {
    headers['x-meridian-failover'] = ctx.failover
    headers['x-meridian-model'] = ctx.served!
  }
  const route = ctx.route
  if (route !== undefined) {
    headers['x-meridian-model'] = ctx.served ?? route.model
    headers['x-meridian-mode'] = route.mode
    if (route.label !== undefined) headers['x-meridian-task-type'] = route.label
    if (route.reason !== undefined) headers['x-meridian-route-reason'] = route.reason
  }
  if (ctx.warnings !== undefined && ctx.warnings.length > 0) {
    // The names may be a client's own JSON keys: only printable ASCII may go into a header value.
    const names = ctx.warnings.join(', ').replace(/[^\x20-\x7e]/g, '?')
    headers['x-meridian-warning'] =
      `parameters not supported by ${ctx.target ?? 'the provider'}, ignored: ${names}`
  }
  return headers
}

export function jsonResponse(rt: Runtime, ctx: RequestContext, status: number, body: string): Response {
  return textResponse(rt, ctx, status, body, 'application/json')
}

/** A whole body of any text type, with the headers every response carries; the request ends with it. */
export function textResponse(
  rt: Runtime,
  ctx: RequestContext,
  status: number,
  body: string,
  contentType: string,
): Response {
  const headers = baseHeaders(rt, ctx, contentType)
  costHeaders(rt, ctx, status, headers)
  const res = new Response(body, { status, headers })
  finishRequest(rt, ctx, status)
  return res
}

/** Any failure as the OpenAI error envelope; unexpected ones are logged and answered as an opaque 500. */
export function errorResponse(rt: Runtime, ctx: RequestContext, err: unknown): Response {
  const error = toGatewayError(err)
  if (error.code === 'MERIDIAN_INTERNAL') {
    const cause =
      error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : String(error.cause)
    rt.logger.error('unexpected error', { request_id: ctx.id, error: rt.scrub(cause) })
  }
  const headers = baseHeaders(rt, ctx, 'application/json')
  if (error.headers) Object.assign(headers, error.headers)
  costHeaders(rt, ctx, error.status, headers)
  const res = new Response(JSON.stringify(error.toJSON()), { status: error.status, headers })
  finishRequest(rt, ctx, error.status, error)
  return res
}

/**
 * Called exactly once per request, when it has ended (for a stream, when the stream has): gives back what the
 * request held (its rate-limit lease and token reservation, settled to the tokens it used), records it in the
 * ledger, then writes its log line: what happened, never what was said (no bodies, no keys). All of it runs
 * after the response is handed over where the runtime can defer work (`rt.defer`); its cost (headers) is
 * worked out before, by the response's builder.
 */
export function finishRequest(rt: Runtime, ctx: RequestContext, status: number, error?: GatewayError): void {
  if (rt.defer === undefined) endRequest(rt, ctx, status, error)
  else rt.defer(() => endDeferred(rt, ctx, status, error))
}

/** Deferred work has no caller left to fail: a fault in it is logged, and the process goes on. */
function endDeferred(rt: Runtime, ctx: RequestContext, status: number, error: GatewayError | undefined) {
  try {
    endRequest(rt, ctx, status, error)
  } catch (err) {
    const cause = err instanceof Error ? (err.stack ?? err.message) : String(err)
    rt.logger.error('request bookkeeping failed', { request_id: ctx.id, error: rt.scrub(cause) })
  }
}

function endRequest(rt: Runtime, ctx: RequestContext, status: number, error: GatewayError | undefined): void {
  if (ctx.atEnd !== undefined) for (const undo of ctx.atEnd.splice(0)) undo()
  if (ctx.limit !== undefined) {
    // An error before any answer used no tokens; a client that left (499) may have, so its reservation stands.
    const usage = ctx.usage
    const used =
      ctx.usedTokens ??
      (usage !== undefined
        ? usage.prompt + usage.completion
        : status >= 400 && status !== 499
          ? 0
          : undefined)
    rt.limiter?.settle(ctx.limit, used)
    ctx.limit = undefined
  }
  recordRequest(rt, ctx, status, error)
  if (!rt.config.log.requests) return
  rt.logger.info('request', {
    request_id: ctx.id,
    method: ctx.method,
    path: ctx.path,
    status,
    project: ctx.project,
    model: ctx.model,
    target: ctx.target,
    stream: ctx.stream,
    cache: ctx.cache?.status,
    mode: ctx.route?.mode,
    task_type: ctx.route?.label,
    routed_to: ctx.route?.model,
    reference_model: ctx.route?.reference,
    failover: ctx.failover,
    hedge: ctx.hedge,
    ...(ctx.route !== undefined && ctx.usage !== undefined ? routeCosts(ctx.route, ctx.usage) : undefined),
    duration_ms: Math.round((rt.clock.now() - ctx.start) * 1000) / 1000,
    upstream_ms: Math.round(ctx.upstreamMs * 1000) / 1000,
    error: error?.code,
    message: error ? rt.scrub(error.message) : undefined,
  })
}

/** The log fields of an auto-routed answer's cost, and what its reference model would have cost for the same tokens. */
function routeCosts(route: RouteInfo, usage: Usage) {
  const usd = (n: number | undefined) => (n === undefined ? undefined : Math.round(n * 1e9) / 1e9)
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    cost_usd: usd(costOf(route.price, usage)),
    reference_cost_usd: usd(costOf(route.referencePrice, usage)),
  }
}
