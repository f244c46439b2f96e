import { Agent, type Dispatcher, errors } from 'undici'
import {
  type HttpClient,
  TransportError,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../../core/http-client.js'

export interface UndiciClientOptions {
  /** Keep-alive connections per upstream origin. */
  connections?: number
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs?: number
}

/**
 * The origin's upstream client: an undici Agent (a keep-alive pool per origin) driven through `dispatch`
 * with a handler of our own. It skips what `request()` builds for every response (a Node Readable for the
 * body and its event machinery) and fetch's WHATWG objects: chunks go straight to whoever reads them.
 */
export function undiciClient(options: UndiciClientOptions = {}): HttpClient & { close(): Promise<void> } {
  const agentWith = (connectTimeoutMs: number | undefined) =>
    new Agent({
      connections: options.connections ?? 256,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      keepAliveMaxTimeout: 10 * 60_000,
      pipelining: 1,
      ...(connectTimeoutMs === undefined ? {} : { connect: { timeout: connectTimeoutMs } }),
    })
  const agent = agentWith(undefined)
  // undici sets the connect timeout per agent: targets with their own get an agent (and a pool) per value.
  const byConnectTimeout = new Map<number, Agent>()
  const agentFor = (ms: number | undefined) => {
    if (ms === undefined) return agent
    let found = byConnectTimeout.get(ms)
    if (found === undefined) {
      found = agentWith(ms)
      byConnectTimeout.set(ms, found)
    }
    return found
  }
  return {
    request(req, { signal, timeoutMs, bodyTimeoutMs, connectTimeoutMs }) {
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(new TransportError('aborted', 'request aborted'))
        const exchange = new Exchange(signal, resolve, reject)
        agentFor(connectTimeoutMs).dispatch(
          dispatchOptions(req, timeoutMs, bodyTimeoutMs ?? timeoutMs),
          exchange,
        )
      })
    },
    close: async () => {
      await Promise.all([agent.close(), ...[...byConnectTimeout.values()].map((a) => a.close())])
    },
  }
}

function dispatchOptions(
  req: UpstreamRequest,
  timeoutMs: number,
  bodyTimeoutMs: number,
): Dispatcher.DispatchOptions {
  return {
    origin: req.origin,
    path: req.path,
    method: req.method,
    headers: req.headers,
    body: req.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: bodyTimeoutMs,
  }
}

/** How many chunks may wait for a slow reader before the upstream socket is paused. */
const HIGH_WATER = 16
/** What a discarded body may still read to keep its connection, as undici's own dump does. */
const DISCARD_LIMIT = 128 * 1024

/**
 * One request and its response, as an undici dispatch handler. The response is handed over at its head;
 * its body is then read either whole (`text()`) or chunk by chunk (`body`), with backpressure: the socket
 * is paused while chunks wait unread, so memory stays flat however long the stream.
 */
class Exchange implements Dispatcher.DispatchHandler, UpstreamResponse {
  status = 0
  #headers: Record<string, string | string[] | undefined> = {}
  #controller: Dispatcher.DispatchController | undefined
  #chunks: Buffer[] = []
  #ended = false
  #failure: TransportError | undefined
  #wake: (() => void) | undefined
  #discarded = 0
  #started = false
  /** Read chunk by chunk: only then may the socket be paused for a slow reader. */
  #streaming = false
  readonly #signal: AbortSignal
  readonly #resolve: (res: UpstreamResponse) => void
  readonly #reject: (err: Error) => void
  readonly #onAbort = () => this.#controller?.abort(new errors.RequestAbortedError())

  constructor(signal: AbortSignal, resolve: (res: UpstreamResponse) => void, reject: (err: Error) => void) {
    this.#signal = signal
    this.#resolve = resolve
    this.#reject = reject
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    this.#signal.addEventListener('abort', this.#onAbort)
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return // 1xx: the real head follows
    this.status = statusCode
    this.#headers = headers
    this.#started = true
    this.#resolve(this)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#discarded > 0) {
      this.#discarded += chunk.length
      if (this.#discarded > DISCARD_LIMIT) controller.abort(new errors.RequestAbortedError())
      return
    }
    this.#chunks.push(chunk)
    if (this.#streaming && this.#chunks.length >= HIGH_WATER) controller.pause()
    this.#notify()
  }

  onResponseEnd(): void {
    this.#ended = true
    this.#signal.removeEventListener('abort', this.#onAbort)
    this.#notify()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#failure = toTransportError(err, this.#signal)
    this.#signal.removeEventListener('abort', this.#onAbort)
    if (!this.#started) this.#reject(this.#failure)
    else this.#notify()
  }

  header(name: string): string | undefined {
    const value = this.#headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }

  async text(): Promise<string> {
    while (!this.#ended) {
      if (this.#failure) throw this.#failure
      await this.#next()
    }
    const text =
      this.#chunks.length === 1
        ? this.#chunks[0]!.toString('utf8')
        : Buffer.concat(this.#chunks).toString('utf8')
    this.#chunks = []
    return text
  }

  get body(): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => this.#iterator() }
  }

  discard(): void {
    if (this.#ended || this.#failure) return
    this.#discarded = 1 + this.#chunks.reduce((n, c) => n + c.length, 0)
    this.#chunks = []
    if (this.#controller?.paused) this.#controller.resume()
  }

  #iterator(): AsyncIterator<Uint8Array> {
    this.#streaming = true
    return {
      next: async () => {
        for (;;) {
          const value = this.#chunks.shift()
          if (value !== undefined) {
            if (this.#chunks.length === 0 && this.#controller?.paused) this.#controller.resume()
            return { done: false, value }
          }
          if (this.#failure) throw this.#failure
          if (this.#ended) return { done: true, value: undefined }
          await this.#next()
        }
      },
      // A reader that stops early (at `data: [DONE]`) leaves the rest to be drained, so the connection is reused.
      return: async () => {
        this.discard()
        return { done: true, value: undefined }
      },
    }
  }

  #next(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve
    })
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

function toTransportError(err: unknown, signal: AbortSignal): TransportError {
  if (signal.aborted || err instanceof errors.RequestAbortedError) {
    return new TransportError('aborted', 'request aborted', { cause: err })
  }
  if (
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError ||
    err instanceof errors.ConnectTimeoutError
  ) {
    return new TransportError('timeout', (err as Error).message, { cause: err })
  }
  const code = (err as { code?: string } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  return new TransportError('network', code ? `${code} ${message}` : message, { cause: err })
}
