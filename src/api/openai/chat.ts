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
    return jsonResponse(rt, ctx, 200, JSON.stringify(completion))
  }

  ctx.stream = true
  // The upstream request gets its own signal: the client leaving aborts it, and so does the stream's cancel.
  const upstream = new AbortController()
  const onClientGone = () => upstream.abort()
  req.signal.addEventListener('abort', onClientGone, { once: true })
  let opened: Awaited<ReturnType<typeof openStream>>
  try {
    opened = await openStream(rt, ctx, model, body, upstream.signal)
  } catch (err) {
    req.signal.removeEventListener('abort', onClientGone)
    throw err
  }
  const headers = baseHeaders(rt, ctx, 'text/event-stream; charset=utf-8')
  headers['cache-control'] = 'no-cache'
  const stream = sseBody(
    opened.first,
    opened.rest,
    (err) => upstreamFailure(err, opened.provider, rt.scrub),
    (outcome) => {
      req.signal.removeEventListener('abort', onClientGone)
      if (outcome.kind === 'error') logRequest(rt, ctx, 200, outcome.error)
      else if (outcome.kind === 'cancelled') logRequest(rt, ctx, 499)
      else logRequest(rt, ctx, 200)
    },
    () => upstream.abort(),
  )
  return new Response(stream, { status: 200, headers })
}
