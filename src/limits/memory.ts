import {
  type AcquireRequest,
  type Decision,
  type LimitRule,
  type LimitState,
  type LimitStore,
  type SettleRequest,
  WINDOW_MS,
} from './store.js'

export interface MemoryLimitsOptions {
  /** Any millisecond time base that moves forward (default `Date.now`). */
  clock?: { now(): number }
  /** How long a concurrency lease holds a slot if its request is never settled (default 10 minutes). */
  leaseMs?: number
  /** The window of `rpm` and `tpm` (default `WINDOW_MS`); shorter only in tests. */
  windowMs?: number
}

/** The memory store answers synchronously; `size` is the number of scopes it holds state for. */
export interface MemoryLimits extends LimitStore {
  readonly size: number
  acquire(request: AcquireRequest): Decision
  settle(request: SettleRequest): void
}

/** Ten minutes: long enough for any request, short enough that a lost settle frees its slot. */
export const LEASE_MS = 10 * 60_000
/** A full concurrency pool gives no hint of when a slot frees up, so a denial suggests one second. */
export const CONCURRENT_RETRY_MS = 1000

/** Scopes the background sweep examines per acquire: a dead scope is dropped within `size` calls. */
const SWEEP_PER_CALL = 1
/** A deque compacts once this many consumed slots lead it and they are at least half of it. */
const COMPACT_AT = 512

/** An array used as a queue: `shift` moves a head index, and the dead prefix is cut off now and then. */
class Deque<T> {
  private items: T[] = []
  private head = 0
  get length() {
    return this.items.length - this.head
  }
  /** The i-th item from the oldest; callers stay in range. */
  at(i: number): T {
    return this.items[this.head + i] as T
  }
  newest(): T | undefined {
    return this.length > 0 ? this.items[this.items.length - 1] : undefined
  }
  push(item: T) {
    this.items.push(item)
  }
  /** Keeps only the items that pass, in order: O(n), for a caller that amortizes it. */
  retain(keep: (item: T) => boolean) {
    this.items = this.items.slice(this.head).filter(keep)
    this.head = 0
  }
  shift(): T {
    // The slot is not cleared: writing undefined into an array of numbers would turn it into an array of
    // boxed numbers. What the dead prefix holds is released at the next compaction.
    const item = this.items[this.head++] as T
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }
}

interface TokenEntry {
  time: number
  id: string
  tokens: number
}

interface Lease {
  id: string
  expiry: number
  /** False once settled: the deque drops it lazily. */
  live: boolean
}

interface Scope {
  /** Times of the admitted requests still in the window, oldest first. */
  requests: Deque<number>
  /** Token reservations still in the window, oldest first, with their running sum. */
  tokens: Deque<TokenEntry>
  tokenSum: number
  tokenById: Map<string, TokenEntry>
  /**
   * Live leases by request id, and every lease in the order taken (all last as long, so that is expiry
   * order). A settled lease leaves the map at once and the deque lazily; expiry pops the deque's head.
   * (Iterating the map from its start instead would skip every deleted slot each time: quadratic.)
   */
  leases: Map<string, Lease>
  leaseOrder: Deque<Lease>
  /** The acquire that last recorded here, per dimension: a scope named twice records once. */
  marks: [number, number, number]
}

/** Token counts are whole and non-negative, as in the Redis store (which needs integers). */
export const wholeTokens = (n: number | undefined) =>
  n !== undefined && Number.isFinite(n) ? Math.max(0, Math.ceil(n)) : 0

/**
 * Exact limits in one process: sliding-window logs for `rpm` and `tpm`, leases for `concurrent`. Every
 * check is amortized O(1) per rule: entries are appended once and expired once from the front of a deque,
 * and the tokens in a window are kept as a running sum. Only a token denial walks its log, to say when
 * enough will have expired. Scopes left empty are dropped, on touch or by a sweep of one per acquire.
 *
 * @example
 * const limits = memoryLimits()
 * const d = limits.acquire({ rules: [{ scope: 'key:ci-bot', rpm: 60, concurrent: 4 }], id, tokens: 900 })
 * if (d.allowed) limits.settle({ rules, id, reserved: 900, used: 412 }) // when the request ends
 */
export function memoryLimits(options: MemoryLimitsOptions = {}): MemoryLimits {
  const clock = options.clock ?? Date
  const leaseMs = options.leaseMs ?? LEASE_MS
  const windowMs = options.windowMs ?? WINDOW_MS
  const scopes = new Map<string, Scope>()
  let sweep = scopes.entries()
  let stamp = 0

  /** Expires what left the window (entries at or before `now - windowMs`) and leases due; true if empty. */
  const prune = (scope: Scope, now: number): boolean => {
    const cutoff = now - windowMs
    const { requests, tokens, tokenById, leases, leaseOrder } = scope
    while (requests.length > 0 && requests.at(0) <= cutoff) requests.shift()
    while (tokens.length > 0 && tokens.at(0).time <= cutoff) {
      const entry = tokens.shift()
      scope.tokenSum -= entry.tokens
      if (tokenById.get(entry.id) === entry) tokenById.delete(entry.id)
    }
    while (leaseOrder.length > 0) {
      const lease = leaseOrder.at(0)
      if (lease.live && lease.expiry > now) break
      leaseOrder.shift()
      if (lease.live) {
        lease.live = false
        leases.delete(lease.id)
      }
    }
    return requests.length === 0 && tokens.length === 0 && leases.size === 0
  }

  /** The scope's state with the expired removed, or undefined if it has none left (and is dropped). */
  const live = (name: string, now: number): Scope | undefined => {
    const scope = scopes.get(name)
    if (scope && prune(scope, now)) {
      scopes.delete(name)
      return undefined
    }
    return scope
  }

  const release = (scope: Scope, id: string) => {
    const lease = scope.leases.get(id)
    if (!lease) return
    lease.live = false
    scope.leases.delete(id)
    // Settled leases behind a long-lived one wait in the deque; past twice the live ones, sweep them out.
    if (scope.leaseOrder.length > 2 * scope.leases.size + 64) scope.leaseOrder.retain((l) => l.live)
  }

  const create = (name: string): Scope => {
    const scope: Scope = {
      requests: new Deque(),
      tokens: new Deque(),
      tokenSum: 0,
      tokenById: new Map(),
      leases: new Map(),
      leaseOrder: new Deque(),
      marks: [0, 0, 0],
    }
    scopes.set(name, scope)
    return scope
  }

  const sweepSome = (now: number) => {
    for (let i = 0; i < SWEEP_PER_CALL && scopes.size > 0; i++) {
      let next = sweep.next()
      if (next.done) {
        sweep = scopes.entries()
        next = sweep.next()
        if (next.done) return
      }
      const [name, scope] = next.value
      if (prune(scope, now)) scopes.delete(name)
    }
  }

  /** When enough of the oldest reservations will have left for `tokens` more to fit under `tpm`. */
  const tokenRetry = (scope: Scope, tokens: number, tpm: number, now: number): number => {
    const need = scope.tokenSum + tokens - tpm
    let freed = 0
    for (let i = 0; i < scope.tokens.length; i++) {
      const entry = scope.tokens.at(i)
      freed += entry.tokens
      if (freed >= need) return entry.time + windowMs - now
    }
    return windowMs // unreachable while the sum matches the log
  }

  /** The first rule without room, in rule order and then requests, tokens, concurrent. */
  const check = (rules: readonly LimitRule[], tokens: number, now: number): Decision['denied'] => {
    for (const rule of rules) {
      const scope = live(rule.scope, now)
      const { rpm, tpm, concurrent } = rule
      if (rpm !== undefined && (scope?.requests.length ?? 0) >= rpm) {
        // Room comes back when the oldest entry leaves; a limit of 0 never has room.
        const oldest = scope && scope.requests.length > 0 ? scope.requests.at(0) : undefined
        const retryAfterMs = rpm > 0 && oldest !== undefined ? oldest + windowMs - now : undefined
        return { scope: rule.scope, dimension: 'requests', retryAfterMs }
      }
      if (tpm !== undefined) {
        if (tokens > tpm) return { scope: rule.scope, dimension: 'tokens', retryAfterMs: undefined }
        if (scope && scope.tokenSum + tokens > tpm)
          return { scope: rule.scope, dimension: 'tokens', retryAfterMs: tokenRetry(scope, tokens, tpm, now) }
      }
      if (concurrent !== undefined && (scope?.leases.size ?? 0) >= concurrent) {
        const retryAfterMs = concurrent > 0 ? CONCURRENT_RETRY_MS : undefined
        return { scope: rule.scope, dimension: 'concurrent', retryAfterMs }
      }
    }
    return undefined
  }

  const record = (rules: readonly LimitRule[], id: string, tokens: number, now: number) => {
    stamp++
    for (const rule of rules) {
      const scope = scopes.get(rule.scope) ?? create(rule.scope)
      const { marks } = scope
      if (rule.rpm !== undefined && marks[0] !== stamp) {
        marks[0] = stamp
        scope.requests.push(now)
      }
      if (rule.tpm !== undefined && marks[1] !== stamp) {
        marks[1] = stamp
        const entry = { time: now, id, tokens }
        scope.tokens.push(entry)
        scope.tokenById.set(id, entry)
        scope.tokenSum += tokens
      }
      if (rule.concurrent !== undefined && marks[2] !== stamp) {
        marks[2] = stamp
        release(scope, id) // should an id come back, its old lease goes
        const lease = { id, expiry: now + leaseMs, live: true }
        scope.leases.set(id, lease)
        scope.leaseOrder.push(lease)
      }
    }
  }

  /** Per dimension, the scope with the fewest remaining, read from the state as it now is. */
  const headers = (decision: Decision, rules: readonly LimitRule[], now: number) => {
    let requests: LimitState | undefined
    let tokens: LimitState | undefined
    for (const rule of rules) {
      // Pruned again: a denial stops checking at the first full rule, and the later ones may hold expired entries.
      const scope = live(rule.scope, now)
      if (rule.rpm !== undefined) {
        const count = scope?.requests.length ?? 0
        const remaining = Math.max(0, rule.rpm - count)
        if (!requests || remaining < requests.remaining) {
          const newest = scope?.requests.newest()
          const resetMs = newest === undefined ? 0 : newest + windowMs - now
          requests = { limit: rule.rpm, remaining, resetMs }
        }
      }
      if (rule.tpm !== undefined) {
        const remaining = Math.max(0, rule.tpm - (scope?.tokenSum ?? 0))
        if (!tokens || remaining < tokens.remaining) {
          const newest = scope?.tokens.newest()
          const resetMs = newest === undefined ? 0 : newest.time + windowMs - now
          tokens = { limit: rule.tpm, remaining, resetMs }
        }
      }
    }
    if (requests) decision.requests = requests
    if (tokens) decision.tokens = tokens
    return decision
  }

  return {
    name: 'memory',
    get size() {
      return scopes.size
    },
    acquire({ rules, id, tokens }) {
      if (rules.length === 0) return { allowed: true }
      const now = clock.now()
      sweepSome(now)
      const reserve = wholeTokens(tokens)
      const denied = check(rules, reserve, now)
      if (denied) return headers({ allowed: false, denied }, rules, now)
      record(rules, id, reserve, now)
      return headers({ allowed: true }, rules, now)
    },
    settle({ rules, id, used }) {
      const now = clock.now()
      const settled = used === undefined ? undefined : wholeTokens(used)
      for (const rule of rules) {
        const scope = live(rule.scope, now)
        if (!scope) continue
        // Whatever the rule says now: limits may have changed since the acquire.
        release(scope, id)
        const entry = settled === undefined ? undefined : scope.tokenById.get(id)
        if (entry && settled !== undefined && entry.time > now - windowMs) {
          scope.tokenSum += settled - entry.tokens
          entry.tokens = settled
        }
        if (scope.requests.length === 0 && scope.tokens.length === 0 && scope.leases.size === 0)
          scopes.delete(rule.scope)
      }
    },
    close() {
      scopes.clear()
    },
  }
}
