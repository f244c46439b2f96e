import type { Command, Redis } from 'ioredis'

/** What the watchdog needs of a connection: its socket's byte count, and a way to drop it. */
interface Watched {
  stream: { bytesRead: number; destroy(err: Error): void } | undefined
}

interface InFlight {
  command: Command
  deadline: number
}

/**
 * Command and socket timeouts with one timer per connection. ioredis's own (`commandTimeout`,
 * `socketTimeout`) start and clear two timers and add a `data` listener for every command, which measured
 * ~10 µs a command here: a tenth of a loopback round trip, on every rate-limit check and cache lookup.
 *
 * The watchdog keeps the commands in flight in the order they were sent (Redis answers in that order) and
 * looks at them every `tickMs` while any is unanswered:
 * - a command unanswered after `timeoutMs` is rejected ("Command timed out"), as ioredis would;
 * - a connection that has received nothing for `socketTimeoutMs` since a command timed out is half-open:
 *   its socket is destroyed, and ioredis dials again.
 * So a command fails between `timeoutMs` and `timeoutMs + tickMs` after it was sent.
 */
export class Watchdog {
  readonly #connection: Watched
  readonly #timeoutMs: number
  readonly #socketTimeoutMs: number
  readonly #tickMs: number
  #inFlight: InFlight[] = []
  #head = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  /** Since a command timed out: when, and the socket's byte count then (undefined while all is well). */
  #suspect: { since: number; bytesRead: number } | undefined

  constructor(connection: Watched, timeoutMs: number, socketTimeoutMs: number) {
    this.#connection = connection
    this.#timeoutMs = timeoutMs
    this.#socketTimeoutMs = socketTimeoutMs
    this.#tickMs = Math.max(5, Math.min(50, Math.round(timeoutMs / 10)))
  }

  /** Watches a command just written to the connection. */
  watch(command: Command): void {
    this.#inFlight.push({ command, deadline: performance.now() + this.#timeoutMs })
    this.#timer ??= this.#arm()
  }

  #arm() {
    const timer = setTimeout(() => this.#sweep(), this.#tickMs)
    timer.unref()
    return timer
  }

  #sweep(): void {
    this.#timer = undefined
    const now = performance.now()
    const inFlight = this.#inFlight
    let head = this.#head
    for (; head < inFlight.length; head++) {
      const { command, deadline } = inFlight[head]!
      if (command.isSettled) continue
      if (deadline > now) break
      command.reject(new Error('Command timed out'))
      this.#suspect ??= { since: now, bytesRead: this.#connection.stream?.bytesRead ?? 0 }
    }
    if (head === inFlight.length) {
      inFlight.length = 0
      head = 0
    } else if (head > 1024) {
      inFlight.splice(0, head)
      head = 0
    }
    this.#head = head
    this.#checkSocket(now)
    if (inFlight.length > 0 || this.#suspect !== undefined) this.#timer = this.#arm()
  }

  /** After a timeout: any byte since clears the suspicion; none for `socketTimeoutMs` drops the socket. */
  #checkSocket(now: number): void {
    const suspect = this.#suspect
    if (suspect === undefined) return
    const stream = this.#connection.stream
    if (stream === undefined || stream.bytesRead !== suspect.bytesRead) {
      this.#suspect = undefined
      return
    }
    if (now - suspect.since < this.#socketTimeoutMs) return
    this.#suspect = undefined
    stream.destroy(new Error(`Socket timeout: nothing received from Redis in ${this.#socketTimeoutMs} ms`))
  }
}

/** Puts a watchdog on every command the client sends (ioredis's public `sendCommand` is the one way in). */
export function watchCommands(client: Redis, timeoutMs: number, socketTimeoutMs: number): void {
  const watchdog = new Watchdog(client as unknown as Watched, timeoutMs, socketTimeoutMs)
  const send = client.sendCommand.bind(client)
  client.sendCommand = (command, stream) => {
    const result = send(command, stream)
    if (!command.isSettled) watchdog.watch(command)
    return result
  }
}
