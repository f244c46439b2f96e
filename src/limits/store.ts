/**
 * The rate-limit store contract. A request names every scope that limits it (its key, its project, and each
 * of those per model); the store admits it only if every rule of every scope has room, and then records it in
 * all of them at once (all or nothing: a denied request consumes nothing). Limits are exact: a sliding window
 * of one minute for requests and tokens, leases for concurrency (see docs/limits.md).
 */

/** The limits of one scope. An absent dimension is unlimited. */
export interface LimitRule {
  /** e.g. `key:ci-bot`, `project:search`, `key:ci-bot|model:gpt-4o`. Opaque to the store. */
  scope: string
  /** Requests per sliding minute. */
  rpm?: number
  /** Tokens per sliding minute: reserved up front, settled to actual usage. */
  tpm?: number
  /** Requests in flight at once. */
  concurrent?: number
}

export interface AcquireRequest {
  rules: readonly LimitRule[]
  /** Unique per request: names its window entries and its concurrency lease. */
  id: string
  /** Tokens to reserve in every scope with a `tpm` (estimated prompt + max output). */
  tokens: number
}

/** The state of one dimension, for the `x-ratelimit-*` headers: the tightest scope's. */
export interface LimitState {
  limit: number
  remaining: number
  /** Until the window is back to its initial state (the newest entry leaves it), in ms. */
  resetMs: number
}

export interface Decision {
  allowed: boolean
  /** Why not, when not allowed: the first rule that had no room. */
  denied?: {
    scope: string
    dimension: 'requests' | 'tokens' | 'concurrent'
    /** When a retry could first succeed, in ms; undefined when it never can (a request above the tpm itself). */
    retryAfterMs: number | undefined
  }
  /** After this decision, across the scopes with an `rpm`: the one with the fewest remaining. */
  requests?: LimitState
  /** Likewise for `tpm`. */
  tokens?: LimitState
  /** The store's own handle on an admitted request, handed back to `settle` (e.g. what it took from a holding). */
  ticket?: unknown
}

export interface SettleRequest {
  rules: readonly LimitRule[]
  id: string
  /** Tokens reserved at acquire. */
  reserved: number
  /** Tokens actually used, replacing the reservation in every `tpm` window it is still in; undefined keeps it. */
  used: number | undefined
  /** The admitting decision's `ticket`, if it had one. */
  ticket?: unknown
}

export interface LimitStore {
  /** `memory`, `redis`, `durable-object`. */
  readonly name: string
  /** One atomic check-and-record across every rule (one round trip for a remote store). */
  acquire(request: AcquireRequest): Decision | Promise<Decision>
  /** Called once per admitted request when it ends: releases its concurrency lease, settles its tokens. */
  settle(request: SettleRequest): void | Promise<void>
  close?(): void | Promise<void>
}

/** One minute: the window of `rpm` and `tpm`. */
export const WINDOW_MS = 60_000
