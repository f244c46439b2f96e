import { holdings } from '../../limits/holdings.js'
import { CONCURRENT_RETRY_MS, LEASE_MS, wholeTokens } from '../../limits/memory.js'
import { requestSlots } from '../../limits/request-slots.js'
import { type Decision, type LimitRule, type LimitStore, WINDOW_MS } from '../../limits/store.js'
import { type RedisStoreOptions, redisConnection } from './redis-connection.js'

export interface RedisLimitsOptions extends RedisStoreOptions {
  /** Namespace of every key this store writes (default `meridian:rl:`). */
  prefix?: string
  /** A command without a reply by then rejects (default 250 ms: long enough for a burst queued in Redis). */
  timeoutMs?: number
  /** How long a concurrency lease holds a slot if its request is never settled (default 10 minutes). */
  leaseMs?: number
  /** The window of `rpm` and `tpm` (default `WINDOW_MS`); shorter only in tests. */
  windowMs?: number
  /**
   * How long a request slot taken ahead may wait here for its request (default 250 ms); 0 takes none ahead,
   * so every request waits on a check of its own (batched with those in flight). See `requestSlots`.
   */
  aheadMs?: number
}

/** A Redis limit store, and a way to wait for its first connection. */
export type RedisLimits = LimitStore & {
  /** Resolves once connected; rejects with the first connection error, or if the store is closed. */
  ready(): Promise<void>
  /** One round trip (PING), for `GET /ready`. */
  ping(): Promise<void>
}

// Per scope, four keys `prefix scope suffix` (no suffix ends another, so two scopes never share a key):
//   :r   ZSET of admitted request ids, scored by their time (ms)
//   :t   ZSET of `id:tokens` reservations, scored by their time
//   :ts  the running sum of the tokens in :t (kept in step by the scripts; rebuilt from :t if lost)
//   :c   ZSET of lease ids, scored by their expiry
// Time is Redis's own (TIME, in ms), so instances whose clocks disagree still share one window. An entry
// is in the window while its time is after `now - window`. Every key written keeps a TTL of one to two
// windows (leases for :c) beyond its newest entry, so idle scopes vanish by themselves.
// Redis Cluster: all the keys of one call would have to share a hash slot (e.g. a `{tenant}` hash tag in
// every scope); a single node or a replicated primary needs nothing.

/**
 * Every script's start: Redis's clock in ms, the window (ARGV[1]), and the oldest time still in it. The clock is
 * floored to the ms, so whatever is stamped `ahead` for requests yet to come is stamped 1 ms further: a request
 * taken locally just before `ahead` has passed is still within its stamp.
 */
const CLOCK = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[1])
local cutoff = now - window
`

const LIB = `${CLOCK}
local function tokensOf(member) return tonumber(string.match(member, '(%d+)$')) end

-- Keeps a key alive at least \`ms\` more. It is refreshed to twice that only when it runs low, so most calls
-- write no PEXPIRE (a write costs several reads, and is replicated). Never shortens a TTL, so instances
-- configured with another lease cannot cut each other's leases short.
local function keep(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, 2 * ms) end
end

-- The running sum of a token log. The log is the truth: a sum that is missing (evicted, say) or that
-- outlived its log is rebuilt from it.
local function sumOf(t, ts)
  local s = redis.call('GET', ts)
  if s and redis.call('EXISTS', t) == 1 then return tonumber(s) end
  local members = redis.call('ZRANGE', t, 0, -1)
  if #members == 0 then
    if s then redis.call('DEL', ts) end
    return 0
  end
  local sum = 0
  for _, m in ipairs(members) do sum = sum + tokensOf(m) end
  local ttl = redis.call('PTTL', t)
  if ttl < 0 then ttl = 2 * window end
  redis.call('SET', ts, sum, 'PX', ttl)
  return sum
end
`

/**
 * KEYS: per rule its scope's :r :t :ts :c. ARGV: window, lease, id, tokens, then per rule rpm, tpm,
 * concurrent ('' when absent), then the holding asked for: its id ('' for none), slots, tokens, members,
 * ahead (ms), and alone ('1': no request, the holding only). Checks every rule, records the request in all
 * only if all pass. Then, if it was admitted (or alone) and every rule has room for twice the holding after
 * it, records the holding for requests yet to come (see `holdings`): `slots` request slots `hold:1`… and one
 * token reservation `hold:tokens`, both stamped `ahead` ms in the future, and `members` concurrency leases
 * `hold:1`… that expire a whole lease after the holding does. Returns { allowed, denied rule (1-based, 0 if none), dimension (1 requests, 2 tokens,
 * 3 concurrent), retry after (-1 never), then limit, remaining, reset of requests and of tokens (limit -1 when
 * no rule has the dimension), remaining counted after the holding, and 1 if the holding was recorded }.
 */
const ACQUIRE = `${LIB}
local lease = tonumber(ARGV[2])
local id = ARGV[3]
local tokens = tonumber(ARGV[4])
local n = #KEYS / 4
local h = 4 + n * 3
local holdId, holdSlots, holdTokens, holdMembers = ARGV[h + 1], tonumber(ARGV[h + 2]), tonumber(ARGV[h + 3]), tonumber(ARGV[h + 4])
local ahead, alone = tonumber(ARGV[h + 5]), ARGV[h + 6] == '1'
-- What the request itself takes: nothing when the call is for a holding alone.
local self, selfTokens = 1, tokens
if alone then self, selfTokens = 0, 0 end

-- Drops the reservations that left the window, keeping the sum in step: amortized O(1) per entry.
local function expireTokens(t, ts)
  local gone = redis.call('ZRANGEBYSCORE', t, '-inf', cutoff)
  if #gone == 0 then return sumOf(t, ts) end
  redis.call('ZREMRANGEBYSCORE', t, '-inf', cutoff)
  if redis.call('EXISTS', ts) == 0 then return sumOf(t, ts) end
  local freed = 0
  for _, m in ipairs(gone) do freed = freed + tokensOf(m) end
  return redis.call('DECRBY', ts, freed)
end

-- When enough of the oldest reservations will have left to free \`need\` tokens: O(n), on denial only.
local function tokenRetry(t, need)
  local freed, from = 0, 0
  while true do
    local batch = redis.call('ZRANGE', t, from, from + 99, 'WITHSCORES')
    if #batch == 0 then return window end
    for j = 1, #batch, 2 do
      freed = freed + tokensOf(batch[j])
      if freed >= need then return tonumber(batch[j + 1]) + window - now end
    end
    from = from + 100
  end
end

local function resetOf(key)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then return tonumber(newest[2]) + window - now end
  return 0
end

local counts, sums, leases = {}, {}, {}
local deniedAt, dimension, retry = 0, 0, -1
for i = 1, n do
  local k, a = (i - 1) * 4, 4 + (i - 1) * 3
  local rpm, tpm, concurrent = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if rpm then
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 1], '-inf', cutoff)
    counts[i] = redis.call('ZCARD', KEYS[k + 1])
    if not alone and deniedAt == 0 and counts[i] >= rpm then
      deniedAt, dimension = i, 1
      if rpm > 0 then
        local oldest = redis.call('ZRANGE', KEYS[k + 1], 0, 0, 'WITHSCORES')
        retry = tonumber(oldest[2]) + window - now
      end
    end
  end
  if tpm then
    sums[i] = expireTokens(KEYS[k + 2], KEYS[k + 3])
    if not alone and deniedAt == 0 then
      if tokens > tpm then
        deniedAt, dimension = i, 2
      elseif sums[i] + tokens > tpm then
        deniedAt, dimension, retry = i, 2, tokenRetry(KEYS[k + 2], sums[i] + tokens - tpm)
      end
    end
  end
  if concurrent then
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 4], '-inf', now)
    leases[i] = redis.call('ZCARD', KEYS[k + 4])
    if not alone and deniedAt == 0 and leases[i] >= concurrent then
      deniedAt, dimension = i, 3
      if concurrent > 0 then retry = ${CONCURRENT_RETRY_MS} end
    end
  end
end

local allowed = deniedAt == 0
if allowed and not alone then
  local done = {}
  for i = 1, n do
    local k, a = (i - 1) * 4, 4 + (i - 1) * 3
    if ARGV[a + 1] ~= '' and not done[KEYS[k + 1]] then
      done[KEYS[k + 1]] = true
      redis.call('ZADD', KEYS[k + 1], now, id)
      keep(KEYS[k + 1], window)
    end
    if ARGV[a + 2] ~= '' and not done[KEYS[k + 2]] then
      done[KEYS[k + 2]] = true
      redis.call('ZADD', KEYS[k + 2], now, id .. ':' .. ARGV[4])
      redis.call('INCRBY', KEYS[k + 3], ARGV[4])
      keep(KEYS[k + 2], window)
      keep(KEYS[k + 3], window)
    end
    if ARGV[a + 3] ~= '' and not done[KEYS[k + 4]] then
      done[KEYS[k + 4]] = true
      redis.call('ZADD', KEYS[k + 4], now + lease, id)
      keep(KEYS[k + 4], lease)
    end
  end
end

-- The holding: only with twice its size still free in every rule after the request, so near a limit every
-- request is checked here and none waits unused in an instance.
local held = 0
if allowed and holdId ~= '' then
  held = 1
  for i = 1, n do
    local a = 4 + (i - 1) * 3
    local rpm, tpm, concurrent = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    if rpm and rpm - counts[i] - self < 2 * holdSlots then held = 0 end
    if tpm and tpm - sums[i] - selfTokens < 2 * holdTokens then held = 0 end
    if concurrent and concurrent - leases[i] - self < 2 * holdMembers then held = 0 end
  end
end
if held == 1 then
  local slots, members = {}, {}
  for j = 1, holdSlots do
    slots[2 * j - 1], slots[2 * j] = now + ahead + 1, holdId .. ':' .. j
  end
  for j = 1, holdMembers do
    members[2 * j - 1], members[2 * j] = now + ahead + lease, holdId .. ':' .. j
  end
  local done = {}
  for i = 1, n do
    local k, a = (i - 1) * 4, 4 + (i - 1) * 3
    if ARGV[a + 1] ~= '' and holdSlots > 0 and not done[KEYS[k + 1]] then
      done[KEYS[k + 1]] = true
      redis.call('ZADD', KEYS[k + 1], unpack(slots))
      keep(KEYS[k + 1], window + ahead + 1)
    end
    if ARGV[a + 2] ~= '' and holdTokens > 0 and not done[KEYS[k + 2]] then
      done[KEYS[k + 2]] = true
      redis.call('ZADD', KEYS[k + 2], now + ahead + 1, holdId .. ':' .. holdTokens)
      redis.call('INCRBY', KEYS[k + 3], holdTokens)
      keep(KEYS[k + 2], window + ahead + 1)
      keep(KEYS[k + 3], window + ahead + 1)
    end
    if ARGV[a + 3] ~= '' and holdMembers > 0 and not done[KEYS[k + 4]] then
      done[KEYS[k + 4]] = true
      redis.call('ZADD', KEYS[k + 4], unpack(members))
      keep(KEYS[k + 4], ahead + lease)
    end
  end
end

-- Headers: the fewest remaining per dimension, after recording if allowed, as-is if not.
local recorded = allowed and not alone
local rl, rr, rs, tl, tr, trs = -1, 0, 0, -1, 0, 0
for i = 1, n do
  local k, a = (i - 1) * 4, 4 + (i - 1) * 3
  if counts[i] then
    local rpm = tonumber(ARGV[a + 1])
    local used = counts[i]
    if recorded then used = used + 1 end
    if held == 1 then used = used + holdSlots end
    local remaining = math.max(0, rpm - used)
    if rl < 0 or remaining < rr then
      rl, rr, rs = rpm, remaining, window
      if not allowed then rs = resetOf(KEYS[k + 1]) end
    end
  end
  if sums[i] then
    local tpm = tonumber(ARGV[a + 2])
    local used = sums[i]
    if recorded then used = used + tokens end
    if held == 1 then used = used + holdTokens end
    local remaining = math.max(0, tpm - used)
    if tl < 0 or remaining < tr then
      tl, tr, trs = tpm, remaining, window
      if not allowed then trs = resetOf(KEYS[k + 2]) end
    end
  end
end
if allowed then return { 1, 0, 0, -1, rl, rr, rs, tl, tr, trs, held } end
return { 0, deniedAt, dimension, retry, rl, rr, rs, tl, tr, trs, 0 }
`

/**
 * ACQUIRE for rules that limit requests alone, the common case, in the fewest calls, and for many requests at
 * once. KEYS per rule its :r; ARGV window, id, waiters, extra, ahead, then per rule its rpm. Admits if at least
 * one slot fits in every rule, then records up to `waiters` slots stamped now and, while twice as much room is
 * left, up to `extra` more stamped `ahead` ms in the future for requests yet to come (see `requestSlots`).
 * Members are the id itself for one waiter and no extra, else `id:1`, `id:2`, … (now first, then ahead). The
 * reply is ACQUIRE's, remaining counted after every slot recorded, plus the slots recorded now and ahead.
 * (Measured here, rotated with other calls 1 ms apart: ~50 µs less per check than ACQUIRE, whose extra code
 * runs cold after every pause.)
 */
const REQUESTS = `${CLOCK}
local id, waiters, extra, ahead = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local n = #KEYS

local counts = {}
local deniedAt, retry, room = 0, -1, nil
for i = 1, n do
  local rpm = tonumber(ARGV[5 + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', cutoff)
  counts[i] = redis.call('ZCARD', KEYS[i])
  if deniedAt == 0 and counts[i] >= rpm then
    deniedAt = i
    if rpm > 0 then retry = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2]) + window - now end
  end
  if room == nil or rpm - counts[i] < room then room = rpm - counts[i] end
end

local allowed = deniedAt == 0
local nowSlots, aheadSlots = 0, 0
if allowed then
  nowSlots = math.min(waiters, room)
  aheadSlots = math.max(0, math.min(extra, math.floor((room - nowSlots) / 2)))
  local slots = {}
  if waiters == 1 and extra == 0 then
    slots = { now, id }
  else
    for j = 1, nowSlots + aheadSlots do
      slots[2 * j - 1] = j > nowSlots and now + ahead + 1 or now
      slots[2 * j] = id .. ':' .. j
    end
  end
  local done = {}
  for i = 1, n do
    if #slots > 0 and not done[KEYS[i]] then
      done[KEYS[i]] = true
      redis.call('ZADD', KEYS[i], unpack(slots))
      if redis.call('PTTL', KEYS[i]) < window + ahead + 1 then redis.call('PEXPIRE', KEYS[i], 2 * window + ahead + 1) end
    end
  end
end

local rl, rr, rs = -1, 0, 0
for i = 1, n do
  local rpm = tonumber(ARGV[5 + i])
  local used = counts[i]
  if allowed then used = used + nowSlots + aheadSlots end
  local remaining = math.max(0, rpm - used)
  if rl < 0 or remaining < rr then
    rl, rr, rs = rpm, remaining, window
    if not allowed then
      local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
      rs = newest[2] and tonumber(newest[2]) + window - now or 0
    end
  end
end
if allowed then return { 1, 0, 0, -1, rl, rr, rs, -1, 0, 0, nowSlots, aheadSlots } end
return { 0, deniedAt, 1, retry, rl, rr, rs, -1, 0, 0, 0, 0 }
`

/**
 * KEYS: per rule its scope's :t :ts :c. ARGV: window, id, reserved, used ('' keeps the reservation), then any
 * other amounts the reservation may stand at (a holding's, after a re-record that failed).
 * Releases the lease and, where the reservation is still in the window, replaces it with the tokens used.
 * Idempotent: a second settle finds neither the lease nor the `id:reserved` member.
 */
const SETTLE = `${LIB}
local id, used = ARGV[2], ARGV[4]
local olds = { ARGV[3] }
for a = 5, #ARGV do olds[#olds + 1] = ARGV[a] end
for i = 1, #KEYS, 3 do
  redis.call('ZREM', KEYS[i + 2], id)
  if used ~= '' then
    for _, reserved in ipairs(olds) do
      local old = id .. ':' .. reserved
      local time = reserved ~= used and redis.call('ZSCORE', KEYS[i], old)
      if time and tonumber(time) > cutoff then
        sumOf(KEYS[i], KEYS[i + 1])
        redis.call('ZADD', KEYS[i], time, id .. ':' .. used) -- first: the key is never emptied, so keeps its TTL
        redis.call('ZREM', KEYS[i], old)
        redis.call('INCRBY', KEYS[i + 1], tonumber(used) - tonumber(reserved))
        break
      end
    end
  end
end
`

/** The Lua of the store's scripts, for benchmarks that take them apart. */
export const LIMIT_SCRIPTS = { requests: REQUESTS, acquire: ACQUIRE, settle: SETTLE } as const

type Arg = string | number
/** The scripts' reply: ACQUIRE's ends with whether it recorded the holding; REQUESTS' with the slots recorded. */
type Reply = [number, number, number, number, number, number, number, number, number, number, number, number?]
interface Scripts {
  limitsRequests(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<Reply>
  limitsAcquire(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<Reply>
  limitsSettle(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<unknown>
}

const DIMENSIONS = ['requests', 'tokens', 'concurrent'] as const

function decode(rules: readonly LimitRule[], reply: Reply): Decision {
  const [allowed, at, dimension, retry, rl, rr, rs, tl, tr, ts] = reply
  const decision: Decision = { allowed: allowed === 1 }
  const rule = rules[at - 1]
  const dim = DIMENSIONS[dimension - 1]
  if (!decision.allowed && rule && dim)
    decision.denied = { scope: rule.scope, dimension: dim, retryAfterMs: retry < 0 ? undefined : retry }
  if (rl >= 0) decision.requests = { limit: rl, remaining: rr, resetMs: rs }
  if (tl >= 0) decision.tokens = { limit: tl, remaining: tr, resetMs: ts }
  return decision
}

const limitArg = (n: number | undefined): Arg => (n === undefined ? '' : n)

/** One rule's keys and limits, as the scripts take them. */
interface RuleArgs {
  r: string
  t: string
  ts: string
  c: string
  limits: [Arg, Arg, Arg]
  /** It limits requests alone: the REQUESTS script does. */
  requestsOnly: boolean
  /** Names its requests' slot pool: its :r and rpm (a new rpm starts a new pool). */
  slots: string
  /** Names its holdings' pool: its scope and limits (new limits start a new pool). */
  holdings: string
}

/**
 * Exact limits shared by every instance through Redis: one Lua script per acquire checks and records every
 * rule of every scope atomically (one round trip, whatever the number of scopes), and one per settle. It
 * fails fast like the Redis cache tier: no offline queue, no retried commands, a short command timeout, so
 * the caller decides at once what an outage means; the connection comes back by itself with a capped
 * backoff. A lost settle is bounded: its lease expires after `leaseMs`, its reservation with the window.
 *
 * @example
 * const limits = redisLimits({ url: 'redis://127.0.0.1:6379', onError: (e) => log.warn('limits', { e }) })
 * await limits.ready()
 * const d = await limits.acquire({ rules: [{ scope: 'key:ci-bot', rpm: 60 }], id, tokens: 900 })
 * if (d.allowed) void limits.settle({ rules, id, reserved: 900, used: 412 }) // never rejects unhandled
 */
export function redisLimits(options: RedisLimitsOptions): RedisLimits {
  const prefix = options.prefix ?? 'meridian:rl:'
  const windowMs = options.windowMs ?? WINDOW_MS
  const leaseMs = options.leaseMs ?? LEASE_MS
  const connection = redisConnection<Scripts>({
    url: options.url,
    timeoutMs: options.timeoutMs ?? 250,
    connectTimeoutMs: options.connectTimeoutMs,
    maxBackoffMs: options.maxBackoffMs,
    onError: options.onError,
    name: 'redis limit store',
    scripts: {
      limitsRequests: { lua: REQUESTS },
      limitsAcquire: { lua: ACQUIRE },
      limitsSettle: { lua: SETTLE },
    },
  })
  const { client } = connection

  // A rule's keys and limits, built once per rule object (rules live as long as their key or project record).
  const built = new WeakMap<LimitRule, RuleArgs>()
  const argsOf = (rule: LimitRule): RuleArgs => {
    let args = built.get(rule)
    if (args === undefined) {
      const base = prefix + rule.scope
      args = {
        r: `${base}:r`,
        t: `${base}:t`,
        ts: `${base}:ts`,
        c: `${base}:c`,
        limits: [limitArg(rule.rpm), limitArg(rule.tpm), limitArg(rule.concurrent)],
        requestsOnly: rule.rpm !== undefined && rule.tpm === undefined && rule.concurrent === undefined,
        slots: `${base}:r=${rule.rpm}`,
        holdings: `${base}=${rule.rpm}/${rule.tpm}/${rule.concurrent}`,
      }
      built.set(rule, args)
    }
    return args
  }

  /** Removes members from a key, best effort: called from timers, so it never throws or rejects unhandled. */
  const removeQuietly = (key: string, members: string[]) => {
    if (members.length === 0) return
    try {
      client.zrem(key, ...members).catch(() => {})
    } catch {}
  }

  /** The other checks go through here: from holdings of slots, tokens and leases, when the rules allow. */
  const held = holdings({
    aheadMs: options.aheadMs,
    check(rules, id, tokens, ask, alone) {
      const args = acquireArgs(rules, windowMs, leaseMs, id, tokens)
      if (ask === undefined) args.push('', 0, 0, 0, 0, alone ? 1 : 0)
      else args.push(ask.id, ask.slots, ask.tokens, ask.members, ask.aheadMs, alone ? 1 : 0)
      return client
        .limitsAcquire(rules.length * 4, ...args)
        .then((reply) => ({ decision: decode(rules, reply), held: reply[10] === 1 }))
    },
    // Both run from timers: they never throw (a failed re-record rejects; holdings makes it good later).
    giveBack(rules, id, from, to, members) {
      const slots = numbered(id, from, to)
      const leases = members.map((j) => `${id}:${j}`)
      for (const rule of rules) {
        if (rule.rpm !== undefined) removeQuietly(argsOf(rule).r, slots)
        if (rule.concurrent !== undefined) removeQuietly(argsOf(rule).c, leases)
      }
    },
    retoken(rules, id, from, to) {
      const keys: Arg[] = []
      for (const rule of rules) {
        if (rule.tpm === undefined) continue
        const { t, ts, c } = argsOf(rule)
        keys.push(t, ts, c)
      }
      if (keys.length === 0) return Promise.resolve()
      try {
        const args = [...keys, windowMs, id, from[0] ?? to, to, ...from.slice(1)]
        return client.limitsSettle(keys.length, ...args).then(() => {})
      } catch (err) {
        return Promise.reject(err)
      }
    },
  })

  /** Requests-only checks go through here: batched with those in flight, and with slots taken ahead. */
  const slots = requestSlots({
    aheadMs: options.aheadMs,
    grant(rules, id, waiters, extra, aheadMs) {
      const args: Arg[] = []
      for (const rule of rules) args.push(argsOf(rule).r)
      args.push(windowMs, id, waiters, extra, aheadMs)
      for (const rule of rules) args.push(rule.rpm!)
      return client.limitsRequests(rules.length, ...args).then((reply) => ({
        decision: decode(rules, reply),
        now: reply[10] ?? 0,
        ahead: reply[11] ?? 0,
      }))
    },
    giveBack(rules, id, from, to) {
      const slots = numbered(id, from, to)
      for (const rule of rules) removeQuietly(argsOf(rule).r, slots)
    },
  })

  /** ACQUIRE's keys and arguments: per rule its four keys, then window, lease, id, tokens, per rule its limits. */
  const acquireArgs = (
    rules: readonly LimitRule[],
    window: number,
    lease: number,
    id: string,
    tokens: number,
  ) => {
    const args: Arg[] = []
    for (const rule of rules) {
      const { r, t, ts, c } = argsOf(rule)
      args.push(r, t, ts, c)
    }
    args.push(window, lease, id, wholeTokens(tokens))
    for (const rule of rules) args.push(...argsOf(rule).limits)
    return args
  }

  return {
    name: 'redis',
    acquire({ rules, id, tokens }) {
      if (rules.length === 0) return { allowed: true }
      let requestsOnly = true
      for (const rule of rules) requestsOnly &&= argsOf(rule).requestsOnly
      if (requestsOnly) {
        let key = argsOf(rules[0]!).slots
        for (let i = 1; i < rules.length; i++) key += `\n${argsOf(rules[i]!).slots}`
        return slots.acquire(rules, key)
      }
      let key = argsOf(rules[0]!).holdings
      for (let i = 1; i < rules.length; i++) key += `\n${argsOf(rules[i]!).holdings}`
      return held.acquire(rules, key, id, wholeTokens(tokens))
    },
    settle({ rules, id, reserved, used, ticket }) {
      if (rules.length === 0) return
      if (held.owns(ticket)) return held.settle(ticket, used === undefined ? undefined : wholeTokens(used))
      const keys: Arg[] = []
      for (const rule of rules) {
        const { t, ts, c } = argsOf(rule)
        keys.push(t, ts, c)
      }
      const usedArg = used === undefined ? '' : wholeTokens(used)
      // Sent at once: the gateway settles in its deferred bookkeeping (`GatewayDeps.defer`), after the answer is
      // written, so the settle still reaches Redis before anything the client sends after reading that answer
      // (one connection keeps the order). A second deferral here would let a fast client's next request in first.
      let done: Promise<void>
      try {
        done = client
          .limitsSettle(keys.length, ...keys, windowMs, id, wholeTokens(reserved), usedArg)
          .then(() => {})
      } catch (err) {
        done = Promise.reject(err)
      }
      // Callers may fire and forget: a failure must not surface as an unhandled rejection, yet whoever
      // awaits the promise still sees it.
      done.catch(() => {})
      return done
    },
    async ping() {
      await client.ping()
    },
    ready: connection.ready,
    async close() {
      await Promise.all([slots.close(), held.close()]) // gives back what is on hand before the connection quits
      await connection.close()
    },
  }
}

/** The members `id:from` … `id:to` that slots or leases taken ahead are recorded under. */
function numbered(id: string, from: number, to: number): string[] {
  const members: string[] = []
  for (let j = from; j <= to; j++) members.push(`${id}:${j}`)
  return members
}
