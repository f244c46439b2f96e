import type { RequestContext } from '../../core/context.js'
import { baseHeaders, jsonResponse, logRequest } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { openStream, sendUnary, upstreamFailure } from '../../pipeline/upstream.js'
import { admit } from './admit.js'
import { chatRequestSchema } from './schemas.js'
import { sseBody } from './stream.js'

/** `POST /v1/chat/completions`, stream and non-stream. */
export async function handleChat(rt: Runtime, req: Request, ctx: RequestContext): Promise<Response> {
  const { body, model } = await admit(rt, req, ctx, chatRequestSchema)

  if (body.stream !== true) {
    const completion = await sendUnary(rt, ctx, model, 'chat', body, req.signal)
    return jsonResponse(rt, ctx, 200, completion)
  }

  ctx.stream = true
  // The client leaving aborts the upstream request through req.signal, mid-stream too.
  const opened = await openStream(rt, ctx, model, body, req.signal)
  const headers = baseHeaders(rt, ctx, 'text/event-stream; charset=utf-8')
  headers['cache-control'] = 'no-cache'
  const stream = sseBody(
    opened.first,
    opened.rest,
    (err) => upstreamFailure(err, opened.provider, rt.scrub),
    (outcome) => {
      if (outcome.kind === 'error') logRequest(rt, ctx, 200, outcome.error)
      else if (outcome.kind === 'cancelled') logRequest(rt, ctx, 499)
      else logRequest(rt, ctx, 200)
    },
    () => void opened.rest.return?.(),
  )
  return new Response(stream, { status: 200, headers })
}
