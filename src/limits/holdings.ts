import { type AheadOptions, aheadCap, aheadSettings, unref } from './ahead.js'
import type { Decision, LimitRule } from './store.js'

/** A holding asked of the store alongside a check: request slots, tokens and concurrency members. */
export interface HoldingAsk {
  id: string
  /** Request slots `id:1`…, stamped `aheadMs` ahead (0 when no rule limits requests). */
  slots: number
  /** One token reservation `id:tokens`, stamped `aheadMs` ahead (0 when no rule limits tokens). */
  tokens: number
  /** Concurrency leases `id:1`… (0 when no rule limits concurrency). */
  members: number
  aheadMs: number
}

export interface HoldingsOptions extends AheadOptions {
  /**
   * The store's atomic check of one request (none when `alone`), which also records `ask` if every rule has
   * room for twice it afterwards. Its decision's remaining counts the holding as used.
   */
  check(
    rules: readonly LimitRule[],
    id: string,
    tokens: number,
    ask: HoldingAsk | undefined,
    alone: boolean,
  ): Promise<{ decision: Decision; held: boolean }>
  /** Removes from the window what a holding gives back: its slots `from`…`to` (none if from > to) and members. */
  giveBack(
    rules: readonly LimitRule[],
    id: string,
    from: number,
    to: number,
    members: readonly number[],
  ): void
  /**
   * Re-records a holding's token reservation at `to`: whichever of `id:from[0]`, `id:from[1]`… is in the window
   * becomes `id:to`. In order, after what came before; resolves once recorded, rejects if that is unknown.
   */
  retoken(rules: readonly LimitRule[], id: string, from: readonly number[], to: number): Promise<void>
}

/** What a holding left on hand. Tokens may run below zero when requests used more than they reserved. */
interface Holding {
  id: string
  until: number
  timer: ReturnType<typeof setTimeout>
  expired: boolean
  /** The next slot to hand out, and the last (no slots: 1 and 0). */
  next: number
  last: number
  tokens: number
  /** The tokens its reservation in the window stands at, once the re-records sent have landed. */
  block: number
  /**
   * Other tokens the reservation may stand at: those a failed re-record was sent from (it may not have run),
   * each with the number of that re-record. A later one that lands finds the reservation under any of them.
   */
  maybe: { tokens: number; sent: number }[]
  /** Re-records sent so far. */
  sent: number
  free: number[]
  requests: { limit: number; remaining: number } | undefined
  tokenState: { limit: number; remaining: number } | undefined
  resetMs: number
}

/** A request admitted from a holding: what it took, to give back when it ends. */
interface Ticket {
  pool: Pool
  holding: Holding
  member: number
  tokens: number
  /** Settled already: a second settle changes nothing (the store contract). */
  settled: boolean
}

interface Waiter {
  id: string
  tokens: number
  resolve(decision: Decision | Promise<Decision>): void
  reject(err: unknown): void
}

interface Pool {
  key: string
  rules: readonly LimitRule[]
  limitsRequests: boolean
  limitsTokens: boolean
  limitsConcurrency: boolean
  holdings: Holding[]
  waiting: Waiter[]
  /** A call that may bring a holding is in flight: requests that find nothing on hand wait for it. */
  busy: boolean
  /** Requests one holding should serve: doubles when one runs out in time, shrinks to what was used. */
  extra: number
  cap: number
  /** Tokens of the largest holding the rules allow, and members. */
  tokenCap: number
  memberCap: number
  /** The last request's reservation: what a background holding is sized by. */
  lastTokens: number
}

export interface Holdings {
  /** Admits a request under `rules`, keyed by `key` (same key, same rules), from a holding when one has room. */
  acquire(rules: readonly LimitRule[], key: string, id: string, tokens: number): Decision | Promise<Decision>
  /** Whether a decision's ticket is one of these holdings'. */
  owns(ticket: unknown): boolean
  /**
   * Ends a request admitted from a holding: here while the holding lives, in the store after. Returns the
   * store's re-record when one was sent (it rejects if that failed), else undefined.
   */
  settle(ticket: unknown, used: number | undefined): Promise<void> | undefined
  /** Waits for the calls in flight, then gives back what is on hand. */
  close(): Promise<void>
}

/**
 * Checks of rules with `tpm` or `concurrent` against a remote store, mostly without a round trip, still exact.
 *
 * A request's own check also asks for a holding: request slots and a token reservation stamped `aheadMs` in the
 * future, and concurrency leases. The next requests take from it here: a slot, their reservation, a lease.
 * While it lives (`aheadMs` from its call), a request that ends gives its lease back to it and its unused
 * tokens too; one that used more than it reserved has the holding's reservation raised in the store at once.
 * Then what is left is given back and the reservation re-recorded at what was used; requests still running
 * settle theirs in the store. Requests are admitted before the stamps, so each is in the window a whole window
 * after it; no more run at once than leases recorded. Requests that find nothing on hand wait for a call in
 * flight that may bring a holding; those it cannot serve are then checked one by one, never behind a new ask,
 * so a holding is never granted behind checks already sent, to wait unused through a burst. The store grants
 * a holding only while twice its size is free after the request (per call: several instances can together hold
 * more), so near a limit requests are checked by the store. A call that fails here (a timeout) may still run
 * there: what it asked for is given back, behind it on the same connection.
 */
export function holdings(options: HoldingsOptions): Holdings {
  const { check, giveBack, retoken } = options
  const { aheadMs, maxExtra, clock } = aheadSettings(options)
  const pools = new Map<string, Pool>()
  const inFlight = new Set<Promise<void>>()
  const tickets = new WeakSet<Ticket>()

  const poolOf = (rules: readonly LimitRule[], key: string): Pool => {
    let pool = pools.get(key)
    if (pool !== undefined) return pool
    const smallest = (of: (r: LimitRule) => number | undefined) => {
      let min = Number.POSITIVE_INFINITY
      for (const rule of rules) min = Math.min(min, of(rule) ?? Number.POSITIVE_INFINITY)
      return min === Number.POSITIVE_INFINITY ? undefined : aheadCap(min)
    }
    const rpmCap = smallest((r) => r.rpm)
    const tokenCap = smallest((r) => r.tpm)
    const memberCap = smallest((r) => r.concurrent)
    const cap = Math.min(maxExtra, rpmCap ?? maxExtra, memberCap === 0 ? 0 : maxExtra)
    pool = {
      key,
      rules,
      limitsRequests: rpmCap !== undefined,
      limitsTokens: tokenCap !== undefined,
      limitsConcurrency: memberCap !== undefined,
      holdings: [],
      waiting: [],
      busy: false,
      extra: Math.min(cap, 1),
      cap,
      tokenCap: tokenCap ?? 0,
      memberCap: memberCap ?? 0,
      lastTokens: 0,
    }
    pools.set(key, pool)
    return pool
  }

  /** The holding to ask for, sized for `pool.extra` requests like this one; undefined if none would serve. */
  const askFor = (pool: Pool, tokens: number): HoldingAsk | undefined => {
    if (pool.extra < 1) return undefined
    const ask = {
      id: crypto.randomUUID(),
      slots: pool.limitsRequests ? pool.extra : 0,
      tokens: pool.limitsTokens ? Math.min(pool.extra * Math.max(1, tokens), pool.tokenCap) : 0,
      members: pool.limitsConcurrency ? Math.min(pool.extra, pool.memberCap) : 0,
      aheadMs,
    }
    if (pool.limitsTokens && ask.tokens < Math.max(1, tokens)) return undefined
    return ask
  }

  /** A request's share of a holding on hand, or undefined. */
  const take = (pool: Pool, tokens: number): Decision | undefined => {
    const t = clock()
    for (const h of pool.holdings) {
      if (t >= h.until) continue
      if (pool.limitsRequests && h.next > h.last) continue
      if (pool.limitsTokens && h.tokens < tokens) continue
      if (pool.limitsConcurrency && h.free.length === 0) continue
      if (pool.limitsRequests) h.next++
      if (pool.limitsTokens) h.tokens -= tokens
      const member = pool.limitsConcurrency ? h.free.pop()! : 0
      if (
        (pool.limitsRequests && h.next > h.last) ||
        (pool.limitsTokens && h.tokens < tokens) ||
        (pool.limitsConcurrency && h.free.length === 0)
      ) {
        pool.extra = Math.min(pool.cap, Math.max(1, pool.extra * 2)) // used up in time: bigger next time
      }
      const ticket: Ticket = { pool, holding: h, member, tokens, settled: false }
      tickets.add(ticket)
      const decision: Decision = { allowed: true, ticket }
      if (h.requests) {
        const remaining = h.requests.remaining + h.last - h.next + 1
        decision.requests = { limit: h.requests.limit, remaining, resetMs: h.resetMs }
      }
      if (h.tokenState) {
        const remaining = h.tokenState.remaining + Math.max(0, h.tokens)
        decision.tokens = { limit: h.tokenState.limit, remaining, resetMs: h.resetMs }
      }
      return decision
    }
    return undefined
  }

  /** Whether the holdings on hand are half gone (or half their time): time to ask for the next. */
  const runningLow = (pool: Pool): boolean => {
    if (pool.holdings.length !== 1) return pool.holdings.length === 0
    const h = pool.holdings[0]!
    if (clock() >= h.until - aheadMs / 2) return true
    if (pool.limitsRequests && (h.last - h.next + 1) * 2 <= pool.extra) return true
    return pool.limitsTokens && h.tokens * 2 <= pool.extra * pool.lastTokens
  }

  /** One request's check in the store, asking for a holding (when `ask`), or the holding alone. */
  const send = (pool: Pool, waiter: Waiter | undefined, ask: HoldingAsk | undefined) => {
    if (ask !== undefined) pool.busy = true
    const until = clock() + aheadMs
    let reply: Promise<{ decision: Decision; held: boolean }>
    try {
      reply = check(pool.rules, waiter?.id ?? '', waiter?.tokens ?? 0, ask, waiter === undefined)
    } catch (err) {
      reply = Promise.reject(err)
    }
    const done = reply.then(
      ({ decision, held }) => {
        if (held && ask !== undefined) hold(pool, ask, until, decision)
        waiter?.resolve(decision)
        if (ask !== undefined) landed(pool)
        else forgetIfIdle(pool)
      },
      (err) => {
        waiter?.reject(err)
        if (ask === undefined) return forgetIfIdle(pool)
        // The call may still run in the store after timing out here: take back what it would record ahead
        // (sent after it on the same connection, so it lands after it; a no-op if it never ran).
        const members = Array.from({ length: ask.members }, (_, j) => j + 1)
        giveBack(pool.rules, ask.id, 1, ask.slots, members)
        if (ask.tokens > 0) retoken(pool.rules, ask.id, [ask.tokens], 0).catch(() => {})
        pool.busy = false
        // The store just failed: the requests waiting on this call get that answer.
        for (const w of pool.waiting.splice(0)) w.reject(err)
        forgetIfIdle(pool)
      },
    )
    inFlight.add(done)
    done.finally(() => inFlight.delete(done))
  }

  /** Keeps what a call recorded ahead; its decision's remaining then counts the holding as still free. */
  const hold = (pool: Pool, ask: HoldingAsk, until: number, decision: Decision) => {
    const h: Holding = {
      id: ask.id,
      until,
      timer: setTimeout(() => expire(pool, h), Math.max(0, until - clock())),
      expired: false,
      next: 1,
      last: ask.slots,
      tokens: ask.tokens,
      block: ask.tokens,
      maybe: [],
      sent: 0,
      free: Array.from({ length: ask.members }, (_, j) => ask.members - j),
      requests: decision.requests && {
        limit: decision.requests.limit,
        remaining: decision.requests.remaining,
      },
      tokenState: decision.tokens && { limit: decision.tokens.limit, remaining: decision.tokens.remaining },
      resetMs: decision.requests?.resetMs ?? decision.tokens?.resetMs ?? 0,
    }
    unref(h.timer)
    pool.holdings.push(h)
    if (decision.requests) decision.requests.remaining += ask.slots
    if (decision.tokens) decision.tokens.remaining += ask.tokens
  }

  /** A call that may have brought a holding is back: serve those waiting, check the rest one by one. */
  const landed = (pool: Pool) => {
    pool.busy = false
    const waiting = pool.waiting.splice(0)
    for (const w of waiting) {
      const decided = take(pool, w.tokens)
      if (decided !== undefined) w.resolve(decided)
      else send(pool, w, undefined)
    }
    forgetIfIdle(pool)
  }

  /** A holding whose time is up: give back what is left; requests still running settle in the store. */
  const expire = (pool: Pool, h: Holding) => {
    const i = pool.holdings.indexOf(h)
    if (i < 0) return
    pool.holdings.splice(i, 1)
    h.expired = true
    const unusedSlots = pool.limitsRequests ? h.last - h.next + 1 : 0
    if (unusedSlots > 0 || h.free.length > 0) giveBack(pool.rules, h.id, h.next, h.last, h.free)
    h.free = []
    if (pool.limitsTokens && h.tokens !== 0) {
      rerecord(pool, h, h.block - h.tokens)
      h.tokens = 0
    }
    if (unusedSlots > 0) pool.extra = Math.min(pool.cap, Math.max(1, pool.extra - unusedSlots))
    forgetIfIdle(pool)
  }

  /**
   * Re-records a holding's reservation at `to` tokens. A re-record that fails may not have run, so the next one
   * looks for the reservation under every amount it may stand at: a lost one is made good by the next. Calls on
   * one connection land in order, so one that lands has seen every earlier one land or fail for good.
   */
  const rerecord = (pool: Pool, h: Holding, to: number): Promise<void> => {
    const from = [h.block]
    for (const m of h.maybe) if (!from.includes(m.tokens)) from.push(m.tokens)
    h.block = to
    const sent = ++h.sent
    const done = retoken(pool.rules, h.id, from, to)
    done.then(
      () => {
        h.maybe = h.maybe.filter((m) => m.sent > sent)
      },
      () => {
        for (const tokens of from) {
          const known = h.maybe.find((m) => m.tokens === tokens)
          if (known === undefined) h.maybe.push({ tokens, sent })
          else known.sent = Math.max(known.sent, sent)
        }
      },
    )
    return done
  }

  const forgetIfIdle = (pool: Pool) => {
    if (pool.holdings.length === 0 && !pool.busy && pool.waiting.length === 0) pools.delete(pool.key)
  }

  return {
    acquire(rules, key, id, tokens) {
      const pool = poolOf(rules, key)
      pool.lastTokens = tokens
      if (pool.waiting.length === 0) {
        const decided = take(pool, tokens)
        if (decided !== undefined) {
          if (!pool.busy && runningLow(pool)) {
            const ask = askFor(pool, tokens)
            if (ask !== undefined) send(pool, undefined, ask)
          }
          return decided
        }
      }
      return new Promise<Decision>((resolve, reject) => {
        const waiter: Waiter = { id, tokens, resolve, reject }
        if (pool.busy) pool.waiting.push(waiter)
        else send(pool, waiter, askFor(pool, tokens))
      })
    },
    owns(ticket) {
      return typeof ticket === 'object' && ticket !== null && tickets.has(ticket as Ticket)
    },
    settle(ticket, used) {
      const t = ticket as Ticket
      if (t.settled) return undefined
      t.settled = true
      const { pool, holding: h, member, tokens } = t
      const change = used === undefined || !pool.limitsTokens ? 0 : tokens - used
      if (!h.expired) {
        if (member > 0) h.free.push(member)
        h.tokens += change
        if (h.tokens >= 0) return undefined
        // It used more than it reserved and the holding cannot cover it: the store must count it now.
        const over = -h.tokens
        h.tokens = 0
        return rerecord(pool, h, h.block + over)
      }
      if (member > 0) giveBack(pool.rules, h.id, 1, 0, [member])
      return change === 0 ? undefined : rerecord(pool, h, h.block - change)
    },
    async close() {
      while (inFlight.size > 0) await Promise.all(inFlight)
      for (const pool of pools.values()) {
        for (const h of [...pool.holdings]) {
          clearTimeout(h.timer)
          expire(pool, h)
        }
      }
      pools.clear()
    },
  }
}
