import { type AheadOptions, aheadCap, aheadSettings, unref } from './ahead.js'
import type { Decision, LimitRule } from './store.js'

/** What one store call answered: its decision, and the slots it recorded now and ahead. */
export interface SlotGrant {
  /** Its `requests` state is counted after every slot of the grant was recorded. */
  decision: Decision
  /** Slots recorded now, for the requests waiting: `id:1` … `id:now` (or `id` alone for one waiter, no extra). */
  now: number
  /** Slots recorded `aheadMs` in the future for requests yet to come: `id:now+1` … `id:now+ahead`. */
  ahead: number
}

export interface RequestSlotsOptions extends AheadOptions {
  /**
   * One atomic check in every rule: records `waiters` slots now (as many as fit) and, while room allows, up to
   * `extra` more stamped `aheadMs` in the future. Denies, recording nothing, only when not one slot fits.
   */
  grant(
    rules: readonly LimitRule[],
    id: string,
    waiters: number,
    extra: number,
    aheadMs: number,
  ): Promise<SlotGrant>
  /** Removes slots recorded ahead and never used, `id:from` … `id:to`, from every rule. Best effort. */
  giveBack(rules: readonly LimitRule[], id: string, from: number, to: number): void
}

/** Slots recorded ahead by one grant, handed out here until `until`. */
interface Lease {
  id: string
  next: number
  last: number
  until: number
  limit: number
  /** Remaining in the tightest scope once all of this grant's slots were recorded. */
  remaining: number
  resetMs: number
  timer: ReturnType<typeof setTimeout>
}

interface Waiter {
  resolve(decision: Decision): void
  reject(err: unknown): void
}

/** The requests of one set of rules: leases on hand, requests waiting, the one call in flight. */
interface Pool {
  key: string
  rules: readonly LimitRule[]
  leases: Lease[]
  waiting: Waiter[]
  busy: boolean
  /** Slots to ask ahead in the next call: doubles when a lease runs out in time, shrinks to what was used. */
  extra: number
  cap: number
}

/** The most requests one call admits at once: bounds the script's arguments. */
const MAX_BATCH = 500

export interface RequestSlots {
  /** Admits a request under `rules` (which limit requests alone), keyed by `key` (same key, same rules). */
  acquire(rules: readonly LimitRule[], key: string): Decision | Promise<Decision>
  /** Waits for the calls in flight, then gives back every slot on hand and stops the timers. */
  close(): Promise<void>
}

/**
 * Checks of requests-only limits against a remote store, batched and prefetched, still exact.
 *
 * Requests that arrive while a check is in flight wait for it and are checked together by the next call: one
 * round trip admits a burst. Each call also asks for a few slots ahead, stamped `aheadMs` in the future,
 * which the next requests take here without a round trip; when half of them are gone the next call is sent in
 * the background, so under steady traffic the check waits on nothing. A slot is used only until `aheadMs`
 * after its call was sent, so its request is admitted no later than its stamp: the slot stays in the window a
 * full window after its request, and no window ever holds more than the limit. The cost is held slots:
 * unused ones are given back when they expire, and the store grants them only while twice as much room is
 * left after the call's own (per call: several instances can together hold more), so near the limit requests
 * are checked by the store itself. A call that fails here (a timeout) may still run there: its slots are given
 * back, behind it on the same connection.
 */
export function requestSlots(options: RequestSlotsOptions): RequestSlots {
  const { grant, giveBack } = options
  const { aheadMs, maxExtra, clock } = aheadSettings(options)
  const pools = new Map<string, Pool>()
  const inFlight = new Set<Promise<void>>()

  const poolOf = (rules: readonly LimitRule[], key: string): Pool => {
    let pool = pools.get(key)
    if (pool === undefined) {
      let smallest = Number.POSITIVE_INFINITY
      for (const rule of rules) smallest = Math.min(smallest, rule.rpm ?? 0)
      const cap = Math.min(maxExtra, aheadCap(smallest))
      pool = { key, rules, leases: [], waiting: [], busy: false, extra: Math.min(cap, 1), cap }
      pools.set(key, pool)
    }
    return pool
  }

  /** A slot from a lease on hand, or undefined. */
  const take = (pool: Pool): Decision | undefined => {
    const leases = pool.leases
    if (leases.length === 0) return undefined
    const t = clock()
    for (let i = 0; i < leases.length; i++) {
      const lease = leases[i]!
      if (t >= lease.until) continue
      const slot = lease.next++
      if (lease.next > lease.last) {
        // Every slot used in time: ask for more next time.
        clearTimeout(lease.timer)
        leases.splice(i, 1)
        pool.extra = Math.min(pool.cap, Math.max(1, pool.extra * 2))
      }
      return {
        allowed: true,
        requests: {
          limit: lease.limit,
          remaining: lease.remaining + lease.last - slot,
          resetMs: lease.resetMs,
        },
      }
    }
    return undefined
  }

  const spare = (pool: Pool): number => {
    let n = 0
    for (const lease of pool.leases) n += lease.last - lease.next + 1
    return n
  }

  const send = (pool: Pool) => {
    pool.busy = true
    const waiters = Math.min(pool.waiting.length, MAX_BATCH)
    const id = crypto.randomUUID()
    const until = clock() + aheadMs
    let reply: Promise<SlotGrant>
    try {
      reply = grant(pool.rules, id, waiters, pool.extra, aheadMs)
    } catch (err) {
      reply = Promise.reject(err)
    }
    const extra = pool.extra
    const done = reply.then(
      (granted) => answered(pool, id, until, waiters, granted),
      (err) => {
        // The call may still run in the store after timing out here: take back what it would record (sent
        // after it on the same connection, so it lands after it). Its waiters get the error, so are not
        // admitted by those slots anyway. One waiter and no extra is recorded under `id` alone: left as is.
        if (!(waiters === 1 && extra === 0)) giveBack(pool.rules, id, 1, waiters + extra)
        failed(pool, err)
      },
    )
    inFlight.add(done)
    done.finally(() => inFlight.delete(done))
  }

  const answered = (pool: Pool, id: string, until: number, waiters: number, granted: SlotGrant) => {
    pool.busy = false
    const { decision } = granted
    const waiting = pool.waiting
    if (!decision.allowed) {
      // Not one slot: the requests counted in this call are denied by it.
      for (const waiter of waiting.splice(0, waiters)) waiter.resolve(decision)
    } else {
      const { limit, remaining, resetMs } = decision.requests!
      const total = granted.now + granted.ahead
      const admitted = waiting.splice(0, granted.now)
      for (let j = 1; j <= admitted.length; j++) {
        admitted[j - 1]!.resolve({
          allowed: true,
          requests: { limit, remaining: remaining + total - j, resetMs },
        })
      }
      if (granted.ahead > 0) {
        const lease: Lease = {
          id,
          next: granted.now + 1,
          last: total,
          until,
          limit,
          remaining,
          resetMs,
          timer: setTimeout(() => expire(pool, lease), Math.max(0, until - clock())),
        }
        unref(lease.timer)
        pool.leases.push(lease)
      }
    }
    // Later arrivals take what was granted ahead; whoever is still waiting goes in the next call.
    while (waiting.length > 0) {
      const decided = take(pool)
      if (decided === undefined) break
      waiting.shift()!.resolve(decided)
    }
    if (waiting.length > 0) send(pool)
    else forgetIfIdle(pool)
  }

  const failed = (pool: Pool, err: unknown) => {
    pool.busy = false
    // The store just failed: every request waiting now gets that answer (the limiter fails open or closed).
    for (const waiter of pool.waiting.splice(0)) waiter.reject(err)
    forgetIfIdle(pool)
  }

  /** A lease whose slots may no longer be used: give back the rest, ask for about what was used. */
  const expire = (pool: Pool, lease: Lease) => {
    const i = pool.leases.indexOf(lease)
    if (i < 0) return
    pool.leases.splice(i, 1)
    if (lease.next <= lease.last) giveBack(pool.rules, lease.id, lease.next, lease.last)
    pool.extra = Math.min(pool.cap, Math.max(1, pool.extra - (lease.last - lease.next + 1)))
    forgetIfIdle(pool)
  }

  const forgetIfIdle = (pool: Pool) => {
    if (pool.leases.length === 0 && !pool.busy && pool.waiting.length === 0) pools.delete(pool.key)
  }

  return {
    acquire(rules, key) {
      const pool = poolOf(rules, key)
      if (pool.waiting.length === 0) {
        const decided = take(pool)
        if (decided !== undefined) {
          if (!pool.busy && pool.extra > 0 && spare(pool) * 2 <= pool.extra) send(pool)
          return decided
        }
      }
      return new Promise<Decision>((resolve, reject) => {
        pool.waiting.push({ resolve, reject })
        if (!pool.busy) send(pool)
      })
    },
    async close() {
      while (inFlight.size > 0) await Promise.all(inFlight)
      for (const pool of pools.values()) {
        for (const lease of [...pool.leases]) {
          clearTimeout(lease.timer)
          expire(pool, lease)
        }
      }
      pools.clear()
    },
  }
}
