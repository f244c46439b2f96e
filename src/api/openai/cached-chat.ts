import { StreamAssembler } from '../../cache/assemble.js'
import { type CacheHit, UNAVAILABLE } from '../../cache/engine.js'
import { CACHE_KEY_VERSION } from '../../cache/fingerprint.js'
import { Flight } from '../../cache/flight.js'
import type { CachePlan } from '../../cache/policy.js'
import { replayChunks, sseOf } from '../../cache/replay.js'
import { storableCompletion } from '../../cache/storable.js'
import { type CacheInfo, onAbortWhileOpen, type RequestContext } from '../../core/context.js'
import { toGatewayError } from '../../core/errors.js'
import { finishRequest, jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { costComment } from '../../pipeline/record.js'
import { openStream, sendUnary, upstreamFailure } from '../../pipeline/upstream.js'
import type { JsonObject } from '../../providers/provider.js'
import { usageOf } from '../../routing/cost.js'
import type { ResolvedModel } from '../../routing/models.js'
import {
  logOutcome,
  noteAnswerUsage,
  StreamWatch,
  sseResponse,
  streamChat,
  unaryChat,
  wantsUsage,
} from './chat-upstream.js'
import { sseBody } from './stream.js'

interface Call {
  rt: Runtime
  req: Request
  ctx: RequestContext
  body: JsonObject
  model: ResolvedModel
  stream: boolean
  includeUsage: boolean
}

/**
 * A cacheable chat request: replica → source of truth → an identical request already in flight → upstream.
 * The answer is stored once complete (never an error, a content_filter answer or a cut stream), and replays
 * to streaming and non-streaming clients alike.
 */
export async function cachedChat(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  body: JsonObject,
  model: ResolvedModel,
  plan: CachePlan,
): Promise<Response> {
  const cache = rt.cache!
  const project = ctx.project ?? 'default'
  const keyed = cache.key({
    project,
    keyVersion: CACHE_KEY_VERSION,
    model: model.name,
    targets: model.labels,
    op: 'chat',
    body,
  })
  const key = typeof keyed === 'string' ? keyed : await keyed
  const info: CacheInfo = { status: 'miss' }
  if (req.headers.get('x-meridian-debug') === '1') info.key = key
  ctx.cache = info
  const options = body.stream_options as { include_usage?: unknown } | undefined
  const call: Call = {
    rt,
    req,
    ctx,
    body,
    model,
    stream: ctx.stream,
    includeUsage: options?.include_usage === true,
  }

  if (!plan.read) {
    info.status = 'bypass'
    cache.stats.bypassed++
    return follow(call, launch(call, new Flight(call.stream), key, plan))
  }
  const looked = cache.lookup(key)
  const found = looked instanceof Promise ? await looked : looked
  if (found === UNAVAILABLE) {
    info.status = 'bypass'
    cache.stats.bypassed++
  } else if (found !== undefined) {
    const hit = serveHit(call, found, info)
    if (hit !== undefined) return hit
  }
  if (!rt.config.cache.coalesce) return follow(call, launch(call, new Flight(call.stream), key, plan))
  const inFlight = rt.flights.get(key)
  if (inFlight !== undefined) {
    info.status = 'coalesced'
    cache.stats.coalesced++
    ctx.usedTokens = 0 // the leader's request accounts for the provider's tokens
    return follow(call, inFlight)
  }
  return follow(call, launch(call, rt.flights.start(key, call.stream), key, plan))
}

/** A stored answer, as JSON or replayed as a stream; undefined if it cannot be replayed (then it is a miss). */
function serveHit(call: Call, hit: CacheHit, info: CacheInfo): Response | undefined {
  const { rt, ctx } = call
  const { entry } = hit
  let chunks: string[] | undefined
  if (call.stream) {
    try {
      chunks = replayChunks(entry.body, { includeUsage: call.includeUsage })
    } catch {
      return undefined
    }
  }
  info.status = 'hit'
  info.layer = hit.layer
  info.age = Math.max(0, Math.floor((rt.clock.epoch() - entry.storedAt) / 1000))
  ctx.target = entry.target
  ctx.usedTokens = 0
  // What the stored answer cost is what this hit saved.
  if (ctx.account !== undefined) ctx.usage = usageOf(entry.body)
  return chunks === undefined ? jsonResponse(rt, ctx, 200, entry.body) : replayResponse(rt, ctx, chunks)
}

function replayResponse(rt: Runtime, ctx: RequestContext, chunks: string[]): Response {
  const res = sseResponse(rt, ctx, sseOf(chunks))
  finishRequest(rt, ctx, 200)
  return res
}

/** Starts the flight's upstream call; it runs on its own, owned by the flight rather than by this request. */
function launch(call: Call, flight: Flight, key: string, plan: CachePlan): Flight {
  void (flight.stream ? flyStream(call, flight, key, plan) : flyUnary(call, flight, key, plan))
  return flight
}

async function flyUnary(call: Call, flight: Flight, key: string, plan: CachePlan): Promise<void> {
  const { rt, ctx } = call
  let text: string
  try {
    text = await sendUnary(rt, ctx, call.model, 'chat', call.body, flight.signal)
  } catch (err) {
    flight.fail(toGatewayError(err))
    return
  }
  flight.target = ctx.target
  flight.upstreamMs = ctx.upstreamMs
  noteAnswerUsage(ctx, text)
  flight.finish(
    text,
    plan.write && ctx.failover === undefined
      ? store(call, key, plan, text, storableCompletion(text))
      : undefined,
  )
}

async function flyStream(call: Call, flight: Flight, key: string, plan: CachePlan): Promise<void> {
  const { rt, ctx } = call
  let opened: Awaited<ReturnType<typeof openStream>>
  try {
    opened = await openStream(rt, ctx, call.model, call.body, flight.signal)
  } catch (err) {
    flight.fail(toGatewayError(err))
    return
  }
  flight.target = ctx.target
  const started = rt.clock.now()
  // The assembler sees each chunk as it passes: recording adds no delay to the client's chunks.
  const assembler = new StreamAssembler()
  const take = (batch: string[]) => {
    for (const chunk of batch) assembler.push(chunk)
    flight.push(batch)
  }
  try {
    if (opened.first !== undefined) take(opened.first)
    for (;;) {
      const next = await opened.rest.next()
      if (next.done) break
      take(next.value)
    }
  } catch (err) {
    flight.fail(upstreamFailure(err, opened.provider, rt.scrub))
    return
  }
  flight.upstreamMs = ctx.upstreamMs + (rt.clock.now() - started)
  const completion = assembler.result()
  if (completion !== undefined) noteAnswerUsage(ctx, completion)
  flight.finish(
    completion,
    plan.write && ctx.failover === undefined
      ? store(call, key, plan, completion ?? '', completion !== undefined)
      : undefined,
  )
}

function store(call: Call, key: string, plan: CachePlan, text: string, storable: boolean) {
  const cache = call.rt.cache!
  if (!storable) {
    cache.stats.unstorable++
    return undefined
  }
  const now = call.rt.clock.epoch()
  return cache.store(key, {
    body: text,
    project: call.ctx.project ?? 'default',
    target: call.ctx.target ?? '',
    storedAt: now,
    expiresAt: now + plan.ttlMs,
  })
}

/** This request's answer from a flight (its own or one it joined), in the shape it asked for. */
async function follow(call: Call, flight: Flight): Promise<Response> {
  const { rt, ctx } = call
  const leave = flight.join()
  onAbortWhileOpen(ctx, ctx.signal, leave)
  try {
    if (call.stream && flight.stream) {
      await flight.opened
      ctx.target = flight.target
      // Every chunk from the first, however late this client joined; cancelling leaves the flight.
      const watched = ctx.account === undefined ? undefined : new StreamWatch(ctx, wantsUsage(call.body))
      const body = sseBody(
        undefined,
        watched === undefined ? flight.reader() : watched.rest(flight.reader()),
        toGatewayError,
        logOutcome(rt, ctx),
        leave,
        watched === undefined ? undefined : () => costComment(rt, ctx),
      )
      return sseResponse(rt, ctx, body)
    }
    const text = await flight.completion
    leave()
    ctx.target = flight.target
    if (ctx.cache?.status === 'coalesced') {
      ctx.upstreamMs = flight.upstreamMs
      if (ctx.account !== undefined && text !== undefined) ctx.usage = usageOf(text)
    }
    if (text === undefined) return fallback(call)
    if (!call.stream) return jsonResponse(rt, ctx, 200, text)
    let chunks: string[]
    try {
      chunks = replayChunks(text, { includeUsage: call.includeUsage })
    } catch {
      return fallback(call)
    }
    return replayResponse(rt, ctx, chunks)
  } catch (err) {
    leave()
    throw err
  }
}

/** The flight's answer cannot be given in this client's shape: the request asks upstream on its own. */
function fallback(call: Call): Promise<Response> {
  const { rt, ctx, body, model } = call
  ctx.usedTokens = undefined
  return call.stream ? streamChat(rt, ctx, body, model) : unaryChat(rt, ctx, body, model)
}
