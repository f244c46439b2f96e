import { describe, expect, it } from 'vitest'
import { defaultHealthOptions, HealthGate, type HealthOptions, type SharedHealth } from './health.js'

/** A clock the test moves: a monotonic reading and a wall clock that advance together. */
function fakeClock(now = 1_000, epoch = 1_700_000_000_000) {
  let offset = 0
  return {
    now: () => now + offset,
    epoch: () => epoch + offset,
    advance(ms: number) {
      offset += ms
    },
  }
}

const OPTIONS: Partial<HealthOptions> = { windowMs: 10_000, cooldownMs: 5_000 }
const ok = { ok: true }
const fail = { ok: false }

function gate(options: Partial<HealthOptions> = OPTIONS, shared?: SharedHealth) {
  const clock = fakeClock()
  return { clock, gate: new HealthGate(options, clock, shared) }
}

/** Trips `target` with minRequests failures. */
function trip(g: HealthGate, target = 'a') {
  for (let i = 0; i < defaultHealthOptions.minRequests; i++) g.record(target, fail)
  expect(g.state(target)).toBe('down')
}

describe('HealthGate error rate', () => {
  it('takes a target failing every other request down once minRequests outcomes are in', () => {
    const { gate: g } = gate()
    const seen: string[] = []
    for (const outcome of [fail, ok, fail, ok, fail]) {
      g.record('a', outcome)
      seen.push(g.state('a'))
    }
    expect(seen).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'down'])
    expect(g.admit('a')).toBe(false)
  })

  it('catches a 50% pattern with no two failures in a row', () => {
    const { gate: g } = gate()
    for (const outcome of [ok, fail, ok, fail, ok]) g.record('a', outcome)
    expect(g.state('a')).toBe('healthy') // 2 of 5
    g.record('a', fail) // 3 of 6
    expect(g.state('a')).toBe('down')
    expect(g.views()[0]?.reason).toBe('3 of 6 requests failed in 10 s')
  })

  it('judges nothing below minRequests', () => {
    const { gate: g } = gate()
    for (let i = 0; i < 4; i++) g.record('a', fail)
    expect(g.state('a')).toBe('healthy')
    expect(g.admit('a')).toBe(true)
    g.record('a', ok) // 4 of 5
    expect(g.state('a')).toBe('down')
  })

  it('forgets outcomes as they leave the window', () => {
    const { clock, gate: g } = gate()
    for (let i = 0; i < 4; i++) g.record('a', fail)
    clock.advance(9_000)
    expect(g.views()[0]).toMatchObject({ requests: 4, errors: 4, errorRate: 1 })
    clock.advance(1_200) // the four failures are now over 10 s old
    expect(g.views()[0]).toMatchObject({ requests: 0, errors: 0, errorRate: 0 })
    for (let i = 0; i < 4; i++) g.record('a', fail)
    expect(g.state('a')).toBe('healthy') // 4 in the window: below minRequests
    g.record('a', fail)
    expect(g.state('a')).toBe('down')
  })
})

describe('HealthGate cooldown and probes', () => {
  it('skips a down target for the cooldown, then admits exactly one request in probeEvery', () => {
    const { clock, gate: g } = gate()
    trip(g)
    clock.advance(4_999)
    expect(g.admit('a')).toBe(false)
    expect(g.state('a')).toBe('down')
    clock.advance(1)
    expect(g.state('a')).toBe('probing')
    const admitted = Array.from({ length: 30 }, () => g.admit('a'))
    expect(admitted.flatMap((a, i) => (a ? [i] : []))).toEqual([0, 10, 20])
  })

  it('a successful probe brings the target back with a fresh window', () => {
    const { clock, gate: g } = gate()
    trip(g)
    clock.advance(5_000) // the failures are still inside the 10 s window
    expect(g.admit('a')).toBe(true)
    g.record('a', { ok: true, ttfbMs: 80 })
    expect(g.state('a')).toBe('healthy')
    expect(g.views()[0]).toMatchObject({ requests: 1, errors: 0, downUntil: null, reason: null })
    g.record('a', fail) // with the old failures this would be 6 of 7
    expect(g.state('a')).toBe('healthy')
    expect(g.admit('a')).toBe(true)
  })

  it('a failed probe sends the target down for another cooldown', () => {
    const { clock, gate: g } = gate()
    trip(g)
    clock.advance(5_000)
    g.admit('a')
    g.record('a', fail)
    expect(g.state('a')).toBe('down')
    expect(g.views()[0]).toMatchObject({ reason: 'probe failed', downUntil: 1_700_000_000_000 + 10_000 })
    clock.advance(4_999)
    expect(g.admit('a')).toBe(false)
    clock.advance(1)
    expect(g.state('a')).toBe('probing')
    expect(g.admit('a')).toBe(true)
  })

  it('ignores late answers that arrive during the cooldown', () => {
    const { clock, gate: g } = gate()
    trip(g)
    g.record('a', ok)
    g.record('a', fail)
    expect(g.state('a')).toBe('down')
    clock.advance(5_000)
    expect(g.state('a')).toBe('probing')
  })
})

describe('HealthGate latency', () => {
  it('is degraded while the p50 TTFB is over slowFactor × the usual, and healthy again after', () => {
    const { clock, gate: g } = gate()
    for (let i = 0; i < 10; i++) g.record('a', { ok: true, ttfbMs: 100 })
    expect(g.views()[0]?.usualMs).toBeNull() // no history yet: nothing to be slow against
    clock.advance(10_000)
    expect(g.state('a')).toBe('healthy')
    expect(g.views()[0]?.usualMs).toBe(100)

    for (let i = 0; i < 4; i++) g.record('a', { ok: true, ttfbMs: 350 })
    expect(g.state('a')).toBe('healthy') // below minRequests
    g.record('a', { ok: true, ttfbMs: 350 })
    expect(g.state('a')).toBe('degraded')
    expect(g.admit('a')).toBe(true)
    expect(g.views()[0]).toMatchObject({ p50Ms: 350, reason: 'p50 TTFB 350 ms is over 3 × the usual 100 ms' })

    // The slow samples leave the window while it is slow: the usual does not learn them.
    clock.advance(10_000)
    expect(g.state('a')).toBe('healthy')
    expect(g.views()[0]?.usualMs).toBe(100)

    for (let i = 0; i < 5; i++) g.record('a', { ok: true, ttfbMs: 350 })
    expect(g.state('a')).toBe('degraded')
    for (let i = 0; i < 5; i++) g.record('a', { ok: true, ttfbMs: 100 })
    expect(g.state('a')).toBe('healthy') // p50 of five slow and five fast is the fast one
  })

  it('is not degraded by a slowdown under slowFactor, which the usual then learns', () => {
    const { clock, gate: g } = gate()
    for (let i = 0; i < 5; i++) g.record('a', { ok: true, ttfbMs: 100 })
    clock.advance(10_000)
    for (let i = 0; i < 5; i++) g.record('a', { ok: true, ttfbMs: 250 })
    expect(g.state('a')).toBe('healthy')
    clock.advance(10_000)
    expect(g.views()[0]?.usualMs).toBeGreaterThan(100)
  })

  it('ttfbQuantile is the nearest-rank quantile of the window successes', () => {
    const { clock, gate: g } = gate()
    expect(g.ttfbQuantile('a', 0.5)).toBeNull()
    for (const ms of [70, 10, 100, 40, 20, 90, 30, 60, 50, 80]) g.record('a', { ok: true, ttfbMs: ms })
    g.record('a', fail) // failures carry no TTFB
    g.record('a', ok) // nor do answers that did not report one
    expect(g.ttfbQuantile('a', 0.5)).toBe(50)
    expect(g.ttfbQuantile('a', 0.9)).toBe(90)
    expect(g.ttfbQuantile('a', 0.95)).toBe(100)
    expect(g.ttfbQuantile('a', 1)).toBe(100)
    expect(g.ttfbQuantile('a', 0)).toBe(10)
    clock.advance(10_000)
    expect(g.ttfbQuantile('a', 0.5)).toBeNull()
  })

  it('keeps only the latest 64 samples', () => {
    const { gate: g } = gate()
    for (let i = 1; i <= 100; i++) g.record('a', { ok: true, ttfbMs: i })
    expect(g.ttfbQuantile('a', 0)).toBe(37)
    expect(g.ttfbQuantile('a', 1)).toBe(100)
  })
})

describe('HealthGate views', () => {
  it('lists every target seen, sorted by name', () => {
    const { gate: g } = gate()
    g.record('zeta', { ok: true, ttfbMs: 120 })
    g.record('alpha', { ok: true, ttfbMs: 40 })
    g.record('alpha', fail)
    trip(g, 'mid')
    expect(g.views()).toEqual([
      {
        target: 'alpha',
        state: 'healthy',
        requests: 2,
        errors: 1,
        errorRate: 0.5,
        p50Ms: 40,
        p90Ms: 40,
        usualMs: null,
        downUntil: null,
        reason: null,
      },
      {
        target: 'mid',
        state: 'down',
        requests: 5,
        errors: 5,
        errorRate: 1,
        p50Ms: null,
        p90Ms: null,
        usualMs: null,
        downUntil: 1_700_000_000_000 + 5_000,
        reason: '5 of 5 requests failed in 10 s',
      },
      expect.objectContaining({ target: 'zeta', state: 'healthy', requests: 1, p50Ms: 120 }),
    ])
  })

  it('rejects options that cannot work', () => {
    const clock = fakeClock()
    expect(() => new HealthGate({ windowMs: 0 }, clock)).toThrow(RangeError)
    expect(() => new HealthGate({ errorRate: 1.5 }, clock)).toThrow(RangeError)
    expect(new HealthGate({}, clock).views()).toEqual([])
  })
})

/** SharedHealth in memory: every joined gate hears every change, its own included (as Redis does). */
function sharedHub() {
  const down = new Map<string, { until: number; reason: string }>()
  const listeners: ((target: string, until: number | null, reason: string | null) => void)[] = []
  const calls: string[] = []
  let held: (() => void)[] | null = null
  const publish = (target: string, until: number | null, reason: string | null) => {
    const deliver = () => {
      for (const l of listeners) l(target, until, reason)
    }
    if (held) held.push(deliver)
    else deliver()
  }
  return {
    calls,
    /** Queues deliveries until `flush`, as a network would. */
    hold() {
      held = []
    },
    flush() {
      for (const deliver of held ?? []) deliver()
      held = null
    },
    join(): SharedHealth {
      return {
        markDown(target, until, reason) {
          calls.push(`down ${target}`)
          down.set(target, { until, reason })
          publish(target, until, reason)
        },
        markUp(target) {
          calls.push(`up ${target}`)
          down.delete(target)
          publish(target, null, null)
        },
        subscribe(listener) {
          listeners.push(listener)
          for (const [target, d] of down) listener(target, d.until, d.reason)
        },
        close: async () => {},
      }
    },
  }
}

describe('HealthGate shared between instances', () => {
  it('skips a target another instance found down, and admits it again after that instance recovers it', () => {
    const hub = sharedHub()
    const epoch = 1_700_000_000_000
    // Two processes: unrelated monotonic clocks, one wall clock.
    const clockA = fakeClock(5_000, epoch)
    const clockB = fakeClock(987_654, epoch)
    const a = new HealthGate(OPTIONS, clockA, hub.join())
    const b = new HealthGate(OPTIONS, clockB, hub.join())
    b.record('t', { ok: true, ttfbMs: 50 })

    trip(a, 't')
    expect(hub.calls).toEqual(['down t'])
    expect(b.admit('t')).toBe(false)
    expect(b.views()[0]).toMatchObject({
      state: 'down',
      downUntil: epoch + 5_000,
      reason: '5 of 5 requests failed in 10 s',
    })

    // An instance started now learns the outage when it subscribes.
    const c = new HealthGate(OPTIONS, fakeClock(0, epoch), hub.join())
    expect(c.admit('t')).toBe(false)

    clockA.advance(5_000)
    clockB.advance(1_000)
    expect(b.admit('t')).toBe(false) // B's copy of the cooldown still runs
    expect(a.admit('t')).toBe(true)
    a.record('t', { ok: true, ttfbMs: 50 })
    expect(hub.calls).toEqual(['down t', 'up t'])
    expect(b.state('t')).toBe('healthy')
    expect(b.admit('t')).toBe(true)
    expect(c.admit('t')).toBe(true)
    // Like a local recovery, the news starts B on a fresh window.
    expect(b.views()[0]).toMatchObject({ requests: 0, downUntil: null, reason: null })
  })

  it('keeps the later cooldown when two instances trip together, and ignores news already over', () => {
    const hub = sharedHub()
    const epoch = 1_700_000_000_000
    const a = new HealthGate(OPTIONS, fakeClock(0, epoch), hub.join())
    const b = new HealthGate({ ...OPTIONS, cooldownMs: 1_000 }, fakeClock(0, epoch), hub.join())
    hub.hold()
    trip(a, 't') // until epoch + 5 s
    trip(b, 't') // until epoch + 1 s
    hub.flush()
    expect(a.views()[0]?.downUntil).toBe(epoch + 5_000)
    expect(b.views()[0]?.downUntil).toBe(epoch + 5_000)

    // A cooldown that ended a minute ago by this instance's wall clock.
    const late = new HealthGate(OPTIONS, fakeClock(0, epoch + 60_000), hub.join())
    expect(late.admit('t')).toBe(true)
    expect(late.views()[0]).toMatchObject({ state: 'healthy', downUntil: null })
  })
})
