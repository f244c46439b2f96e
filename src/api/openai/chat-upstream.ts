import type { RequestContext } from '../../core/context.js'
import { baseHeaders, finishRequest, jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { usedTokens } from '../../limits/estimate.js'
import { openStream, sendUnary, upstreamFailure } from '../../pipeline/upstream.js'
import type { JsonObject } from '../../providers/provider.js'
import { usageOf } from '../../routing/cost.js'
import type { ResolvedModel } from '../../routing/models.js'
import { type StreamOutcome, sseBody } from './stream.js'

/** A non-stream chat request straight to its upstream. */
export async function unaryChat(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  body: JsonObject,
  model: ResolvedModel,
): Promise<Response> {
  const completion = await sendUnary(rt, ctx, model, 'chat', body, req.signal)
  noteAnswerUsage(ctx, completion)
  return jsonResponse(rt, ctx, 200, completion)
}

/** A streaming chat request straight to its upstream, chunks passed on as each upstream read brings them. */
export async function streamChat(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  body: JsonObject,
  model: ResolvedModel,
): Promise<Response> {
  // The client leaving aborts the upstream request through req.signal, mid-stream too.
  const opened = await openStream(rt, ctx, model, body, req.signal)
  if (ctx.route !== undefined && opened.first !== undefined) noteUsage(opened.first, ctx)
  const stream = sseBody(
    opened.first,
    ctx.route === undefined ? opened.rest : withUsage(opened.rest, ctx),
    (err) => upstreamFailure(err, opened.provider, rt.scrub),
    logOutcome(rt, ctx),
    () => void opened.rest.return?.(),
  )
  return sseResponse(rt, ctx, stream)
}

export function sseResponse(rt: Runtime, ctx: RequestContext, body: ReadableStream<Uint8Array> | string) {
  const headers = baseHeaders(rt, ctx, 'text/event-stream; charset=utf-8')
  headers['cache-control'] = 'no-cache'
  return new Response(body, { status: 200, headers })
}

/** The request log line of a stream, written when it ends. */
export function logOutcome(rt: Runtime, ctx: RequestContext): (outcome: StreamOutcome) => void {
  return (outcome) => {
    if (outcome.kind === 'error') finishRequest(rt, ctx, 200, outcome.error)
    else if (outcome.kind === 'cancelled') finishRequest(rt, ctx, 499)
    else finishRequest(rt, ctx, 200)
  }
}

/**
 * What a chat answer (a completion's JSON) used, where someone reads it: the rate-limit settlement when tokens
 * were reserved, the log line's costs when the request was auto-routed.
 */
export function noteAnswerUsage(ctx: RequestContext, completion: string): void {
  if (ctx.limit?.reserved) ctx.usedTokens = usedTokens(completion)
  if (ctx.route !== undefined) ctx.usage = usageOf(completion)
}

/** The stream's batches, unchanged, noting the usage its final chunk reports (with `include_usage`). */
async function* withUsage(rest: AsyncIterator<string[]>, ctx: RequestContext): AsyncGenerator<string[]> {
  for (;;) {
    const next = await rest.next()
    if (next.done) return
    noteUsage(next.value, ctx)
    yield next.value
  }
}

/** The usage chunk is a stream's last: only a batch's last payload can be it. */
function noteUsage(batch: string[], ctx: RequestContext): void {
  const last = batch[batch.length - 1]
  if (last?.includes('"usage"')) ctx.usage = usageOf(last) ?? ctx.usage
}
