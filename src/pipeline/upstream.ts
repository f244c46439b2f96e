import type { Clock } from '../core/clock.js'
import type { RequestContext } from '../core/context.js'
import { GatewayError, toGatewayError } from '../core/errors.js'
import { type HttpClient, TransportError, type UpstreamResponse } from '../core/http-client.js'
import type { JsonObject, Operation, Provider } from '../providers/provider.js'
import type { ResolvedModel, ResolvedTarget } from '../routing/models.js'

export interface UpstreamDeps {
  http: HttpClient
  clock: Clock
  scrub: (text: string) => string
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

/**
 * Tries the model's targets in order until one answers. A target that fails before answering with a retryable
 * error (unreachable, timeout, 429, 5xx) hands over to the next; any other error ends the request at once.
 */
async function eachTarget<T>(
  deps: UpstreamDeps,
  ctx: RequestContext,
  model: ResolvedModel,
  signal: AbortSignal,
  attempt: (target: ResolvedTarget) => Promise<T>,
): Promise<T> {
  let last: GatewayError | undefined
  for (const target of model.targets) {
    const started = deps.clock.now()
    try {
      ctx.target = target.label
      return await attempt(target)
    } catch (err) {
      last = upstreamFailure(err, target.provider, deps.scrub)
      if (!last.retryable || signal.aborted) throw last
    } finally {
      ctx.upstreamMs += deps.clock.now() - started
    }
  }
  throw last ?? new GatewayError('MERIDIAN_INTERNAL', `model ${model.name} has no targets`)
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
  const request = provider.buildRequest(op, body, target.model, stream)
  ctx.warnings = request.warnings
  const res = await deps.http.request(request, { signal, timeoutMs: provider.timeoutMs })
  if (res.status >= 200 && res.status < 300) return res
  const text = deps.scrub(await res.text())
  throw provider.mapError(res.status, text, (name) => res.header(name))
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
  return eachTarget(deps, ctx, model, signal, async (target) => {
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
  return eachTarget(deps, ctx, model, signal, async (target) => {
    const res = await send(deps, ctx, target, 'chat', body, true, signal)
    const options = body.stream_options as { include_usage?: unknown } | undefined
    const includeUsage = options?.include_usage === true
    const rest = target.provider.transformStream(res.body, { includeUsage })[Symbol.asyncIterator]()
    try {
      const first = await rest.next()
      return { provider: target.provider, first: first.done ? undefined : first.value, rest }
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
  return eachTarget(deps, ctx, model, signal, async (target) => {
    const { provider } = target
    if (provider.buildNativeRequest === undefined) {
      throw new GatewayError('MERIDIAN_INTERNAL', `provider ${provider.id} has no passthrough`)
    }
    const request = provider.buildNativeRequest(body, target.model, stream)
    const res = await deps.http.request(request, { signal, timeoutMs: provider.timeoutMs })
    if (res.status >= 200 && res.status < 300) return res
    const text = deps.scrub(await res.text())
    throw provider.mapError(res.status, text, (name) => res.header(name))
  })
}
