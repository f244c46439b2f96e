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
): Promise<{ body: z.output<S>; model: ResolvedModel }> {
  const authorized = authorize(rt, req, ctx)
  if (authorized) await authorized
  const body = await readJsonBody(req, rt.config.server.max_body)
  validate(schema, body)
  ctx.model = body.model
  return { body, model: resolveModel(rt.models, body.model) }
}

/** Checks the gateway key and records the caller's project; returns a promise only if the key store is async. */
export function authorize(rt: Runtime, req: Request, ctx: RequestContext): Promise<void> | undefined {
  const principal = authenticate(rt.keys, req.headers)
  if (principal instanceof Promise) {
    return principal.then((p) => {
      ctx.project = p.project
    })
  }
  ctx.project = principal.project
  return undefined
}
