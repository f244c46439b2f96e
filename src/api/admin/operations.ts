import type { RequestContext } from '../../core/context.js'
import { constantTimeEqual } from '../../core/equal.js'
import { GatewayError } from '../../core/errors.js'
import { jsonResponse, textResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { bearerToken } from '../../pipeline/auth.js'

/** `/admin` routes answer only to the admin token; without one configured they do not exist (404). */
export function requireAdmin(rt: Runtime, req: Request, ctx: RequestContext): void {
  const token = rt.config.admin.token
  if (token === undefined) {
    throw new GatewayError('MERIDIAN_NOT_FOUND', `no route for ${req.method} ${ctx.path}`)
  }
  const given = bearerToken(req.headers)
  if (given === undefined || !constantTimeEqual(given, token)) {
    throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'missing or invalid admin token')
  }
}

/** The last path segment after `prefix`, percent-decoded; a malformed escape is the client's 400. */
export function pathParam(path: string, prefix: string): string {
  try {
    return decodeURIComponent(path.slice(prefix.length))
  } catch {
    throw new GatewayError('MERIDIAN_INVALID_REQUEST', `malformed percent-encoding in ${path.slice(0, 200)}`)
  }
}

function engine(rt: Runtime) {
  if (rt.cache === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', 'the cache is not configured')
  return rt.cache
}

async function purged(run: () => Promise<{ source: number; replica: number }>) {
  try {
    return await run()
  } catch (err) {
    throw new GatewayError('MERIDIAN_CACHE_UNAVAILABLE', 'the cache could not be purged: a tier failed', {
      cause: err,
    })
  }
}

/** `DELETE /admin/cache/keys/:key`: removes one entry (key as in `x-meridian-cache-key`). */
export async function handlePurgeKey(rt: Runtime, req: Request, ctx: RequestContext, key: string) {
  requireAdmin(rt, req, ctx)
  const cache = engine(rt)
  const deleted = await purged(() => cache.purgeKey(key))
  return jsonResponse(rt, ctx, 200, JSON.stringify({ key, deleted }))
}

/** `DELETE /admin/cache/projects/:project`: removes every entry of a project. */
export async function handlePurgeProject(rt: Runtime, req: Request, ctx: RequestContext, project: string) {
  requireAdmin(rt, req, ctx)
  const cache = engine(rt)
  const deleted = await purged(() => cache.purgeProject(project))
  return jsonResponse(rt, ctx, 200, JSON.stringify({ project, deleted }))
}

/** `GET /admin/cache/stats`: the cache's counters since start, and the requests in flight. */
export function handleCacheStats(rt: Runtime, req: Request, ctx: RequestContext) {
  requireAdmin(rt, req, ctx)
  const cache = engine(rt)
  return jsonResponse(rt, ctx, 200, JSON.stringify({ ...cache.stats, in_flight: rt.flights.size }))
}

/** `GET /admin/limits/stats`: the rate limiter's counters since start (checks, denials, store failures). */
export function handleLimitStats(rt: Runtime, req: Request, ctx: RequestContext) {
  requireAdmin(rt, req, ctx)
  if (rt.limiter === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', 'no rate limits are configured')
  return jsonResponse(rt, ctx, 200, JSON.stringify(rt.limiter.stats))
}

/** `GET /admin/health`: every target the health gate has seen, with its state and window. */
export function handleHealthStats(rt: Runtime, req: Request, ctx: RequestContext) {
  requireAdmin(rt, req, ctx)
  return jsonResponse(rt, ctx, 200, JSON.stringify({ targets: rt.router.health.views() }))
}

const STATES = ['healthy', 'degraded', 'down', 'probing'] as const

/**
 * `GET /admin/metrics`: the health gate in Prometheus' text format, one series per target: its state (1 for the
 * current one), the outcomes and failures in its window, and its time to first byte.
 */
export function handleMetrics(rt: Runtime, req: Request, ctx: RequestContext) {
  requireAdmin(rt, req, ctx)
  const views = rt.router.health.views()
  const lines: string[] = [
    '# HELP meridian_target_state Health gate state of an upstream target (1 for its current state).',
    '# TYPE meridian_target_state gauge',
  ]
  const label = (target: string) => `target="${target.replace(/["\\\n]/g, '_')}"`
  for (const v of views) {
    for (const state of STATES) {
      lines.push(`meridian_target_state{${label(v.target)},state="${state}"} ${v.state === state ? 1 : 0}`)
    }
  }
  const gauge = (name: string, help: string, value: (v: (typeof views)[number]) => number | null) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
    for (const v of views) {
      const x = value(v)
      if (x !== null) lines.push(`${name}{${label(v.target)}} ${x}`)
    }
  }
  gauge('meridian_target_window_requests', 'Outcomes in the health window.', (v) => v.requests)
  gauge('meridian_target_window_errors', 'Failed outcomes in the health window.', (v) => v.errors)
  gauge('meridian_target_ttfb_p50_ms', 'Median time to first byte over the window.', (v) => v.p50Ms)
  gauge('meridian_target_ttfb_p90_ms', '90th percentile time to first byte over the window.', (v) => v.p90Ms)
  return textResponse(rt, ctx, 200, `${lines.join('\n')}\n`, 'text/plain; version=0.0.4')
}
