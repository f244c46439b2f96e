import type { Clock } from '../core/clock.js'
import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import { TransportError } from '../core/http-client.js'
import type { Provider } from '../providers/provider.js'
import type { ResolvedModel, ResolvedTarget } from '../routing/models.js'
import {
  backoffMs,
  type Candidate,
  EXPIRED,
  hedgeDelayMs,
  linkedController,
  plan,
  type Router,
  retryAfterMs,
  within,
} from '../routing/router.js'

export interface AttemptDeps {
  clock: Clock
  router: Router
  /** A failure below HTTP (or a GatewayError already) → what the client sees. */
  failure: (err: unknown, provider: Provider) => GatewayError
  /** Governance before the first call: reserves the request's budget (a 402 when one has no room). */
  reserve?: (ctx: RequestContext, model: ResolvedModel) => Promise<void> | undefined
  /** Governance over the candidates: a project with its own provider keys reaches only those providers. */
  candidates?: (ctx: RequestContext, model: ResolvedModel, candidates: Candidate[]) => Candidate[]
}

/** One call to one target, on its own abort signal (a hedge's loser is aborted alone). */
export type Attempt<T> = (target: ResolvedTarget, signal: AbortSignal) => Promise<T>

/**
 * Runs a request through its candidates (see `plan`) until one answers: a retryable failure (unreachable,
 * timeout, 408, 409, 429, 5xx) moves on to the next candidate at once, and when all have been tried the round
 * starts again after a backoff (or the upstream's `Retry-After`, up to `retry_after_max`; a longer one takes
 * that target out of this request). At most `router.retries.attempts` calls. Any other failure ends the
 * request. An attempt resolves only once its upstream has answered (a stream: its first content), so nothing
 * has reached the client before the last retry. Every outcome feeds the health gate.
 */
export async function attempt<T>(
  deps: AttemptDeps,
  ctx: RequestContext,
  model: ResolvedModel,
  signal: AbortSignal,
  run: Attempt<T>,
): Promise<T> {
  const { router } = deps
  const retries = router.config.retries
  const planned = plan(router, model)
  if (planned.length === 0) throw new GatewayError('MERIDIAN_INTERNAL', `model ${model.name} has no targets`)
  const candidates = deps.candidates === undefined ? planned : deps.candidates(ctx, model, planned)
  const reserved = deps.reserve?.(ctx, model)
  if (reserved) await reserved
  const hedging = model.hedge || ctx.route?.mode === 'sport'
  const skipped = new Set<string>()
  let last: GatewayError | undefined
  let wait: number | undefined
  let calls = 0
  let round = 0
  let i = 0
  while (calls < retries.attempts && skipped.size < candidates.length) {
    if (i === candidates.length) {
      i = 0
      const backoff = backoffMs(retries, round++, router.random)
      await pause(router, Math.max(backoff, wait ?? 0), signal)
      wait = undefined
    }
    const candidate = candidates[i++]!
    if (skipped.has(candidate.target.label)) continue
    calls++
    const alternative = hedging ? hedgeFor(candidates, candidate) : undefined
    try {
      const { value, winner } =
        alternative === undefined
          ? { value: await once(deps, ctx, candidate, signal, run), winner: candidate }
          : await hedged(deps, ctx, candidate, alternative, signal, run)
      if (winner.model !== model) {
        ctx.failover = `${model.name} -> ${winner.model.name}`
        ctx.served = winner.model.name
      }
      return value
    } catch (err) {
      last = deps.failure(err, candidate.target.provider)
      if (!last.retryable || signal.aborted) throw last
      const after = retryAfterMs(last, deps.clock.epoch())
      if (after !== undefined && after > retries.retry_after_max) skipped.add(candidate.target.label)
      else if (after !== undefined) wait = Math.max(wait ?? 0, after)
    }
  }
  throw last ?? new GatewayError('MERIDIAN_INTERNAL', `model ${model.name} has no target to try`)
}

/** The candidate a hedge goes to: the next different target, else the same one again. */
function hedgeFor(candidates: readonly Candidate[], primary: Candidate): Candidate {
  return candidates.find((c) => c.target.label !== primary.target.label) ?? primary
}

async function pause(router: Router, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await router.sleep(ms, signal)
  } catch {
    throw new GatewayError('MERIDIAN_CLIENT_CLOSED', 'the client closed the request')
  }
}

/** One call, timed, its outcome told to the health gate (and, with governance, noted for the ledger). */
async function once<T>(
  deps: AttemptDeps,
  ctx: RequestContext,
  candidate: Candidate,
  signal: AbortSignal,
  run: Attempt<T>,
): Promise<T> {
  const { target } = candidate
  const started = deps.clock.now()
  ctx.target = target.label
  const record =
    ctx.account === undefined
      ? undefined
      : {
          target,
          started: deps.clock.epoch(),
          ms: 0,
          status: 200,
          error: undefined as string | undefined,
          won: false,
        }
  if (record !== undefined) {
    ctx.attempts ??= []
    ctx.attempts.push(record)
  }
  try {
    const value = await withinLimit(deps, ctx, target, signal, run)
    deps.router.health.record(target.label, { ok: true, ttfbMs: deps.clock.now() - started })
    if (record !== undefined) {
      // Answered first; a hedge's loser is marked when it is aborted.
      record.won = !ctx.attempts!.some((a) => a.won)
      if (record.won) ctx.answered = target
    }
    return value
  } catch (err) {
    if (!signal.aborted && againstTarget(err)) deps.router.health.record(target.label, { ok: false })
    if (record !== undefined && record.error === undefined) {
      const failure = signal.aborted ? undefined : deps.failure(err, target.provider)
      record.status = failure?.status ?? 499
      record.error = failure?.code ?? 'MERIDIAN_CLIENT_CLOSED'
    }
    throw err
  } finally {
    ctx.upstreamMs += deps.clock.now() - started
    if (record !== undefined) record.ms = deps.clock.now() - started
  }
}

/** Whether a failure says something about the target (not about the request or the client). */
function againstTarget(err: unknown): boolean {
  if (err instanceof TransportError) return err.kind !== 'aborted'
  return err instanceof GatewayError && err.retryable
}

/**
 * The primary call, and after the hedge delay without an answer, the same request to `alternative`: the first
 * to answer wins and the other is aborted (ctx.hedge records both, so what the loser cost can be accounted).
 * If one fails, the other may still win; if both fail, the later failure is thrown.
 */
async function hedged<T>(
  deps: AttemptDeps,
  ctx: RequestContext,
  primary: Candidate,
  alternative: Candidate,
  signal: AbortSignal,
  run: Attempt<T>,
): Promise<{ value: T; winner: Candidate }> {
  const a = linkedController(signal, ctx)
  const b = linkedController(signal, ctx)
  const settle = (c: Candidate, s: AbortSignal, which: 'a' | 'b') =>
    once(deps, ctx, c, s, run).then(
      (value) => ({ ok: true as const, value, c, which }),
      (error: unknown) => ({ ok: false as const, error, c, which }),
    )
  const first = settle(primary, a.signal, 'a')
  const early = await within(deps.router.sleep, hedgeDelayMs(deps.router, primary.target), first)
  if (early !== EXPIRED) {
    if (early.ok) return { value: early.value, winner: primary }
    throw early.error
  }
  const hedge = { primary: primary.target.label, hedge: alternative.target.label, winner: '' }
  ctx.hedge = hedge
  const second = settle(alternative, b.signal, 'b')
  const fastest = await Promise.race([first, second])
  const result = fastest.ok ? fastest : await (fastest.which === 'a' ? second : first)
  if (!result.ok)
    throw result.error
    // The loser is aborted: a stream it opened closes, and its upstream stops generating.
  ;(result.which === 'a' ? b : a).abort()
  const loser = (result.which === 'a' ? alternative : primary).target
  for (const a of ctx.attempts ?? []) {
    if (a.target === loser && !a.won && a.error === undefined) {
      a.status = 499
      a.error = 'hedge_lost'
    }
  }
  hedge.winner = result.c.target.label
  ctx.target = result.c.target.label
  return { value: result.value, winner: result.c }
}

/**
 * The attempt, held to its target's `ttfb` and `total` limits (a stream's attempt ends at its first content;
 * `total` then goes on timing the rest, see upstream.ts). Past the limit the attempt is aborted and fails as a
 * timeout, which is retryable and counts against the target.
 */
async function withinLimit<T>(
  deps: AttemptDeps,
  ctx: RequestContext,
  target: ResolvedTarget,
  signal: AbortSignal,
  run: Attempt<T>,
) {
  const { ttfb, total } = target.timeouts
  if (ttfb === undefined && total === undefined) return run(target, signal)
  const limit = Math.min(ttfb ?? Number.POSITIVE_INFINITY, total ?? Number.POSITIVE_INFINITY)
  const attempt = linkedController(signal, ctx)
  const outcome = await within(deps.router.sleep, limit, run(target, attempt.signal))
  if (outcome === EXPIRED) {
    attempt.abort()
    const what = limit === ttfb ? 'started answering' : 'finished'
    throw new GatewayError(
      'MERIDIAN_UPSTREAM_TIMEOUT',
      `upstream ${target.label} had not ${what} after ${limit} ms`,
    )
  }
  return outcome
}
