import { DurableObject } from 'cloudflare:workers'
import { LEASE_MS, type MemoryLimits, memoryLimits, wholeTokens } from '../../limits/memory.js'
import { type AcquireRequest, type Decision, type SettleRequest, WINDOW_MS } from '../../limits/store.js'

/** The bindings the object reads: numbers, or numeric strings as `vars` may give them. */
export interface LimitsEnv {
  /** The window of `rpm` and `tpm` in ms (default `WINDOW_MS`); shorter only in tests. */
  LIMITS_WINDOW_MS?: number | string
  /** How long an unsettled concurrency lease holds its slot, in ms (default 10 minutes). */
  LIMITS_LEASE_MS?: number | string
}

// The design: the decisions are made by `memoryLimits`, the reference store, kept hot in the object's memory;
// every entry it records is also written to the object's SQLite storage, and a new instance (after an
// eviction, a restart, a move) replays what storage holds into a fresh memory store before its first call.
// Why not decide in SQL: a check then reads every scope (count, sum, oldest entry) through SQL on every call,
// denials included, and re-implements the contract a third time; here reads cost nothing, a denial writes
// nothing, an admission writes one row per scope and dimension, and the behaviour is the reference's by
// construction, to the millisecond. What it costs: memory for the entries of one window (as the Redis store
// keeps in Redis), and a replay of one window's entries when the object starts. Measured in local workerd,
// inside the object: a denial 3-5 µs (no SQL), an admission 9 µs for one rule and 40 µs for a key and a
// project with rpm, tpm and concurrent each (6 µs of it the memory store), a settle of those 28 µs, a
// replay 5.5 µs per row (50,000 rows in 280 ms). The RPC round trip and the commit dwarf all of it.
//
// Rows: one per recorded entry (kind 0 a request, 1 a token reservation, 2 a concurrency lease), `seq` keeping
// the order they were recorded in, which is the order the memory store's logs hold them. `time` is when the
// entry was recorded; a lease expires `leaseMs` after it. Pruned every second or so while the object is used,
// and by an alarm once it is idle, so storage holds at most the last window (and the live leases).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS limit_entries (
  seq INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  kind INTEGER NOT NULL,
  id TEXT NOT NULL,
  time INTEGER NOT NULL,
  tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS limit_entries_by_time ON limit_entries (kind, time);
CREATE INDEX IF NOT EXISTS limit_entries_tokens ON limit_entries (scope, id) WHERE kind = 1;
CREATE UNIQUE INDEX IF NOT EXISTS limit_entries_leases ON limit_entries (scope, id) WHERE kind = 2;
`

const REQUEST = 0
const TOKENS = 1
const LEASE = 2
type Kind = typeof REQUEST | typeof TOKENS | typeof LEASE

/** The rule that makes the memory store record one entry of a kind, whatever it already holds. */
const REPLAY_RULE = [
  { rpm: Number.POSITIVE_INFINITY },
  { tpm: Number.POSITIVE_INFINITY },
  { concurrent: Number.POSITIVE_INFINITY },
]

/** Pruning storage more often than this gains nothing: rows that outlived the window are only bytes on disk. */
const PRUNE_EVERY_MS = 1000

const positive = (value: unknown, fallback: number): number => {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : fallback
}

/**
 * Exact rate limits at the edge: one object holds every scope of the requests routed to it (a key's, or a
 * project's with its keys), so a check across all the rules of a request is one RPC call, atomic because it
 * never awaits. Counters live in the object's SQLite storage and survive its eviction. Bind it with
 * `new_sqlite_classes` in the migration and reach it through `durableObjectLimits` (limits-client.ts).
 *
 * @example
 * // wrangler.jsonc
 * // "durable_objects": { "bindings": [{ "name": "LIMITS", "class_name": "LimitsDurableObject" }] },
 * // "migrations": [{ "tag": "v1", "new_sqlite_classes": ["LimitsDurableObject"] }]
 * const limits = durableObjectLimits(env.LIMITS, (r) => limitObjectName(r.rules))
 */
export class LimitsDurableObject extends DurableObject<LimitsEnv> {
  private readonly sql: SqlStorage
  private readonly windowMs: number
  private readonly leaseMs: number
  private readonly limits: MemoryLimits
  /** The time every call reads: `Date.now()`, but never behind a time already recorded (clocks may differ). */
  private now = 0
  private nextPrune = 0
  private alarmSet = false

  constructor(ctx: DurableObjectState, env: LimitsEnv) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.windowMs = positive(env.LIMITS_WINDOW_MS, WINDOW_MS)
    this.leaseMs = positive(env.LIMITS_LEASE_MS, LEASE_MS)
    this.limits = memoryLimits({
      clock: { now: () => this.now },
      windowMs: this.windowMs,
      leaseMs: this.leaseMs,
    })
    // Synchronous storage: the rebuild is done before the constructor returns, so no call can see a half-built
    // state (blockConcurrencyWhile is only needed across an await, and there is none).
    this.sql.exec(SCHEMA)
    this.rebuild()
  }

  /** Checks every rule of the request and records it in all of them, or in none: see `LimitStore.acquire`. */
  acquire(request: AcquireRequest): Decision {
    const now = this.tick()
    const decision = this.limits.acquire(request)
    if (decision.allowed && request.rules.length > 0) this.persist(() => this.record(request, now))
    if (now >= this.nextPrune) this.prune(now)
    return decision
  }

  /** Releases the request's leases and settles its tokens: see `LimitStore.settle`. Idempotent. */
  settle(request: SettleRequest): void {
    const now = this.tick()
    this.limits.settle(request)
    this.persist(() => this.recordSettle(request, now))
  }

  /** Prunes an idle object's storage; re-armed while it still holds entries. */
  override alarm(): void {
    this.alarmSet = false
    this.prune(this.tick())
    const left = this.sql.exec<{ n: number }>('SELECT EXISTS (SELECT 1 FROM limit_entries) AS n').one().n
    if (left) this.armAlarm(this.now)
  }

  private tick(): number {
    const t = Date.now()
    if (t > this.now) this.now = t
    return this.now
  }

  /**
   * Writes what the memory store just did. It has already changed, so a write that fails must not leave the
   * two apart: the object is reset, and the next call rebuilds it from what storage holds (the caller sees
   * an error for this one). Not wrapped in `transactionSync`: its savepoint costs twice the writes it wraps
   * (70 µs against 30 µs for six rows, measured in workerd), and a partly written request can only count in
   * more scopes than it should, for one window, after a failure.
   */
  private persist(write: () => void) {
    try {
      write()
    } catch (err) {
      this.ctx.abort('limit store write failed')
      throw err
    }
  }

  /** The rows of an admitted request: one per scope and dimension, as the memory store records them. */
  private record({ rules, id, tokens }: AcquireRequest, now: number) {
    const reserved = wholeTokens(tokens)
    const done = new Set<string>()
    const insert = (kind: Kind, scope: string) => {
      const key = `${kind}${scope}`
      if (done.has(key)) return
      done.add(key)
      // A lease taken again under the same id replaces the old one, as in memory.
      this.sql.exec(
        'INSERT OR REPLACE INTO limit_entries (scope, kind, id, time, tokens) VALUES (?, ?, ?, ?, ?)',
        scope,
        kind,
        id,
        now,
        kind === TOKENS ? reserved : 0,
      )
    }
    for (const rule of rules) {
      if (rule.rpm !== undefined) insert(REQUEST, rule.scope)
      if (rule.tpm !== undefined) insert(TOKENS, rule.scope)
      if (rule.concurrent !== undefined) insert(LEASE, rule.scope)
    }
    this.armAlarm(now)
  }

  private recordSettle({ rules, id, used }: SettleRequest, now: number) {
    const settled = used === undefined ? undefined : wholeTokens(used)
    const done = new Set<string>()
    for (const { scope } of rules) {
      if (done.has(scope)) continue
      done.add(scope)
      this.sql.exec(
        'DELETE FROM limit_entries INDEXED BY limit_entries_leases WHERE kind = 2 AND scope = ? AND id = ?',
        scope,
        id,
      )
      // Only while the reservation is in the window, as the memory store does. The index is named: left to
      // itself, SQLite walks the window by (kind, time) instead, 6 ms per settle with 20,000 entries.
      if (settled !== undefined)
        this.sql.exec(
          'UPDATE limit_entries INDEXED BY limit_entries_tokens SET tokens = ? WHERE kind = 1 AND scope = ? AND id = ? AND time > ?',
          settled,
          scope,
          id,
          now - this.windowMs,
        )
    }
  }

  /** Deletes the rows whose entries no longer count: out of the window, leases past their expiry. */
  private prune(now: number) {
    this.nextPrune = now + Math.min(PRUNE_EVERY_MS, this.windowMs)
    this.sql.exec('DELETE FROM limit_entries WHERE kind IN (0, 1) AND time <= ?', now - this.windowMs)
    this.sql.exec('DELETE FROM limit_entries WHERE kind = 2 AND time <= ?', now - this.leaseMs)
  }

  /** Once rows are written, an alarm a window (or a lease) later prunes them even if no call comes. */
  private armAlarm(now: number) {
    if (this.alarmSet) return
    this.alarmSet = true
    // Not awaited: storage writes of one object apply in order, and the output gate holds the reply until done.
    this.ctx.storage.setAlarm(now + Math.max(this.windowMs, this.leaseMs) + PRUNE_EVERY_MS).catch(() => {
      this.alarmSet = false
    })
  }

  /**
   * Replays the live rows into the memory store, oldest first, each at its own time, through rules that
   * record without limiting. The result is the state the memory store had: same entries, same order.
   */
  private rebuild() {
    const now = this.tick()
    this.prune(now)
    const rows = this.sql.exec<{ scope: string; kind: number; id: string; time: number; tokens: number }>(
      'SELECT scope, kind, id, time, tokens FROM limit_entries ORDER BY seq',
    )
    let last = 0
    for (const { scope, kind, id, time, tokens } of rows) {
      const limit = REPLAY_RULE[kind]
      if (!limit) continue
      if (time > last) last = time
      this.now = time
      this.limits.acquire({ rules: [{ scope, ...limit }], id, tokens })
    }
    this.now = Math.max(now, last)
    // An alarm may or may not be set from before: the next write sets one (setAlarm replaces it).
    this.alarmSet = false
  }
}
