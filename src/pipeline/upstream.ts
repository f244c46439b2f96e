import type { Clock } from '../core/clock.js'
import type { RequestContext } from '../core/context.js'
import { GatewayError, toGatewayError } from '../core/errors.js'
import { type HttpClient, TransportError, type UpstreamResponse } from '../core/http-client.js'
import { createScrubber } from '../core/scrub.js'
import type { JsonObject, Operation, Provider } from '../providers/provider.js'
import type { ResolvedModel, ResolvedTarget } from '../routing/models.js'
import { EXPIRED, linkedController, type Router, within } from '../routing/router.js'
import { type AttemptDeps, attempt } from './attempts.js'

export interface UpstreamDeps {
  http: HttpClient
  clock: Clock
  scrub: (text: string) => string
  /** Retries, the health gate, failover, hedging. */
  router: Router
  /** Governance's hooks on the attempt loop (budget reservation, own provider keys); absent without it. */
  reserve?: AttemptDeps['reserve']
  candidates?: AttemptDeps['candidates']
}

/** A failure below HTTP (or a GatewayError already) → what the client sees. */
export function upstreamFailure(
  err: unknown,
  provider: Provider,
  scrub: (text: string) => string,
): GatewayError {
  if (err instanceof GatewayError) return err
  if (err instanceof TransportError) {
    if (err.kind === 'timeout') {
      return new GatewayError(
        'MERIDIAN_UPSTREAM_TIMEOUT',
        `upstream ${provider.id} did not answer within ${provider.timeoutMs} ms`,
      )
    }
    if (err.kind === 'aborted')
      return new GatewayError('MERIDIAN_CLIENT_CLOSED', 'the client closed the request')
    return new GatewayError(
      'MERIDIAN_UPSTREAM_UNREACHABLE',
      `could not reach upstream ${provider.id}: ${scrub(err.message)}`,
    )
  }
  // Anything else is a bug on our side (a provider's transform threw): an opaque 500, logged with its cause.
  return toGatewayError(err)
}

/** The attempt loop's view of these deps. */
function attemptDeps(deps: UpstreamDeps): AttemptDeps {
  return {
    clock: deps.clock,
    router: deps.router,
    failure: (err, provider) => upstreamFailure(err, provider, deps.scrub),
    reserve: deps.reserve,
    candidates: deps.candidates,
  }
}

async function send(
  deps: UpstreamDeps,
  ctx: RequestContext,
  target: ResolvedTarget,
  op: Operation,
  body: JsonObject,
  stream: boolean,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  const { provider } = target
  // With governance every stream must report its usage (its cost); the client's own choice is kept downstream.
  const request = provider.buildRequest(op, body, target.model, stream, ctx.account !== undefined)
  ctx.warnings = request.warnings
  const bodyTimeoutMs = stream
    ? Math.min(provider.timeoutMs, deps.router.config.stream.stall)
    : provider.timeoutMs
  const res = await deps.http.request(request, {
    signal,
    timeoutMs: target.timeouts.ttfb ?? provider.timeoutMs,
    bodyTimeoutMs,
    connectTimeoutMs: target.timeouts.connect,
  })
  if (res.status >= 200 && res.status < 300) return res
  const text = scrubOwn(deps.scrub(await res.text()), provider)
  throw provider.mapError(res.status, text, (name) => res.header(name))
}

/** A project's own key is not among the gateway's secrets: it is scrubbed with its provider's (errors only). */
function scrubOwn(text: string, provider: Provider): string {
  return createScrubber(provider.secrets)(text)
}

/** A request with one JSON answer: the provider's response, already in OpenAI's shape, as JSON text. */
export function sendUnary(
  deps: UpstreamDeps,
  ctx: RequestContext,
  model: ResolvedModel,
  op: Operation,
  body: JsonObject,
  signal: AbortSignal,
): Promise<string> {
  return attempt(attemptDeps(deps), ctx, model, signal, async (target, signal) => {
    const res = await send(deps, ctx, target, op, body, false, signal)
    return target.provider.parseResponse(op, await res.text(), { model: target.model, body })
  })
}

export interface OpenStream {
  provider: Provider
  /** The first chunks, already received: a stream is only committed to once its upstream has really started. */
  first: string[] | undefined
  rest: AsyncIterator<string[]>
}

/** A streaming chat request, opened up to its first chunk (so a target that fails before it can be replaced). */
export function openStream(
  deps: UpstreamDeps,
  ctx: RequestContext,
  model: ResolvedModel,
  body: JsonObject,
  signal: AbortSignal,
): Promise<OpenStream> {
  return attempt(attemptDeps(deps), ctx, model, signal, async (target, outer) => {
    const started = deps.clock.now()
    const { total } = target.timeouts
    // With a total limit the stream gets its own signal, so running past the limit can cancel the upstream.
    const cut = total === undefined ? undefined : linkedController(outer, ctx)
    const res = await send(deps, ctx, target, 'chat', body, true, cut?.signal ?? outer)
    const options = body.stream_options as { include_usage?: unknown } | undefined
    // Governance needs the usage chunk even when the client did not ask; the client's stream drops it then.
    const includeUsage = options?.include_usage === true || ctx.account !== undefined
    const rest = target.provider.transformStream(res.body, { includeUsage })[Symbol.asyncIterator]()
    try {
      const first = await untilContent(rest)
      const timed = cut === undefined ? rest : withDeadline(rest, started + total!, deps, cut)
      return { provider: target.provider, first, rest: timed }
    } catch (err) {
      res.discard()
      throw err
    }
  })
}

/**
 * A request in the provider's own dialect, passed through untranslated (see `Provider.buildNativeRequest`):
 * the first target to answer 2xx, its response unread. Every target must support passthrough.
 */
export function sendNative(
  deps: UpstreamDeps,
  ctx: RequestContext,
  model: ResolvedModel,
  body: JsonObject,
  stream: boolean,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  return attempt(attemptDeps(deps), ctx, model, signal, async (target, signal) => {
    const { provider } = target
    if (provider.buildNativeRequest === undefined) {
      throw new GatewayError('MERIDIAN_INTERNAL', `provider ${provider.id} has no passthrough`)
    }
    const request = provider.buildNativeRequest(body, target.model, stream)
    const res = await deps.http.request(request, { signal, timeoutMs: provider.timeoutMs })
    if (res.status >= 200 && res.status < 300) return res
    const text = scrubOwn(deps.scrub(await res.text()), provider)
    throw provider.mapError(res.status, text, (name) => res.header(name))
  })
}

/**
 * The stream's chunks up to and including its first with content (text, a tool call or a finish): a stream that
 * dies before it is a failed attempt, which the next candidate replaces without the client noticing. Undefined
 * for a stream that ended without a chunk.
 */
async function untilContent(rest: AsyncIterator<string[]>): Promise<string[] | undefined> {
  let held: string[] | undefined
  for (;;) {
    const next = await rest.next()
    if (next.done) return held
    held = held === undefined ? next.value : held.concat(next.value)
    if (next.value.some(hasContent)) return held
  }
}

/** Whether a chunk carries something beyond the role: text, a tool call, a finish reason or usage. */
function hasContent(chunk: string): boolean {
  return (
    /"content":"[^"]/.test(chunk) ||
    chunk.includes('"tool_calls"') ||
    /"finish_reason":"/.test(chunk) ||
    chunk.includes('"usage":{')
  )
}

/**
 * A stream's chunks until `deadline` (the clock's ms), then a timeout, the upstream request cancelled through
 * `cut`: a target's `total` limit.
 */
async function* withDeadline(
  rest: AsyncIterator<string[]>,
  deadline: number,
  deps: UpstreamDeps,
  cut: AbortController,
): AsyncGenerator<string[]> {
  try {
    for (;;) {
      const next = await within(deps.router.sleep, Math.max(0, deadline - deps.clock.now()), rest.next())
      if (next === EXPIRED) {
        cut.abort()
        throw new TransportError('timeout', 'the stream ran past its total time limit')
      }
      if (next.done) return
      yield next.value
    }
  } finally {
    void rest.return?.()
  }
}
