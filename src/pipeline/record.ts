import type { Priced, RequestContext } from '../core/context.js'
import type { GatewayError } from '../core/errors.js'
import type { Runtime } from '../core/runtime.js'
import { costNanos, formatUsd, promptCacheSavedNanos } from '../governance/money.js'
import { ledgerRouteOf } from '../governance/routes.js'
import type { LedgerEntry } from '../governance/store.js'
import type { Usage } from '../routing/cost.js'

/**
 * What the request cost and what caching saved, worked out once its outcome is known: a cache hit or a
 * coalesced answer cost nothing and saved what the stored answer cost; an error before any answer cost
 * nothing; an answer costs its usage at its target's price (estimated from the prompt and the chunks streamed
 * when the provider reported none). Memoized on the context.
 */
export function priceRequest(rt: Runtime, ctx: RequestContext, status: number): Priced {
  if (ctx.cost !== undefined) return ctx.cost
  const cache = ctx.cache?.status
  const usage = ctx.usage
  let priced: Priced
  if (cache === 'hit' || cache === 'coalesced') {
    const target = ctx.target === undefined ? undefined : rt.targets.get(ctx.target)
    const saved = usage === undefined ? 0 : (costNanos(target?.price, usage) ?? 0)
    priced = { cost: 0, saved, reference: undefined, estimated: false }
  } else if (usage !== undefined) {
    const price = ctx.answered?.price
    priced = {
      cost: costNanos(price, usage),
      saved: Math.max(0, promptCacheSavedNanos(price, usage)),
      reference: ctx.route === undefined ? undefined : costNanos(ctx.route.referencePrice, usage),
      estimated: false,
    }
  } else if (ctx.streamedChunks > 0 || (status === 499 && ctx.attempts !== undefined)) {
    // Tokens were spent but not reported: the prompt as counted, one token per content chunk streamed.
    const last = ctx.answered ?? ctx.attempts?.[ctx.attempts.length - 1]?.target
    const estimate: Usage = {
      prompt: ctx.tokens?.prompt ?? 0,
      completion: ctx.streamedChunks,
      cached: 0,
      written: 0,
    }
    ctx.usage = estimate
    priced = { cost: costNanos(last?.price, estimate), saved: 0, reference: undefined, estimated: true }
  } else {
    priced = { cost: 0, saved: 0, reference: undefined, estimated: false }
  }
  ctx.cost = priced
  return priced
}

/** `x-meridian-cost` and `x-meridian-saved` (USD), and the budget warning, on a response whose cost is known. */
export function costHeaders(
  rt: Runtime,
  ctx: RequestContext,
  status: number,
  headers: Record<string, string>,
): void {
  if (ctx.account === undefined) return
  const priced = priceRequest(rt, ctx, status)
  if (priced.cost !== undefined) headers['x-meridian-cost'] = formatUsd(priced.cost)
  // What the answer used, for an edge in front settling its tokens-per-minute reservation.
  const usage = ctx.usage
  if (usage !== undefined && ctx.limitedAtEdge)
    headers['x-meridian-tokens'] = String(usage.prompt + usage.completion)
  if (priced.saved > 0) headers['x-meridian-saved'] = formatUsd(priced.saved)
  if (ctx.reservation?.warning !== undefined) headers['x-meridian-budget-warning'] = ctx.reservation.warning
}

/** The last server-sent event of a live stream: its cost, which its headers could not carry yet (SDKs skip comments). */
export function costComment(rt: Runtime, ctx: RequestContext): string {
  const priced = priceRequest(rt, ctx, 200)
  let text = `: x-meridian-cost: ${priced.cost === undefined ? 'unknown' : formatUsd(priced.cost)}\n`
  if (priced.saved > 0) text += `: x-meridian-saved: ${formatUsd(priced.saved)}\n`
  return `${text}\n`
}

/**
 * Governance's part of ending a request (called once, from `finishRequest`): settles its budget reservation to
 * what it cost, audits a denial, and writes its ledger row, plus one per extra upstream call (retries,
 * fallbacks, a hedge's loser) linked to it by `parent_id`.
 */
export function recordRequest(
  rt: Runtime,
  ctx: RequestContext,
  status: number,
  error: GatewayError | undefined,
): void {
  const gov = rt.governance
  const route = ledgerRouteOf(ctx.path)
  if (gov === undefined || ctx.account === undefined || route === undefined) return
  const priced = priceRequest(rt, ctx, status)
  if (ctx.reservation !== undefined) {
    gov.budgets.settle(ctx.uid, priced.cost ?? ctx.reservation.amount).catch((err: unknown) =>
      gov.logger.warn('budget reservation not settled; it will expire at its full amount', {
        request_id: ctx.id,
        error: err instanceof Error ? err.message : String(err),
      }),
    )
  }
  if (error !== undefined && (status === 403 || status === 429)) {
    gov.audit({
      actor: 'gateway',
      action: 'request.denied',
      project: ctx.project ?? null,
      target: ctx.uid,
      reason: error.code === 'MERIDIAN_POLICY_DENIED' ? 'policy' : 'rate limit',
      details: { request_id: ctx.id, key: ctx.keyId, code: error.code, ...error.detail },
    })
  }
  const now = gov.clock.epoch()
  const started = now - (gov.clock.now() - ctx.start)
  const usage = ctx.usage
  const attempts = ctx.attempts ?? []
  const won = attempts.findIndex((a) => a.won)
  const main = won === -1 ? attempts.length - 1 : won
  const row = entry(ctx, route, ctx.uid, null, Math.round(started), ctx.target ?? null, 0, status)
  row.error = error?.code ?? null
  row.cache = ctx.cache?.status ?? null
  row.cache_layer = ctx.cache?.layer ?? null
  row.tokens_in = usage?.prompt ?? null
  row.tokens_out = usage?.completion ?? null
  row.tokens_cached = usage === undefined ? null : usage.cached
  row.cost_nusd = priced.cost ?? null
  row.saved_nusd = priced.saved
  row.reference_nusd = priced.reference ?? null
  row.estimated = priced.estimated ? 1 : 0
  row.latency_ms = round(gov.clock.now() - ctx.start)
  row.upstream_ms = round(ctx.upstreamMs)
  if (ctx.requestBody !== undefined) row.prompt = JSON.stringify(ctx.requestBody)
  row.response = ctx.responseText ?? null
  gov.ledger.record(row)
  let n = 0
  for (let i = 0; i < attempts.length; i++) {
    if (i === main) continue
    const a = attempts[i]!
    const extra = entry(
      ctx,
      route,
      `${ctx.uid}#${++n}`,
      ctx.uid,
      Math.round(a.started),
      a.target.label,
      n,
      a.status,
    )
    extra.error = a.error ?? null
    // A hedge's loser was cut off mid-answer: its prompt was surely billed.
    if (a.status === 499) {
      const prompt = { prompt: ctx.tokens?.prompt ?? 0, completion: 0, cached: 0, written: 0 }
      extra.cost_nusd = costNanos(a.target.price, prompt) ?? null
      extra.estimated = 1
    }
    extra.latency_ms = round(a.ms)
    extra.upstream_ms = round(a.ms)
    gov.ledger.record(extra)
  }
}

/**
 * A ledger row with every column present, in one literal: rows are built for every request, and an object
 * built by spreading another into a literal this size is slow in V8 (tens of microseconds).
 */
function entry(
  ctx: RequestContext,
  route: string,
  id: string,
  parent: string | null,
  ts: number,
  target: string | null,
  attempt: number,
  status: number,
): LedgerEntry {
  return {
    id,
    request_id: ctx.id,
    parent_id: parent,
    ts,
    tier: 'origin',
    project: ctx.project ?? 'default',
    key_id: ctx.keyId === undefined || ctx.keyId === 'none' ? null : ctx.keyId,
    session: ctx.attribution?.session ?? null,
    route,
    model_requested: ctx.model ?? null,
    model_served: ctx.served ?? ctx.resolved ?? null,
    target,
    attempt,
    status,
    error: null,
    stream: ctx.stream ? 1 : 0,
    cache: null,
    cache_layer: null,
    tokens_in: null,
    tokens_out: null,
    tokens_cached: null,
    cost_nusd: 0,
    saved_nusd: 0,
    reference_nusd: null,
    estimated: 0,
    latency_ms: 0,
    upstream_ms: 0,
    override: ctx.override ?? null,
    prompt: null,
    response: null,
    tags: ctx.attribution?.tags,
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
