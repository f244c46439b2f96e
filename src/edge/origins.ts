/**
 * The origins an edge forwards to, in order of preference (ORIGIN_URL may list several, one per region). A
 * request goes to the first healthy one; an origin that cannot be reached (refused, reset, no answer in time)
 * is marked down for a while (passive health: learned from real requests, no probes) and the request moves
 * on to the next, so one region going dark does not take the edge with it. Any HTTP answer is the origin's
 * answer and is passed on, whatever its status.
 */
export interface OriginsOptions {
  urls: readonly string[]
  fetch: (request: Request) => Promise<Response>
  now(): number
  /** How long an origin that failed is skipped (default 10 s); when all are down, all are tried anyway. */
  downForMs?: number
  /** Longest wait for an origin's response head (default 120 s: a non-stream answer arrives whole). */
  headersTimeoutMs?: number
}

/** No origin answered: the edge's own 502. */
export class OriginsUnreachable extends Error {
  constructor(readonly tried: readonly string[]) {
    super(`no origin answered (${tried.join(', ')})`)
    this.name = 'OriginsUnreachable'
  }
}

export class Origins {
  readonly #urls: string[]
  readonly #downUntil = new Map<string, number>()
  readonly #options: OriginsOptions

  constructor(options: OriginsOptions) {
    if (options.urls.length === 0) throw new Error('ORIGIN_URL names no origin')
    this.#urls = options.urls.map((u) => u.replace(/\/+$/, ''))
    this.#options = options
  }

  /** The origins in the order to try now: healthy ones first, in preference order, then the ones marked down. */
  order(): string[] {
    const now = this.#options.now()
    const up = this.#urls.filter((u) => (this.#downUntil.get(u) ?? 0) <= now)
    return up.length === this.#urls.length
      ? this.#urls
      : [...up, ...this.#urls.filter((u) => !up.includes(u))]
  }

  /** Whether an origin is currently marked down (for views and tests). */
  isDown(url: string): boolean {
    return (this.#downUntil.get(url.replace(/\/+$/, '')) ?? 0) > this.#options.now()
  }

  /**
   * Sends the request `build` makes for each origin in turn until one answers. `build` is called once per
   * origin tried, so the body must be re-sendable (a string). Throws OriginsUnreachable when none answers.
   */
  async send(build: (origin: string, signal: AbortSignal) => Request): Promise<Response> {
    const tried: string[] = []
    for (const origin of this.order()) {
      tried.push(origin)
      const controller = new AbortController()
      // Built outside the try: a request that cannot be built again (its body streamed once) fails as it is,
      // without marking an origin down.
      const request = build(origin, controller.signal)
      const timer = setTimeout(() => controller.abort(), this.#options.headersTimeoutMs ?? 120_000)
      try {
        const res = await this.#options.fetch(request)
        this.#downUntil.delete(origin)
        return res
      } catch {
        this.#downUntil.set(origin, this.#options.now() + (this.#options.downForMs ?? 10_000))
      } finally {
        clearTimeout(timer)
      }
    }
    throw new OriginsUnreachable(tried)
  }
}
