/** Time, injected so tests control it. */
export interface Clock {
  /** A monotonic reading in ms (fractional), for durations. */
  now(): number
  /** Wall-clock ms since the Unix epoch, for timestamps. */
  epoch(): number
}

export const systemClock: Clock = { now: () => performance.now(), epoch: () => Date.now() }
