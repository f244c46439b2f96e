import type { RequestContext } from '../../core/context.js'
import { jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { embeddingsTokens } from '../../limits/estimate.js'
import { sendUnary } from '../../pipeline/upstream.js'
import { admit, applyLimits } from './admit.js'
import { noteAnswerUsage } from './chat-upstream.js'
import { embeddingsRequestSchema } from './schemas.js'

/** `POST /v1/embeddings`. */
export async function handleEmbeddings(rt: Runtime, req: Request, ctx: RequestContext): Promise<Response> {
  const { body, model } = await admit(rt, req, ctx, embeddingsRequestSchema, 'embeddings')
  const limited = applyLimits(rt, ctx, model, () => embeddingsTokens(body))
  if (limited) await limited
  const result = await sendUnary(rt, ctx, model, 'embeddings', body, ctx.signal)
  noteAnswerUsage(ctx, result)
  return jsonResponse(rt, ctx, 200, result)
}
