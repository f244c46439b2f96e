import type { BudgetStore, Charge, ChargeState, ReserveResult, SpendSince } from '../../governance/budgets.js'
import { type RedisStoreOptions, redisConnection } from './redis-connection.js'

export interface RedisBudgetsOptions extends RedisStoreOptions {
  /** Namespace of every key this store writes (default `meridian:`). */
  prefix?: string
  /** A command without a reply by then rejects (default 250 ms). */
  timeoutMs?: number
  /** The ledger's spend for a charge's scope since its period started: seeds a period Redis has no hash for. */
  spendSince: SpendSince
}

/** A Redis budget store, and a way to wait for its first connection. */
export type RedisBudgets = BudgetStore & {
  /** Resolves once connected; rejects with the first connection error, or if the store is closed. */
  ready(): Promise<void>
  /** One round trip (PING), for `GET /ready`. */
  ping(): Promise<void>
}

// Keys, under the prefix:
//   budget:{<budget>}:<period start>  HASH spent, reserved, warned (0/1) of one budget period. Day and month
//                                     periods expire a week after they end; `total` never does.
//   budres:<id>                       HASH amount, created, keys (JSON array of the period hashes charged)
//   budres                            ZSET of reservation ids scored by their creation time (ms), for expire
// A period hash that is missing (first use, a budget created mid-period, a Redis that restarted empty) is
// seeded from the ledger before anything is reserved in it. Settling skips a period hash that is gone: its
// next use seeds it from the ledger again, which by then holds the settled request.
// Time is the caller's (`now` of reserve, `before` of expire), as the contract passes it in: one clock stamps
// a reservation and decides when it is stale, as in the SQL store. Redis's clock only runs the hashes' TTLs.
// Money is integer nano-USD; Lua numbers are doubles, exact to 2^53 (about $9M), and are written back with
// `int()` because `tostring` and Redis's own conversion print 1e15 as `1e+15`, which HINCRBY refuses.
// Redis Cluster: settle and expire reach keys named inside the reservation, and a reservation spans several
// budgets, so every key must share a slot: put a hash tag in the prefix (`{meridian}:`); Redis hashes the
// first `{…}` of a key, so the budget's own tag then no longer splits them. A single node needs nothing.

const LIB = `
local function int(x)
  if x == 0 then return '0' end
  return string.format('%.0f', x)
end

-- Settles one reservation to \`actual\` (nil: its full amount). Answers 1, or 0 when there is none.
local function settle(res, index, id, actual)
  redis.call('ZREM', index, id)
  local r = redis.call('HMGET', res, 'amount', 'keys')
  if not r[1] then return 0 end
  redis.call('DEL', res)
  local amount = tonumber(r[1])
  local spent = actual or amount
  for _, key in ipairs(cjson.decode(r[2])) do
    if redis.call('EXISTS', key) == 1 then
      if amount ~= 0 then redis.call('HINCRBY', key, 'reserved', int(-amount)) end
      if spent ~= 0 then redis.call('HINCRBY', key, 'spent', int(spent)) end
    end
  end
  return 1
end
`

/**
 * KEYS: the reservation, the reservation index, then each charge's period hash. ARGV: id, amount, now, then per
 * charge limit, warning threshold (nano-USD), TTL of its hash (ms, '' none) and seed ('' none).
 * Answers { 'again', spent, reserved, … } when the id already holds a reservation; { 'seed', i, … } naming
 * (1-based) the missing hashes that came without a seed (nothing reserved); { 'denied', i, spent, reserved }
 * for the first charge without room (nothing reserved); or { 'ok', spent, reserved, crossed, … }.
 */
const RESERVE = `${LIB}
local id, amount, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local n = #KEYS - 2
local function arg(i, j) return ARGV[3 + (i - 1) * 4 + j] end

if redis.call('EXISTS', KEYS[1]) == 1 then
  local out = { 'again' }
  for i = 1, n do
    local h = redis.call('HMGET', KEYS[i + 2], 'spent', 'reserved')
    out[#out + 1] = h[1] or '0'
    out[#out + 1] = h[2] or '0'
  end
  return out
end

local missing = { 'seed' }
for i = 1, n do
  local key = KEYS[i + 2]
  if redis.call('EXISTS', key) == 0 then
    if arg(i, 4) == '' then
      missing[#missing + 1] = i
    else
      redis.call('HSET', key, 'spent', arg(i, 4), 'reserved', '0', 'warned', '0')
      if arg(i, 3) ~= '' then redis.call('PEXPIRE', key, arg(i, 3)) end
    end
  end
end
if #missing > 1 then return missing end

-- Check all before touching any; \`pending\` counts a period charged twice in one request twice.
local pending = {}
for i = 1, n do
  local key = KEYS[i + 2]
  local h = redis.call('HMGET', key, 'spent', 'reserved')
  local spent, reserved = tonumber(h[1]) or 0, (tonumber(h[2]) or 0) + (pending[key] or 0)
  if spent + reserved + amount > tonumber(arg(i, 1)) then return { 'denied', i, int(spent), int(reserved) } end
  pending[key] = (pending[key] or 0) + amount
end

local out, keys = { 'ok' }, {}
for i = 1, n do
  local key = KEYS[i + 2]
  keys[i] = key
  local reserved = redis.call('HINCRBY', key, 'reserved', ARGV[2])
  local h = redis.call('HMGET', key, 'spent', 'warned')
  local spent = tonumber(h[1]) or 0
  local crossed = 0
  if h[2] ~= '1' and spent + reserved >= tonumber(arg(i, 2)) then
    redis.call('HSET', key, 'warned', '1')
    crossed = 1
  end
  out[#out + 1] = int(spent)
  out[#out + 1] = int(reserved)
  out[#out + 1] = crossed
end
redis.call('HSET', KEYS[1], 'amount', ARGV[2], 'created', now, 'keys', cjson.encode(keys))
redis.call('ZADD', KEYS[2], now, id)
return out
`

/** KEYS: the reservation, the reservation index. ARGV: id, actual ('' the full amount). Answers 1 or 0. */
const SETTLE = `${LIB}
local actual = nil
if ARGV[2] ~= '' then actual = tonumber(ARGV[2]) end
return settle(KEYS[1], KEYS[2], ARGV[1], actual)
`

/**
 * KEYS: the reservation index. ARGV: before (ms, exclusive), batch size, the reservations' key prefix. Settles
 * up to a batch of the oldest stale reservations at their full amount; answers { settled, seen }.
 */
const EXPIRE = `${LIB}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local settled = 0
for _, id in ipairs(ids) do settled = settled + settle(ARGV[3] .. id, KEYS[1], id, nil) end
return { settled, #ids }
`

type Arg = string | number
interface Scripts {
  budgetReserve(numberOfKeys: number, ...keysAndArgs: Arg[]): Promise<(string | number)[]>
  budgetSettle(...keysAndArgs: Arg[]): Promise<number>
  budgetExpire(...keysAndArgs: Arg[]): Promise<[number, number]>
}

const WEEK_MS = 7 * 86_400_000
/** Stale reservations settled per script call: a long backlog never blocks Redis for long. */
const EXPIRE_BATCH = 100

/** nano-USD as Redis stores it: digits only, never an exponent. */
function nanos(what: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be whole nano-USD, not ${n}`)
  return String(n)
}

const byBudget = (a: Charge, b: Charge) =>
  a.budget < b.budget ? -1 : a.budget > b.budget ? 1 : a.period - b.period

/**
 * Budgets in Redis, exact across every instance: one Lua script per reserve checks every charge and reserves
 * in all or none (one round trip, unless a period must first be seeded from the ledger), one per settle, and
 * expire settles stale reservations in batches. It fails fast like the other Redis stores (no offline queue,
 * a short command timeout): a reserve that rejects is the caller's to refuse. Run Redis with persistence and
 * `maxmemory-policy noeviction`: an evicted reservation is never settled, an evicted period is reseeded.
 *
 * @example
 * const budgets = redisBudgets({
 *   url: 'redis://127.0.0.1:6379',
 *   spendSince: (c) => governance.spendSince(c.scope, c.scopeId, c.period),
 * })
 * await budgets.ready()
 * const r = await budgets.reserve({ id, amount: 2_500_000, charges: [chargeOf(budget, Date.now())], now })
 * if (r.ok) await budgets.settle(id, 1_234_567)
 */
export function redisBudgets(options: RedisBudgetsOptions): RedisBudgets {
  const prefix = options.prefix ?? 'meridian:'
  const index = `${prefix}budres`
  const reservation = (id: string) => `${prefix}budres:${id}`
  const period = (budget: string, start: number) => `${prefix}budget:{${budget}}:${start}`
  const connection = redisConnection<Scripts>({
    url: options.url,
    timeoutMs: options.timeoutMs ?? 250,
    connectTimeoutMs: options.connectTimeoutMs,
    maxBackoffMs: options.maxBackoffMs,
    onError: options.onError,
    name: 'redis budget store',
    scripts: {
      budgetReserve: { lua: RESERVE },
      budgetSettle: { lua: SETTLE, numberOfKeys: 2 },
      budgetExpire: { lua: EXPIRE, numberOfKeys: 1 },
    },
  })
  const { client } = connection

  const attempt = (
    keys: string[],
    head: Arg[],
    charges: Charge[],
    now: number,
    seeds: Map<number, string>,
  ): Promise<(string | number)[]> => {
    const args: Arg[] = [...head]
    charges.forEach((c, i) => {
      // Relative to the caller's clock, so a hash is never born expired, whatever Redis's clock says.
      const ttl = Number.isFinite(c.ends) ? String(Math.max(c.ends - now, 0) + WEEK_MS) : ''
      args.push(String(c.limit), String(c.warnAt * c.limit), ttl, seeds.get(i) ?? '')
    })
    return client.budgetReserve(keys.length, ...keys, ...args)
  }

  return {
    name: 'redis',

    async reserve(request): Promise<ReserveResult> {
      // The SQL store's order, so both name the same budget when several are full.
      const charges = [...request.charges].sort(byBudget)
      const keys = [reservation(request.id), index, ...charges.map((c) => period(c.budget, c.period))]
      const head = [request.id, nanos('amount', request.amount), request.now]
      let reply = await attempt(keys, head, charges, request.now, new Map())
      if (reply[0] === 'seed') {
        const missing = reply.slice(1).map((i) => Number(i) - 1)
        const spent = await Promise.all(missing.map((i) => options.spendSince(charges[i] as Charge)))
        const seeds = new Map(missing.map((i, j) => [i, nanos('spendSince', spent[j] as number)]))
        reply = await attempt(keys, head, charges, request.now, seeds)
        if (reply[0] === 'seed') throw new Error('budget periods vanished while they were being seeded')
      }
      return decode(reply, charges)
    },

    async settle(id, actual) {
      return (await client.budgetSettle(reservation(id), index, id, nanos('actual', actual))) === 1
    },

    async usage(charges) {
      if (charges.length === 0) return []
      const pipeline = client.pipeline()
      for (const c of charges) pipeline.hmget(period(c.budget, c.period), 'spent', 'reserved')
      const replies = (await pipeline.exec()) ?? []
      return charges.map((_, i) => {
        const [err, values] = replies[i] ?? [new Error('no reply'), null]
        if (err) throw err
        const [spent, reserved] = values as (string | null)[]
        return { spent: Number(spent ?? 0), reserved: Number(reserved ?? 0) }
      })
    },

    async expire(before) {
      let count = 0
      for (;;) {
        const [settled, seen] = await client.budgetExpire(index, before, EXPIRE_BATCH, `${prefix}budres:`)
        count += settled
        if (seen < EXPIRE_BATCH) return count
      }
    },

    async ping() {
      await client.ping()
    },
    ready: connection.ready,
    close: connection.close,
  }
}

function decode(reply: (string | number)[], charges: Charge[]): ReserveResult {
  const at = (i: number) => Number(reply[i])
  if (reply[0] === 'denied') {
    const charge = charges[at(1) - 1] as Charge
    return {
      ok: false,
      denied: { budget: charge.budget, spent: at(2), reserved: at(3), limit: charge.limit, crossed: false },
    }
  }
  const again = reply[0] === 'again'
  const width = again ? 2 : 3
  const states: ChargeState[] = charges.map((c, i) => ({
    budget: c.budget,
    spent: at(1 + i * width),
    reserved: at(2 + i * width),
    limit: c.limit,
    crossed: !again && at(3 + i * width) === 1,
  }))
  return { ok: true, states }
}
