import type { z } from 'zod'
import type { RequestContext } from '../../core/context.js'
import type { Runtime } from '../../core/runtime.js'
import { authenticate } from '../../pipeline/auth.js'
import { type ResolvedModel, resolveModel } from '../../routing/models.js'
import { readJsonBody, validate } from './body.js'

/**
 * The steps every model request takes before it reaches an upstream, in the order a client should meet
 * their errors: who are you (401), what did you send (415, 413, 400), what do you want (404).
 */
export async function admit<S extends z.ZodType<{ model: string }>>(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  schema: S,
  resolve: (rt: Runtime, req: Request, ctx: RequestContext, body: z.output<S>) => ResolvedModel = named,
): Promise<{ body: z.output<S>; model: ResolvedModel }> {
  const authorized = authorize(rt, req, ctx)
  if (authorized) await authorized
  const body = await readJsonBody(req, rt.config.server.max_body)
  validate(schema, body)
  ctx.model = body.model
  return { body, model: resolve(rt, req, ctx, body) }
}

/** The configured model the request names. */
function named(rt: Runtime, _req: Request, _ctx: RequestContext, body: { model: string }): ResolvedModel {
  return resolveModel(rt.models, body.model)
}

/**
 * The configured model the request names, or for `auto` and `auto:<mode>` (unless a model of that name is
 * configured) the one auto-routing picks for it.
 */
export function routedModel(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  body: { model: string; messages?: unknown; tools?: unknown; response_format?: unknown },
): ResolvedModel {
  const model = rt.models.get(body.model)
  if (model !== undefined) return model
  const routed = rt.auto.route(body.model, req.headers, body, ctx.project)
  if (routed === undefined) return resolveModel(rt.models, body.model)
  ctx.route = routed.info
  return routed.model
}

/** Checks the gateway key and records the caller's project; returns a promise only if the key store is async. */
export function authorize(rt: Runtime, req: Request, ctx: RequestContext): Promise<void> | undefined {
  const principal = authenticate(rt.keys, req.headers)
  if (principal instanceof Promise) {
    return principal.then((p) => {
      ctx.project = p.project
      ctx.keyId = p.keyId
    })
  }
  ctx.project = principal.project
  ctx.keyId = principal.keyId
  return undefined
}

/**
 * Checks the caller's rate limits for this model (429 when one has no room) and keeps the grant on the context
 * until `finishRequest`. `tokens` estimates the reservation; it runs only when a `tpm` applies.
 */
export function applyLimits(
  rt: Runtime,
  ctx: RequestContext,
  model: ResolvedModel,
  tokens: () => number,
): Promise<void> | undefined {
  if (rt.limiter === undefined) return undefined
  const started = rt.clock.now()
  const grant = rt.limiter.acquire(ctx.keyId, ctx.project ?? 'default', model.name, tokens)
  if (grant instanceof Promise) {
    return grant.then((g) => {
      ctx.limit = g
      ctx.limitsMs = rt.clock.now() - started
    })
  }
  ctx.limit = grant
  return undefined
}
