import type { z } from 'zod'
import type { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'
import type { Runtime } from '../../core/runtime.js'
import { ASSERTION_HEADER, verifyAssertion } from '../../edge/assertion.js'
import { attributionOf } from '../../governance/attribution.js'
import type { LimitGrant } from '../../limits/limiter.js'
import { authenticate, type Principal } from '../../pipeline/auth.js'
import { applyPolicy, type RequestKind } from '../../pipeline/govern.js'
import type { JsonObject } from '../../providers/provider.js'
import { type ResolvedModel, resolveModel } from '../../routing/models.js'
import { readJsonBody, validate } from './body.js'

/**
 * The steps every model request takes before it reaches an upstream, in the order a client should meet
 * their errors: who are you (401), what did you send (415, 413, 400), what do you want (404), may you (403).
 */
export async function admit<S extends z.ZodType<{ model: string }>>(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  schema: S,
  kind: RequestKind,
  resolve: (rt: Runtime, req: Request, ctx: RequestContext, body: z.output<S>) => ResolvedModel = named,
): Promise<{ body: z.output<S>; model: ResolvedModel }> {
  const authorized = authorize(rt, req, ctx)
  if (authorized) await authorized
  // A remote store's check travels while the body is read and checked; its answer comes first either way.
  const early = applyLimitsEarly(rt, ctx)
  let body: z.output<S>
  let model: ResolvedModel
  try {
    const raw = await readJsonBody(req, rt.config.server.max_body)
    validate(schema, raw)
    body = raw
    ctx.model = body.model
    model = applyPolicy(rt, ctx, resolve(rt, req, ctx, body), body as JsonObject, kind)
  } catch (err) {
    if (early) await early
    throw err
  }
  ctx.resolved = model.name
  if (early) await early
  return { body, model }
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

/**
 * Checks the gateway key and records the caller (its project, key and, with governance, their policies and
 * budgets, and the request's tags and session); returns a promise only if the key must be looked up.
 * With governance and no key anywhere, auth is off (the gateway then listens on loopback only).
 */
export function authorize(rt: Runtime, req: Request, ctx: RequestContext): Promise<void> | undefined {
  if (rt.edge !== undefined) {
    const asserted = req.headers.get(ASSERTION_HEADER)
    if (asserted !== null) return fromEdge(rt, req, ctx, asserted)
  }
  const gov = rt.governance
  const keys = gov !== undefined && gov.state.keysByHash.size === 0 ? undefined : rt.keys
  const principal = authenticate(keys, req.headers)
  if (principal instanceof Promise) return principal.then((p) => identify(rt, req, ctx, p))
  identify(rt, req, ctx, principal)
  return undefined
}

/**
 * A request the edge forwarded: its signed assertion stands for the key (checked at the edge), so the key is
 * not hashed again; the key is still looked up here by id, so a key revoked since is refused at once.
 */
async function fromEdge(rt: Runtime, req: Request, ctx: RequestContext, header: string): Promise<void> {
  const assertion = await verifyAssertion(await rt.edge!.assertion, header, rt.clock.epoch())
  const gov = rt.governance
  if (assertion === undefined || gov === undefined) {
    throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'invalid or expired edge assertion')
  }
  const principal = gov.principalById(assertion.key)
  if (principal.project !== assertion.project) {
    throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'invalid or expired edge assertion')
  }
  ctx.limitedAtEdge = assertion.limited
  identify(rt, req, ctx, principal)
}

function identify(rt: Runtime, req: Request, ctx: RequestContext, principal: Principal): void {
  ctx.project = principal.project
  ctx.keyId = principal.keyId
  const gov = rt.governance
  if (gov === undefined) return
  ctx.account = principal.account ?? { key: undefined, project: gov.project(principal.project) }
  ctx.attribution = attributionOf(req.headers)
}

/**
 * Checks the caller's rate limits before the body is read, when none of its rules needs the body (see
 * `Limiter.acquireEarly`): so requests the body then refuses (400, 404, 403) count too, as at OpenAI. Throws
 * the 429 at once with an in-process store; with a remote one returns the check in flight, already caught.
 * The caller awaits it once the body is admitted, and before throwing a complaint about the body.
 */
export function applyLimitsEarly(rt: Runtime, ctx: RequestContext): Promise<void> | undefined {
  if (rt.limiter === undefined || ctx.limitedAtEdge) return undefined
  const started = rt.clock.now()
  const grant = rt.limiter.acquireEarly(ctx.keyId, ctx.project ?? 'default')
  if (grant === false) return undefined
  ctx.limitsEarly = true
  const checked = hold(rt, ctx, grant, started)
  checked?.catch(() => {}) // awaited by the caller; a 429 arriving while the body is read is not unhandled
  return checked
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
  if (rt.limiter === undefined || ctx.limitedAtEdge || ctx.limitsEarly) return undefined
  const started = rt.clock.now()
  return hold(rt, ctx, rt.limiter.acquire(ctx.keyId, ctx.project ?? 'default', model.name, tokens), started)
}

/** Keeps a limiter's grant on the context (with the wait on a remote store, for `Server-Timing`). */
function hold(
  rt: Runtime,
  ctx: RequestContext,
  grant: LimitGrant | undefined | Promise<LimitGrant | undefined>,
  started: number,
): Promise<void> | undefined {
  if (!(grant instanceof Promise)) {
    ctx.limit = grant
    return undefined
  }
  return grant.then((g) => {
    ctx.limit = g
    ctx.limitsMs = rt.clock.now() - started
  })
}
