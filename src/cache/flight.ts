import { GatewayError } from '../core/errors.js'

/**
 * One upstream call shared by every identical request that arrives while it runs (request coalescing).
 * The call belongs to the flight, not to the request that started it: it is aborted only when every client
 * waiting on it has gone. A stream flight keeps every batch of chunks, so a client that joins late still
 * receives the stream from its first chunk.
 */
export class Flight {
  /** Whether the upstream call streams (the first request's choice; followers adapt). */
  readonly stream: boolean
  readonly signal: AbortSignal
  /** `provider/model` of the target that answered, once known. */
  target: string | undefined
  /** Time the upstream took, in ms, for the followers' Server-Timing. */
  upstreamMs = 0
  /** Settles when the answer has begun: its first batch for a stream, the whole answer otherwise. */
  readonly opened: Promise<void>
  /**
   * The answer as a non-stream completion (JSON text) when it ends; undefined when a stream's answer cannot be
   * rebuilt faithfully (followers then ask upstream themselves). Rejects with the flight's error.
   */
  readonly completion: Promise<string | undefined>

  private readonly batches: string[][] = []
  private ended = false
  private error: GatewayError | undefined
  private wake: (() => void) | undefined
  private clients = 0
  private readonly controller = new AbortController()
  private readonly settle: {
    open: (err?: GatewayError) => void
    complete: (text: string | undefined, err?: GatewayError) => void
  }
  private readonly onIdle: () => void

  constructor(stream: boolean, onIdle: () => void = () => {}) {
    this.stream = stream
    this.signal = this.controller.signal
    this.onIdle = onIdle
    let open!: (err?: GatewayError) => void
    let complete!: (text: string | undefined, err?: GatewayError) => void
    this.opened = new Promise<void>((resolve, reject) => {
      open = (err) => (err ? reject(err) : resolve())
    })
    this.completion = new Promise<string | undefined>((resolve, reject) => {
      complete = (text, err) => (err ? reject(err) : resolve(text))
    })
    // Nobody may be waiting when the flight fails (every client gone): that is not an unhandled rejection.
    this.opened.catch(() => {})
    this.completion.catch(() => {})
    this.settle = { open, complete }
  }

  /** A client waits on this flight; the returned function (idempotent) says it has gone or is done. */
  join(): () => void {
    this.clients++
    let left = false
    return () => {
      if (left) return
      left = true
      if (--this.clients === 0 && !this.ended) {
        this.controller.abort()
        this.fail(new GatewayError('MERIDIAN_CLIENT_CLOSED', 'every client waiting on this answer left'))
      }
    }
  }

  /** A stream flight's next batch of chunk payloads. */
  push(batch: string[]): void {
    if (this.ended) return
    this.batches.push(batch)
    if (this.batches.length === 1) this.settle.open()
    this.notify()
  }

  /**
   * The answer is complete; `completion` is its non-stream form (or undefined, see `completion`). The flight
   * stays findable until `hold` (the cache write) settles, so a request arriving meanwhile still joins it.
   */
  finish(completion: string | undefined, hold?: Promise<unknown>): void {
    if (this.ended) return
    this.ended = true
    this.settle.open()
    this.settle.complete(completion)
    this.notify()
    if (hold) void hold.then(this.onIdle, this.onIdle)
    else this.onIdle()
  }

  fail(error: GatewayError): void {
    if (this.ended) return
    this.ended = true
    this.error = error
    this.settle.open(error)
    this.settle.complete(undefined, error)
    this.notify()
    this.onIdle()
  }

  /** Every batch from the first, then the end or the flight's error: one reader per streaming client. */
  reader(): AsyncIterator<string[]> {
    let next = 0
    const read = async (): Promise<IteratorResult<string[]>> => {
      for (;;) {
        const batch = this.batches[next]
        if (batch !== undefined) {
          next++
          return { done: false, value: batch }
        }
        if (this.error) throw this.error
        if (this.ended) return { done: true, value: undefined }
        await new Promise<void>((resolve) => {
          const previous = this.wake
          this.wake = previous
            ? () => {
                previous()
                resolve()
              }
            : resolve
        })
      }
    }
    return { next: read }
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** The flights in progress, by cache key. */
export class Flights {
  private readonly byKey = new Map<string, Flight>()

  get(key: string): Flight | undefined {
    return this.byKey.get(key)
  }

  get size(): number {
    return this.byKey.size
  }

  /** A new flight, found by `key` until it fails or its answer is stored (see `Flight.finish`). */
  start(key: string, stream: boolean): Flight {
    const flight = new Flight(stream, () => {
      if (this.byKey.get(key) === flight) this.byKey.delete(key)
    })
    this.byKey.set(key, flight)
    return flight
  }
}
