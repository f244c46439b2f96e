import type { RouterConfig } from '../config/schema.js'
import { onAbortWhileOpen, type RequestContext } from '../core/context.js'
import type { GatewayError } from '../core/errors.js'
import type { HealthGate } from './health.js'
import type { ResolvedModel, ResolvedTarget, StrategyNode } from './models.js'

/** One way to answer a request: a target of the model asked for, or of a same-bucket model standing in. */
export interface Candidate {
  model: ResolvedModel
  target: ResolvedTarget
  /** Probing after a cooldown: sent only when the health gate gives this request a probe slot. */
  probe: boolean
}

/** What the request path needs to route: the config, the health gate, failover lists, randomness, waiting. */
export interface Router {
  config: RouterConfig
  health: HealthGate
  /** For each model, the models of its bucket on other providers, in config order. */
  failovers: ReadonlyMap<string, readonly ResolvedModel[]>
  /** In [0, 1): load balancing and jitter. */
  random: () => number
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>
}

/** A degraded target keeps this share of its load-balanced weight. */
const DEGRADED_WEIGHT = 0.25

/**
 * For each model with a bucket, the other models of that bucket none of whose providers it shares (failing over
 * to the same provider rarely helps): never a weaker bucket, never a model without one.
 */
export function failoverTable(models: ReadonlyMap<string, ResolvedModel>): Map<string, ResolvedModel[]> {
  const out = new Map<string, ResolvedModel[]>()
  for (const model of models.values()) {
    if (model.bucket === undefined) continue
    const own = new Set(model.targets.map((t) => t.provider.id))
    const same = [...models.values()].filter(
      (m) => m !== model && m.bucket === model.bucket && m.targets.every((t) => !own.has(t.provider.id)),
    )
    if (same.length > 0) out.set(model.name, same)
  }
  return out
}

/**
 * The order in which to try a request's candidates: the model's own targets by its strategy, healthy before
 * degraded, then (with `router.failover`) its bucket's models on other providers. Down targets are left out,
 * probing ones marked (the attempt loop asks the gate for a probe slot just before sending, so a slot is never
 * spent on a target that is not tried); if every candidate is down, all are tried anyway, since a stale verdict
 * is better tested than trusted.
 */
export function plan(router: Router, model: ResolvedModel): Candidate[] {
  const { health } = router
  const failovers = router.config.failover ? (router.failovers.get(model.name) ?? []) : []
  const all: Candidate[] = []
  for (const m of [model, ...failovers]) {
    for (const target of ordered(router, m)) {
      const state = health.state(target.label)
      if (state !== 'down') all.push({ model: m, target, probe: state === 'probing' })
    }
  }
  if (all.length > 0) return all
  return model.targets.map((target) => ({ model, target, probe: false }))
}

/** A model's targets in the order its strategy gives, nested models expanded by their own strategies. */
function ordered(router: Router, model: ResolvedModel): ResolvedTarget[] {
  const { health } = router
  const expand = (node: StrategyNode): ResolvedTarget[] =>
    'target' in node ? [node.target] : ordered(router, node.model)
  let targets: ResolvedTarget[]
  if (model.nodes.length === 1) targets = expand(model.nodes[0]!)
  else if (model.strategy === 'loadbalance') {
    // A weighted draw without replacement: the first is the load-balanced choice, the rest stand by in order.
    const pool = model.nodes.map((node) => ({
      node,
      w:
        'target' in node
          ? node.target.weight * (health.state(node.target.label) === 'degraded' ? DEGRADED_WEIGHT : 1)
          : node.weight,
    }))
    targets = []
    while (pool.length > 0) {
      let total = 0
      for (const p of pool) total += p.w
      let x = router.random() * total
      let i = 0
      while (i < pool.length - 1 && x >= pool[i]!.w) x -= pool[i++]!.w
      targets.push(...expand(pool.splice(i, 1)[0]!.node))
    }
  } else {
    // Fallback keeps the configured order, with degraded targets after the healthy ones.
    const all = model.nodes.flatMap(expand)
    const healthy = all.filter((t) => health.state(t.label) !== 'degraded')
    targets = healthy.length === all.length ? all : [...healthy, ...all.filter((t) => !healthy.includes(t))]
  }
  // A target reached twice (through two nested models) is tried once.
  return targets.length > 1 ? [...new Set(targets)] : targets
}

/** The wait before retry round `round` (0-based): exponential, capped, with full jitter in its upper half. */
export function backoffMs(config: RouterConfig['retries'], round: number, random: () => number): number {
  const ceiling = Math.min(config.backoff_max, config.backoff * 2 ** round)
  return ceiling / 2 + (random() * ceiling) / 2
}

/** The `Retry-After` of an upstream's answer, in ms (seconds or an HTTP date); undefined without one. */
export function retryAfterMs(error: GatewayError, epochNow: number): number | undefined {
  const value = error.headers?.['retry-after']
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - epochNow)
}

/** How long to wait for a first byte before hedging on `target`. */
export function hedgeDelayMs(router: Router, target: ResolvedTarget): number {
  const { hedge } = router.config
  // A degraded target is hedged at once: waiting for its first byte is what is slow.
  if (router.health.state(target.label) === 'degraded') return 0
  if (hedge.after !== 'p90') return hedge.after
  const p90 = router.health.ttfbQuantile(target.label, 0.9)
  return p90 === null ? hedge.default : Math.max(hedge.min, p90)
}

/** A sleep on the runtime's timers, cancelled by the signal. */
export function timerSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** What `within` gives when the time ran out first. */
export const EXPIRED: unique symbol = Symbol('expired')

/**
 * `work`'s value, or EXPIRED if `ms` pass first; `work`'s failure is thrown. The timer is cleared either way.
 * (The sleep only rejects when its timer is cleared, after the race is decided.)
 */
export async function within<T>(
  sleep: Router['sleep'],
  ms: number,
  work: Promise<T>,
): Promise<T | typeof EXPIRED> {
  const timer = new AbortController()
  try {
    const expired = (): typeof EXPIRED => EXPIRED
    const expiry = sleep(ms, timer.signal).then(expired, expired)
    return await Promise.race([work, expiry])
  } finally {
    timer.abort()
  }
}

/**
 * An AbortController that also aborts when `signal` does (an attempt's own, inside the request's). The link is
 * dropped when the request ends (`onAbortWhileOpen`): `signal` may be the client connection's, which outlives it.
 */
export function linkedController(signal: AbortSignal, ctx: RequestContext): AbortController {
  const controller = new AbortController()
  if (signal.aborted) controller.abort()
  else onAbortWhileOpen(ctx, signal, () => controller.abort())
  return controller
}
