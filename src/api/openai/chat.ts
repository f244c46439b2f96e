import { cachePlan } from '../../cache/policy.js'
import type { RequestContext } from '../../core/context.js'
import type { Runtime } from '../../core/runtime.js'
import { chatTokens } from '../../limits/estimate.js'
import { admit, applyLimits, routedModel } from './admit.js'
import { cachedChat } from './cached-chat.js'
import { streamChat, unaryChat } from './chat-upstream.js'
import { chatRequestSchema } from './schemas.js'

/** `POST /v1/chat/completions`, stream and non-stream, through the cache when its policy allows. */
export async function handleChat(rt: Runtime, req: Request, ctx: RequestContext): Promise<Response> {
  const { body, model } = await admit(rt, req, ctx, chatRequestSchema, 'chat', routedModel)
  ctx.stream = body.stream === true
  const limited = applyLimits(rt, ctx, model, () => chatTokens(body, rt.config.limits.default_output_tokens))
  if (limited) await limited
  if (rt.cache !== undefined) {
    const project = ctx.project === undefined ? undefined : rt.cacheRules.get(ctx.project)
    const plan = cachePlan(rt.config.cache, project, model.cache, body, req.headers)
    if (plan !== undefined) return cachedChat(rt, req, ctx, body, model, plan)
    rt.cache.stats.bypassed++
    ctx.cache = { status: 'bypass' }
  }
  return ctx.stream ? streamChat(rt, ctx, body, model) : unaryChat(rt, ctx, body, model)
}
