import type { Clock } from '../core/clock.js'

/**
 * `healthy` and `degraded` targets are admitted (a degraded one should get less traffic), `down` ones are
 * skipped until their cooldown ends, `probing` ones see one request in `probeEvery` until one answers.
 */
export type HealthState = 'healthy' | 'degraded' | 'down' | 'probing'

export interface HealthOptions {
  /** Rolling window of outcomes (ms), default 60_000. */
  windowMs: number
  /** Outcomes in the window before an error rate or latency can judge, default 5. */
  minRequests: number
  /** Share of failed outcomes in the window that marks a target down, default 0.5. */
  errorRate: number
  /** Window p50 time-to-first-byte above slowFactor × the target's usual → degraded, default 3. */
  slowFactor: number
  /** How long a down target is skipped (ms), default 30_000. */
  cooldownMs: number
  /** While probing, one request in this many is let through, default 10. */
  probeEvery: number
}

export const defaultHealthOptions: Readonly<HealthOptions> = Object.freeze({
  windowMs: 60_000,
  minRequests: 5,
  errorRate: 0.5,
  slowFactor: 3,
  cooldownMs: 30_000,
  probeEvery: 10,
})

/** One target's health, for the admin API and logs. */
export interface HealthView {
  target: string
  state: HealthState
  /** Outcomes in the window. */
  requests: number
  errors: number
  /** errors / requests, 0 without requests. */
  errorRate: number
  /** Over the window's successful time-to-first-byte samples. */
  p50Ms: number | null
  p90Ms: number | null
  /** The target's long-run TTFB, against which the window's p50 is judged slow. */
  usualMs: number | null
  /** Wall-clock ms (epoch) the cooldown ends; null unless down or probing. */
  downUntil: number | null
  /** Why the target is down, probing or degraded. */
  reason: string | null
}

/**
 * The cross-instance part of the gate (Redis on Node; absent for one process), so that one instance's
 * finding spares the others from failing on the same target. Every method is fire-and-forget and
 * fail-open: an outage of the shared store leaves each gate working on its own.
 */
export interface SharedHealth {
  markDown(target: string, untilEpochMs: number, reason: string): void
  markUp(target: string): void
  /** The current state at once (known down targets), then every change from any instance. */
  subscribe(listener: (target: string, untilEpochMs: number | null, reason: string | null) => void): void
  close(): Promise<void>
}

/** Error-rate buckets per target: one second each with the default window. */
const BUCKETS = 60
/** Successful TTFB samples kept per target, the latest within the window. */
const SAMPLES = 64
/** The usual TTFB moves by this share of each sample fed to it: it remembers about fifty samples. */
const USUAL_ALPHA = 0.02

/** Per-target memory is fixed: a bucket ring and a sample ring, whatever the traffic. */
class Target {
  /** The bucket number each slot holds (floor(now / bucketMs)); -Infinity when empty. */
  readonly bucket = new Float64Array(BUCKETS).fill(Number.NEGATIVE_INFINITY)
  readonly total = new Uint32Array(BUCKETS)
  readonly failed = new Uint32Array(BUCKETS)
  /** Successful TTFBs in arrival (hence time) order, oldest at `head`. */
  readonly at = new Float64Array(SAMPLES)
  readonly ms = new Float64Array(SAMPLES)
  head = 0
  size = 0
  /** The samples held, sorted; null when they changed since. */
  sorted: number[] | null = null
  usual: number | null = null
  /** Monotonic deadline of the cooldown; kept while probing, null once up. */
  downUntil: number | null = null
  downUntilEpoch: number | null = null
  reason: string | null = null
  /** Admissions asked for since probing began. */
  probes = 0

  freshWindow(): void {
    this.bucket.fill(Number.NEGATIVE_INFINITY)
    this.total.fill(0)
    this.failed.fill(0)
    this.head = 0
    this.size = 0
    this.sorted = null
  }
}

/** The nearest-rank quantile of sorted values: always one of the samples. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.ceil(Math.min(Math.max(q, 0), 1) * sorted.length) - 1
  return sorted[Math.max(rank, 0)] ?? null
}

/**
 * Per-target health, consulted by the router before each attempt and fed after it. A target goes down on
 * its error RATE over a rolling window (so alternating failures trip it, where a consecutive-failure
 * counter never would), sits out a cooldown, then lets one request in `probeEvery` through as a probe:
 * a success brings it back with a clean slate, a failure sends it down again. A target whose median TTFB
 * is far above its own usual is degraded: still admitted, for the router to weigh. All time comes from
 * the clock, and every state change is worked out lazily on the next call, so there are no timers.
 *
 * @example
 * const gate = new HealthGate({ cooldownMs: 10_000 }, systemClock, redisSharedHealth({ url }))
 * const targets = candidates.filter((t) => gate.admit(t))
 * gate.record(target, { ok: res.ok, ttfbMs })
 * const hedgeAfter = gate.ttfbQuantile(target, 0.9) ?? 500
 */
export class HealthGate {
  private readonly options: HealthOptions
  private readonly bucketMs: number
  private readonly targets = new Map<string, Target>()

  constructor(
    options: Partial<HealthOptions>,
    private readonly clock: Clock,
    private readonly shared?: SharedHealth,
  ) {
    const o = { ...defaultHealthOptions, ...options }
    for (const key of ['windowMs', 'minRequests', 'slowFactor', 'cooldownMs', 'probeEvery'] as const)
      if (!(o[key] > 0)) throw new RangeError(`health ${key} must be above 0, got ${o[key]}`)
    if (!(o.errorRate > 0 && o.errorRate <= 1))
      throw new RangeError(`health errorRate must be in (0, 1], got ${o.errorRate}`)
    o.probeEvery = Math.max(1, Math.round(o.probeEvery))
    this.options = o
    this.bucketMs = o.windowMs / BUCKETS
    // Last: a shared store may report known outages synchronously, and the fields above must exist.
    shared?.subscribe((target, until, reason) => this.remote(target, until, reason))
  }

  state(target: string): HealthState {
    const t = this.targets.get(target)
    if (!t) return 'healthy'
    const now = this.clock.now()
    if (t.downUntil !== null) return now < t.downUntil ? 'down' : 'probing'
    return this.judgeSlow(t, now) ? 'degraded' : 'healthy'
  }

  admit(target: string): boolean {
    const t = this.targets.get(target)
    if (!t || t.downUntil === null) return true
    if (this.clock.now() < t.downUntil) return false
    // The first request after the cooldown is a probe at once; then one in probeEvery.
    return t.probes++ % this.options.probeEvery === 0
  }

  record(target: string, outcome: { ok: boolean; ttfbMs?: number }): void {
    const t = this.entry(target)
    const now = this.clock.now()
    if (t.downUntil !== null) {
      // Late answers to requests sent before the target went down: the cooldown already judged them.
      if (now < t.downUntil) return
      if (!outcome.ok) {
        this.trip(t, target, now, 'probe failed')
        return
      }
      // The probe answered: back with a fresh window, which its own outcome opens.
      this.recover(t, target)
    }

    const id = Math.floor(now / this.bucketMs)
    const slot = ((id % BUCKETS) + BUCKETS) % BUCKETS
    if (t.bucket[slot] !== id) {
      t.bucket[slot] = id
      t.total[slot] = 0
      t.failed[slot] = 0
    }
    t.total[slot]! += 1
    if (!outcome.ok) t.failed[slot]! += 1
    if (outcome.ok && outcome.ttfbMs !== undefined && Number.isFinite(outcome.ttfbMs) && outcome.ttfbMs >= 0)
      this.addSample(t, now, outcome.ttfbMs)

    const { requests, errors } = this.counts(t, now)
    if (requests >= this.options.minRequests && errors / requests >= this.options.errorRate) {
      const seconds = Math.round(this.options.windowMs / 100) / 10
      this.trip(t, target, now, `${errors} of ${requests} requests failed in ${seconds} s`)
    }
  }

  /** Over the window's successful outcomes; null without any (a hedge then falls back to its default). */
  ttfbQuantile(target: string, q: number): number | null {
    const t = this.targets.get(target)
    if (!t) return null
    return quantile(this.live(t, this.clock.now()), q)
  }

  views(): HealthView[] {
    const now = this.clock.now()
    return [...this.targets.keys()].sort().map((name) => {
      const t = this.targets.get(name)!
      const state = this.state(name)
      const { requests, errors } = this.counts(t, now)
      const sorted = this.live(t, now)
      const p50Ms = quantile(sorted, 0.5)
      let reason = t.downUntil === null ? null : t.reason
      if (state === 'degraded')
        reason = `p50 TTFB ${Math.round(p50Ms ?? 0)} ms is over ${this.options.slowFactor} × the usual ${Math.round(t.usual ?? 0)} ms`
      return {
        target: name,
        state,
        requests,
        errors,
        errorRate: requests === 0 ? 0 : errors / requests,
        p50Ms,
        p90Ms: quantile(sorted, 0.9),
        usualMs: t.usual,
        downUntil: t.downUntilEpoch,
        reason,
      }
    })
  }

  private entry(target: string): Target {
    let t = this.targets.get(target)
    if (!t) {
      t = new Target()
      this.targets.set(target, t)
    }
    return t
  }

  private trip(t: Target, target: string, now: number, reason: string): void {
    t.downUntil = now + this.options.cooldownMs
    t.downUntilEpoch = this.clock.epoch() + this.options.cooldownMs
    t.reason = reason
    t.probes = 0
    this.shared?.markDown(target, t.downUntilEpoch, reason)
  }

  private recover(t: Target, target: string): void {
    this.clearDown(t)
    this.shared?.markUp(target)
  }

  /** Back to healthy with a fresh window: the failures that tripped it would otherwise trip it again. */
  private clearDown(t: Target): void {
    t.downUntil = null
    t.downUntilEpoch = null
    t.reason = null
    t.freshWindow()
  }

  /** News from another instance (or this one's own, echoed back), never passed on again. */
  private remote(target: string, untilEpoch: number | null, reason: string | null): void {
    const t = this.entry(target)
    if (untilEpoch === null) {
      if (t.downUntil !== null) this.clearDown(t)
      return
    }
    const left = untilEpoch - this.clock.epoch()
    // That cooldown is over already: a late echo, or an outage the local gate has since seen recover.
    if (left <= 0) return
    const deadline = this.clock.now() + left
    // Two instances tripping together: both sit out the later cooldown.
    if (t.downUntil !== null && t.downUntil >= deadline) return
    t.downUntil = deadline
    t.downUntilEpoch = untilEpoch
    t.reason = reason ?? 'down on another instance'
    t.probes = 0
  }

  private counts(t: Target, now: number): { requests: number; errors: number } {
    const id = Math.floor(now / this.bucketMs)
    let requests = 0
    let errors = 0
    for (let i = 0; i < BUCKETS; i++) {
      const b = t.bucket[i]!
      if (b > id - BUCKETS && b <= id) {
        requests += t.total[i]!
        errors += t.failed[i]!
      }
    }
    return { requests, errors }
  }

  private addSample(t: Target, now: number, ms: number): void {
    this.expire(t, now)
    if (t.size === SAMPLES) this.evict(t, 1)
    const slot = (t.head + t.size) % SAMPLES
    t.at[slot] = now
    t.ms[slot] = ms
    t.size++
    t.sorted = null
  }

  /** Drops the samples that left the window (a prefix: samples arrive in time order). */
  private expire(t: Target, now: number): void {
    const cutoff = now - this.options.windowMs
    let n = 0
    while (n < t.size && t.at[(t.head + n) % SAMPLES]! <= cutoff) n++
    if (n > 0) this.evict(t, n)
  }

  /**
   * The usual TTFB learns only from samples as they leave the window, and only if the window they leave
   * was not slow. So the window's median is always judged against older history: a slowdown is seen
   * before it can leak into the baseline, and a slow spell does not quickly become the new normal.
   */
  private evict(t: Target, n: number): void {
    const slow = this.windowSlow(t)
    for (let i = 0; i < n; i++) {
      const ms = t.ms[t.head]!
      if (!slow) t.usual = t.usual === null ? ms : t.usual + USUAL_ALPHA * (ms - t.usual)
      t.head = (t.head + 1) % SAMPLES
      t.size--
    }
    t.sorted = null
  }

  /** The samples held, sorted (cached until they change). */
  private sorted(t: Target): number[] {
    if (t.sorted === null) {
      const values: number[] = []
      for (let i = 0; i < t.size; i++) values.push(t.ms[(t.head + i) % SAMPLES]!)
      t.sorted = values.sort((a, b) => a - b)
    }
    return t.sorted
  }

  /** The window's successful TTFBs, sorted. */
  private live(t: Target, now: number): number[] {
    this.expire(t, now)
    return this.sorted(t)
  }

  private judgeSlow(t: Target, now: number): boolean {
    this.expire(t, now)
    return this.windowSlow(t)
  }

  /**
   * Whether the window's p50 is over slowFactor × the usual, without sorting (every request asks): the
   * nearest-rank p50 of n samples is over a threshold exactly when at least n - ceil(n / 2) + 1 of them are.
   */
  private windowSlow(t: Target): boolean {
    const n = t.size
    // A window cannot hold more samples than the ring, so a larger minRequests is capped to it.
    if (t.usual === null || n < Math.min(this.options.minRequests, SAMPLES)) return false
    const threshold = this.options.slowFactor * t.usual
    let above = 0
    for (let i = 0; i < n; i++) if (t.ms[(t.head + i) % SAMPLES]! > threshold) above++
    return above >= n - Math.ceil(n / 2) + 1
  }
}
