import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { GatewayError } from '../core/errors.js'
import { Flight, Flights } from './flight.js'

const PENDING = Symbol('pending')

/** What a promise has settled to by the time pending callbacks and timers have run, or PENDING. */
async function state<T>(promise: Promise<T>): Promise<T | Error | typeof PENDING> {
  const settled = promise.then(
    (value) => value,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  )
  return Promise.race([settled, new Promise<typeof PENDING>((resolve) => setTimeout(resolve, 10, PENDING))])
}

/** Fails fast (instead of at the test timeout) when a reader is never woken. */
function within<T>(promise: Promise<T>, ms = 500): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)),
  ])
}

async function drain(reader: AsyncIterator<string[]>): Promise<string[][]> {
  const batches: string[][] = []
  for (;;) {
    const next = await within(reader.next())
    if (next.done) return batches
    batches.push(next.value)
  }
}

const upstreamError = () => new GatewayError('MERIDIAN_UPSTREAM_TIMEOUT', 'upstream timed out')

describe('Flight: opened and completion', () => {
  it('a stream flight opens at its first batch, before it ends', async () => {
    const flight = new Flight(true)
    expect(await state(flight.opened)).toBe(PENDING)
    flight.push(['a'])
    expect(await state(flight.opened)).toBeUndefined()
    expect(await state(flight.completion)).toBe(PENDING)
  })

  it('a non-stream flight opens at finish, and completion is the text given to finish', async () => {
    const flight = new Flight(false)
    expect(await state(flight.opened)).toBe(PENDING)
    flight.finish('{"id":"x"}')
    expect(await state(flight.opened)).toBeUndefined()
    await expect(flight.completion).resolves.toBe('{"id":"x"}')
  })

  it('completion may be undefined (an answer that cannot be rebuilt)', async () => {
    const flight = new Flight(true)
    flight.push(['a'])
    flight.finish(undefined)
    await expect(flight.completion).resolves.toBeUndefined()
  })

  it('fail before any batch rejects both opened and completion with the error', async () => {
    const flight = new Flight(true)
    const err = upstreamError()
    flight.fail(err)
    await expect(flight.opened).rejects.toBe(err)
    await expect(flight.completion).rejects.toBe(err)
  })

  it('fail after the first batch keeps opened resolved and rejects completion', async () => {
    const flight = new Flight(true)
    flight.push(['a'])
    const err = upstreamError()
    flight.fail(err)
    expect(await state(flight.opened)).toBeUndefined()
    await expect(flight.completion).rejects.toBe(err)
  })

  it('the first ending wins: finish after fail, fail after finish, and push after either are ignored', async () => {
    const failed = new Flight(false)
    const err = upstreamError()
    failed.fail(err)
    failed.finish('late')
    await expect(failed.completion).rejects.toBe(err)

    const finished = new Flight(true)
    finished.push(['a'])
    finished.finish('text')
    finished.fail(upstreamError())
    finished.push(['b'])
    await expect(finished.completion).resolves.toBe('text')
    expect(await drain(finished.reader())).toEqual([['a']])
  })
})

describe('Flight: readers', () => {
  it('a late reader gets every batch from the first, then the rest as they come, then done', async () => {
    const flight = new Flight(true)
    flight.push(['a', 'b'])
    flight.push(['c'])
    const reader = flight.reader()
    expect(await within(reader.next())).toEqual({ done: false, value: ['a', 'b'] })
    expect(await within(reader.next())).toEqual({ done: false, value: ['c'] })
    const waiting = reader.next()
    flight.push(['d'])
    expect(await within(waiting)).toEqual({ done: false, value: ['d'] })
    flight.finish('text')
    expect(await within(reader.next())).toEqual({ done: true, value: undefined })
  })

  it('a reader created after the end still replays everything', async () => {
    const flight = new Flight(true)
    flight.push(['a'])
    flight.push(['b'])
    flight.finish('text')
    expect(await drain(flight.reader())).toEqual([['a'], ['b']])
    expect(await drain(flight.reader())).toEqual([['a'], ['b']])
  })

  it('three readers waiting together all wake on one push, and all see the end', async () => {
    const flight = new Flight(true)
    const readers = [flight.reader(), flight.reader(), flight.reader()]
    const first = readers.map((reader) => reader.next())
    expect(await state(Promise.race(first))).toBe(PENDING)
    flight.push(['x'])
    expect(await within(Promise.all(first))).toEqual([
      { done: false, value: ['x'] },
      { done: false, value: ['x'] },
      { done: false, value: ['x'] },
    ])
    const second = readers.map((reader) => reader.next())
    flight.push(['y'])
    expect((await within(Promise.all(second))).map((r) => r.value)).toEqual([['y'], ['y'], ['y']])
    const ends = readers.map((reader) => reader.next())
    flight.finish(undefined)
    expect((await within(Promise.all(ends))).map((r) => r.done)).toEqual([true, true, true])
  })

  it("throws the flight's error after the batches it already had", async () => {
    const flight = new Flight(true)
    const reader = flight.reader()
    const waiting = reader.next()
    flight.push(['a'])
    flight.push(['b'])
    const err = upstreamError()
    flight.fail(err)
    expect(await within(waiting)).toEqual({ done: false, value: ['a'] })
    expect(await within(reader.next())).toEqual({ done: false, value: ['b'] })
    await expect(within(reader.next())).rejects.toBe(err)
    await expect(within(reader.next())).rejects.toBe(err)
  })

  it('a reader waiting when the flight fails is woken with the error', async () => {
    const flight = new Flight(true)
    const waiting = flight.reader().next()
    const err = upstreamError()
    flight.fail(err)
    await expect(within(waiting)).rejects.toBe(err)
  })
})

describe('Flight: join and leave', () => {
  it('leaving while another client remains does not abort', async () => {
    const flight = new Flight(true)
    const leaveA = flight.join()
    flight.join()
    leaveA()
    expect(flight.signal.aborted).toBe(false)
    expect(await state(flight.completion)).toBe(PENDING)
  })

  it('the last client leaving before the end aborts the signal and fails the flight with MERIDIAN_CLIENT_CLOSED', async () => {
    const flight = new Flight(true)
    const leaveA = flight.join()
    const leaveB = flight.join()
    leaveA()
    leaveB()
    expect(flight.signal.aborted).toBe(true)
    const err = await state(flight.completion)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('MERIDIAN_CLIENT_CLOSED')
    await expect(flight.opened).rejects.toBe(err)
  })

  it('leave is idempotent: one client leaving twice does not count as two', () => {
    const flight = new Flight(true)
    const leaveA = flight.join()
    const leaveB = flight.join()
    leaveA()
    leaveA()
    expect(flight.signal.aborted).toBe(false)
    leaveB()
    expect(flight.signal.aborted).toBe(true)
  })

  it('leaving after finish never aborts', async () => {
    const flight = new Flight(false)
    const leave = flight.join()
    flight.finish('text')
    leave()
    expect(flight.signal.aborted).toBe(false)
    await expect(flight.completion).resolves.toBe('text')
  })

  it('leaving after fail does not abort either (the call is already over)', async () => {
    const flight = new Flight(false)
    const leave = flight.join()
    const err = upstreamError()
    flight.fail(err)
    leave()
    expect(flight.signal.aborted).toBe(false)
    await expect(flight.completion).rejects.toBe(err)
  })
})

describe('Flight: nobody listening', () => {
  const unhandled: unknown[] = []
  const record = (reason: unknown) => unhandled.push(reason)
  afterEach(() => {
    process.off('unhandledRejection', record)
  })

  it('a flight failing (or abandoned) with nobody awaiting it leaves no unhandled rejection', async () => {
    unhandled.length = 0
    process.on('unhandledRejection', record)
    new Flight(true).fail(upstreamError())
    new Flight(false).fail(upstreamError())
    new Flight(true).join()()
    const flights = new Flights()
    flights.start('k', false).fail(upstreamError())
    // Unhandled rejections are reported after the microtask queue drains: give it a few turns.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(unhandled).toEqual([])
  })

  // A `hold` that rejects must not crash the process (Node's default is --unhandled-rejections=throw). Runs in a
  // child process, since an unhandled rejection in this one would fail the whole vitest run, not this test.
  it('a hold that rejects does not become an unhandled rejection', () => {
    const flightModule = fileURLToPath(new URL('./flight.ts', import.meta.url))
    const script = [
      `import { Flight } from ${JSON.stringify(flightModule)}`,
      `new Flight(false).finish('text', Promise.reject(new Error('store failed')))`,
      `setTimeout(() => console.log('survived'), 20)`,
    ].join('\n')
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    })
    expect(child.stderr).not.toContain('store failed')
    expect(child.stdout).toContain('survived')
    expect(child.status).toBe(0)
  })
})

describe('Flights', () => {
  it('start registers the flight under its key', () => {
    const flights = new Flights()
    const flight = flights.start('k', true)
    expect(flight.stream).toBe(true)
    expect(flights.get('k')).toBe(flight)
    expect(flights.get('other')).toBeUndefined()
    expect(flights.size).toBe(1)
  })

  it('removes a flight that fails', () => {
    const flights = new Flights()
    flights.start('k', false).fail(upstreamError())
    expect(flights.get('k')).toBeUndefined()
    expect(flights.size).toBe(0)
  })

  it('removes a flight that every client left', () => {
    const flights = new Flights()
    const flight = flights.start('k', true)
    flight.join()()
    expect(flights.get('k')).toBeUndefined()
  })

  it('removes a flight that finishes without a hold at once', () => {
    const flights = new Flights()
    flights.start('k', false).finish('text')
    expect(flights.get('k')).toBeUndefined()
  })

  it('keeps a finished flight findable until its hold settles', async () => {
    const flights = new Flights()
    const flight = flights.start('k', false)
    let release!: () => void
    const hold = new Promise<void>((resolve) => {
      release = resolve
    })
    flight.finish('text', hold)
    await expect(flight.completion).resolves.toBe('text')
    expect(await state(hold)).toBe(PENDING)
    expect(flights.get('k')).toBe(flight)
    expect(flights.size).toBe(1)
    release()
    await hold
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(flights.get('k')).toBeUndefined()
    expect(flights.size).toBe(0)
  })

  it("a second flight under the same key is not removed by the first one's end", async () => {
    const flights = new Flights()
    const first = flights.start('k', false)
    const second = flights.start('k', false)
    first.fail(upstreamError())
    expect(flights.get('k')).toBe(second)

    const third = flights.start('k2', true)
    let release!: () => void
    third.finish('text', new Promise<void>((resolve) => (release = resolve)))
    const fourth = flights.start('k2', true)
    release()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(flights.get('k2')).toBe(fourth)
    expect(flights.size).toBe(2)
  })
})
