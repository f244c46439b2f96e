/** What both ways of taking limits ahead (`requestSlots`, `holdings`) are tuned by. */
export interface AheadOptions {
  /** How long what is taken ahead may wait for its requests; 0 takes nothing ahead (default 250). */
  aheadMs?: number
  /** The most requests one call takes ahead for (default 64); see `aheadCap` for the limits' own bound. */
  maxExtra?: number
  /** A millisecond clock (default `performance.now`). */
  now?: () => number
}

/** The options with their defaults; `maxExtra` is 0 when nothing is taken ahead. */
export function aheadSettings(options: AheadOptions) {
  const aheadMs = options.aheadMs ?? 250
  return {
    aheadMs,
    maxExtra: aheadMs > 0 ? (options.maxExtra ?? 64) : 0,
    clock: options.now ?? (() => performance.now()),
  }
}

/** The most of a limit one call may take ahead: a fiftieth of it (0 for a limit under 50). */
export function aheadCap(limit: number): number {
  return Math.floor(limit / 50)
}

/** Lets the process exit with a timer pending (Node); elsewhere timers have no such hold. */
export function unref(timer: ReturnType<typeof setTimeout>): void {
  ;(timer as { unref?: () => void }).unref?.()
}
