import { StreamAssembler } from '../../cache/assemble.js'
import type { RequestContext } from '../../core/context.js'
import { baseHeaders, finishRequest, jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { usedTokens } from '../../limits/estimate.js'
import { costComment, costHeaders } from '../../pipeline/record.js'
import { openStream, sendUnary, upstreamFailure } from '../../pipeline/upstream.js'
import type { JsonObject } from '../../providers/provider.js'
import { usageOf } from '../../routing/cost.js'
import type { ResolvedModel } from '../../routing/models.js'
import { type StreamOutcome, sseBody } from './stream.js'

/** A non-stream chat request straight to its upstream. */
export async function unaryChat(
  rt: Runtime,
  ctx: RequestContext,
  body: JsonObject,
  model: ResolvedModel,
): Promise<Response> {
  const completion = await sendUnary(rt, ctx, model, 'chat', body, ctx.signal)
  noteAnswerUsage(ctx, completion)
  return jsonResponse(rt, ctx, 200, completion)
}

/** A streaming chat request straight to its upstream, chunks passed on as each upstream read brings them. */
export async function streamChat(
  rt: Runtime,
  ctx: RequestContext,
  body: JsonObject,
  model: ResolvedModel,
): Promise<Response> {
  // The client leaving aborts the upstream request through ctx.signal, mid-stream too.
  const opened = await openStream(rt, ctx, model, body, ctx.signal)
  const watch =
    ctx.route !== undefined || ctx.account !== undefined ? new StreamWatch(ctx, wantsUsage(body)) : undefined
  const stream = sseBody(
    watch === undefined || opened.first === undefined ? opened.first : watch.first(opened.first),
    watch === undefined ? opened.rest : watch.rest(opened.rest),
    (err) => upstreamFailure(err, opened.provider, rt.scrub),
    logOutcome(rt, ctx),
    () => void opened.rest.return?.(),
    ctx.account === undefined ? undefined : () => costComment(rt, ctx),
  )
  return sseResponse(rt, ctx, stream)
}

/** Whether the client asked for the usage chunk (`stream_options.include_usage`). */
export function wantsUsage(body: JsonObject): boolean {
  const options = body.stream_options as { include_usage?: unknown } | null | undefined
  return options?.include_usage === true
}

/**
 * A stream response. A whole body (a replayed cache hit) has a known cost, sent in its headers; a live one's
 * cost comes last, in the stream itself (`sseBody`'s trailer).
 */
export function sseResponse(rt: Runtime, ctx: RequestContext, body: ReadableStream<Uint8Array> | string) {
  const headers = baseHeaders(rt, ctx, 'text/event-stream; charset=utf-8')
  headers['cache-control'] = 'no-cache'
  if (typeof body === 'string') costHeaders(rt, ctx, 200, headers)
  else if (ctx.reservation?.warning !== undefined)
    headers['x-meridian-budget-warning'] = ctx.reservation.warning
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
 * What an answer (a completion's or an embeddings JSON) used, where someone reads it: the rate-limit
 * settlement, the log line's costs when the request was auto-routed, and governance's price. The usage is
 * parsed once; the settlement reads it (see `finishRequest`).
 */
export function noteAnswerUsage(ctx: RequestContext, answer: string): void {
  if (ctx.route === undefined && ctx.account === undefined) {
    if (ctx.limit?.reserved) ctx.usedTokens = usedTokens(answer)
    return
  }
  ctx.usage = usageOf(answer)
  if (ctx.account?.project.logBodies) ctx.responseText = answer
}

/**
 * A stream's batches on their way to one client: the usage its last chunk reports is noted (the cost), the
 * chunks counted (the estimate when there is no usage), the usage chunk dropped when the client did not ask
 * for it (governance asks upstream for it always), and the answer assembled when the project logs bodies.
 */
export class StreamWatch {
  readonly #ctx: RequestContext
  readonly #clientUsage: boolean
  readonly #assembler: StreamAssembler | undefined

  constructor(ctx: RequestContext, clientUsage: boolean) {
    this.#ctx = ctx
    this.#clientUsage = clientUsage
    this.#assembler = ctx.account?.project.logBodies ? new StreamAssembler() : undefined
  }

  /** The stream's first batch, watched; undefined if nothing of it is left for the client. */
  first(batch: string[]): string[] | undefined {
    const out = this.batch(batch)
    return out.length === 0 ? undefined : out
  }

  async *rest(rest: AsyncIterator<string[]>): AsyncGenerator<string[]> {
    try {
      for (;;) {
        const next = await rest.next()
        if (next.done) return
        const batch = this.batch(next.value)
        if (batch.length > 0) yield batch
      }
    } finally {
      if (this.#assembler !== undefined) this.#ctx.responseText = this.#assembler.result()
    }
  }

  /** The usage chunk is a stream's last: only a batch's last payload can be it. */
  batch(batch: string[]): string[] {
    const ctx = this.#ctx
    if (this.#assembler !== undefined) for (const chunk of batch) this.#assembler.push(chunk)
    const last = batch[batch.length - 1]!
    if (!last.includes('"usage":{')) {
      ctx.streamedChunks += batch.length
      return batch
    }
    ctx.usage = usageOf(last) ?? ctx.usage
    ctx.streamedChunks += batch.length - 1
    if (this.#clientUsage || !last.includes('"choices":[]')) return batch
    return batch.slice(0, -1)
  }
}
