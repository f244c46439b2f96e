import type { RequestContext } from '../../core/context.js'
import { type GatewayError, toGatewayError } from '../../core/errors.js'
import { baseHeaders, finishRequest, jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { chatTokens } from '../../limits/estimate.js'
import { applyPolicy } from '../../pipeline/govern.js'
import { costHeaders } from '../../pipeline/record.js'
import { openStream, sendNative, sendUnary, upstreamFailure } from '../../pipeline/upstream.js'
import type { JsonObject } from '../../providers/provider.js'
import { type ResolvedModel, resolveModel } from '../../routing/models.js'
import { applyLimits, applyLimitsEarly, authorize } from '../openai/admit.js'
import { readJsonBody, validate } from '../openai/body.js'
import { noteAnswerUsage, StreamWatch, sseResponse } from '../openai/chat-upstream.js'
import { countTokens } from './count-tokens.js'
import { anthropicError, anthropicErrorType } from './errors.js'
import { chatToMessage } from './from-openai.js'
import { countTokensRequestSchema, messagesRequestSchema } from './schemas.js'
import { MessagesStreamTranslator } from './stream.js'
import { messagesToChat } from './to-openai.js'
import { AnthropicUsage } from './usage.js'

const encoder = new TextEncoder()

/** Errors on the Messages routes, in Anthropic's shape (the SDK reads `error.type`). */
export function anthropicErrorResponse(rt: Runtime, ctx: RequestContext, err: unknown): Response {
  const error = toGatewayError(err)
  if (error.code === 'MERIDIAN_INTERNAL') {
    const cause =
      error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : String(error.cause)
    rt.logger.error('unexpected error', { request_id: ctx.id, error: rt.scrub(cause) })
  }
  const { status, body } = anthropicError(error)
  const headers = baseHeaders(rt, ctx, 'application/json')
  if (error.headers) Object.assign(headers, error.headers)
  costHeaders(rt, ctx, error.status, headers)
  const res = new Response(body, { status, headers })
  finishRequest(rt, ctx, error.status, error)
  return res
}

/** The provider of the target that answered (`ctx.target`), for naming it in a failure. */
function answering(model: ResolvedModel, ctx: RequestContext) {
  return (model.targets.find((t) => t.label === ctx.target) ?? model.targets[0]!).provider
}

/** `finishRequest` for a stream, whichever of its ends (done, failed, cancelled) comes first. */
function finishOnce(rt: Runtime, ctx: RequestContext) {
  let ended = false
  return (status: number, error?: GatewayError) => {
    if (ended) return
    ended = true
    finishRequest(rt, ctx, status, error)
  }
}

/** `admit` for the Messages API: the same steps and order, the same early rate-limit check. */
async function admitMessages(rt: Runtime, req: Request, ctx: RequestContext) {
  const authorized = authorize(rt, req, ctx)
  if (authorized) await authorized
  const early = applyLimitsEarly(rt, ctx)
  let body: JsonObject
  let model: ResolvedModel
  try {
    body = (await readJsonBody(req, rt.config.server.max_body)) as JsonObject
    validate(messagesRequestSchema, body)
    ctx.model = body.model as string
    ctx.stream = body.stream === true
    const asked = resolveModel(rt.models, ctx.model)
    // Policies read the request as the OpenAI chat request it means (its prompt, its max_tokens).
    model = ctx.account === undefined ? asked : applyPolicy(rt, ctx, asked, messagesToChat(body).body, 'chat')
  } catch (err) {
    if (early) await early
    throw err
  }
  ctx.resolved = model.name
  if (early) await early
  return { body, model }
}

/**
 * `POST /v1/messages`: Anthropic's Messages API. A model whose targets all speak it natively gets the
 * client's request as it is (no double translation: `cache_control` and every other field arrive intact);
 * any other model is reached through the OpenAI format, translated both ways.
 */
export async function handleMessages(rt: Runtime, req: Request, ctx: RequestContext): Promise<Response> {
  const { body, model } = await admitMessages(rt, req, ctx)
  const native = model.targets.every((t) => t.provider.dialect === 'anthropic')
  const translated = native ? undefined : messagesToChat(body)
  const tokens = () =>
    chatTokens(translated?.body ?? messagesToChat(body).body, rt.config.limits.default_output_tokens)
  const limited = applyLimits(rt, ctx, model, tokens)
  if (limited) await limited
  if (translated === undefined) return passthrough(rt, ctx, body, model)
  if (translated.dropped.length > 0) ctx.warnings = translated.dropped
  const requested = ctx.model!
  if (!ctx.stream) {
    const completion = await sendUnary(rt, ctx, model, 'chat', translated.body, ctx.signal)
    noteAnswerUsage(ctx, completion)
    const message = chatToMessage(completion, requested)
    return jsonResponse(rt, ctx, 200, message)
  }
  const opened = await openStream(rt, ctx, model, translated.body, ctx.signal)
  const translator = new MessagesStreamTranslator(requested, `msg_${ctx.id.replaceAll('-', '')}`)
  // The translation always asks for the usage chunk (Anthropic's events carry usage): it is kept, and noted.
  const watch = new StreamWatch(ctx, true)
  const rest = watch.rest(opened.rest)
  let pending = opened.first === undefined ? undefined : watch.first(opened.first)
  const end = finishOnce(rt, ctx)
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        let batch = pending
        pending = undefined
        if (batch === undefined) {
          const next = await rest.next()
          if (next.done) {
            controller.enqueue(encoder.encode(translator.end().join('')))
            controller.close()
            end(200)
            return
          }
          batch = next.value
        }
        let out = ''
        for (const chunk of batch) for (const frame of translator.push(chunk)) out += frame
        if (out !== '') controller.enqueue(encoder.encode(out))
      } catch (err) {
        const error = upstreamFailure(err, opened.provider, rt.scrub)
        controller.enqueue(
          encoder.encode(translator.error({ type: anthropicErrorType(error), message: error.message })),
        )
        controller.close()
        end(200, error)
      }
    },
    cancel() {
      void opened.rest.return?.()
      end(499)
    },
  })
  return sseResponse(rt, ctx, stream)
}

/** The client's Messages request straight to an Anthropic target (targets in order), answered as it comes. */
async function passthrough(
  rt: Runtime,
  ctx: RequestContext,
  body: JsonObject,
  model: ResolvedModel,
): Promise<Response> {
  const res = await sendNative(rt, ctx, model, body, ctx.stream, ctx.signal)
  const usage = ctx.account === undefined && ctx.limit === undefined ? undefined : new AnthropicUsage()
  if (!ctx.stream) {
    let text: string
    try {
      text = await res.text()
    } catch (err) {
      // A body cut off or timed out on the way is the upstream's failure (502/504), not ours.
      throw upstreamFailure(err, answering(model, ctx), rt.scrub)
    }
    if (usage !== undefined) {
      usage.push(text)
      ctx.usage = usage.result()
    }
    if (ctx.account?.project.logBodies) ctx.responseText = text
    return jsonResponse(rt, ctx, 200, text)
  }
  const iterator = res.body[Symbol.asyncIterator]()
  const end = finishOnce(rt, ctx)
  // The upstream's own events, byte for byte: it already speaks the client's dialect.
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done) {
          if (usage !== undefined) ctx.usage = usage.result()
          controller.close()
          end(200)
        } else {
          if (usage !== undefined) {
            usage.push(next.value)
            ctx.streamedChunks++
          }
          controller.enqueue(next.value)
        }
      } catch (err) {
        const error = upstreamFailure(err, answering(model, ctx), rt.scrub)
        const { body: errorBody } = anthropicError(error)
        controller.enqueue(encoder.encode(`event: error\ndata: ${errorBody}\n\n`))
        controller.close()
        end(200, error)
      }
    },
    cancel() {
      res.discard()
      end(499)
    },
  })
  return sseResponse(rt, ctx, stream)
}

/** `POST /v1/messages/count_tokens`: an estimate (see docs/limits.md), in Anthropic's shape. */
export async function handleCountTokens(rt: Runtime, req: Request, ctx: RequestContext): Promise<Response> {
  const authorized = authorize(rt, req, ctx)
  if (authorized) await authorized
  const body = (await readJsonBody(req, rt.config.server.max_body)) as JsonObject
  validate(countTokensRequestSchema, body)
  resolveModel(rt.models, body.model as string)
  return jsonResponse(rt, ctx, 200, JSON.stringify(countTokens(body)))
}
