import type { Readable } from 'node:stream'

/** How many chunks may wait for a slow reader before the upstream socket is paused. */
const HIGH_WATER = 16

/**
 * Iterates an undici response body by its events. Node's own Readable iterator destroys the body when a
 * reader stops early (it does at `data: [DONE]`), building an AbortError with a stack trace every time; this
 * one drains the rest instead (`dump`), so the connection goes back to the pool. Backpressure: the socket is
 * paused while chunks wait unread, so memory stays flat however long the stream.
 */
export function iterateBody(
  body: Readable & { dump(): Promise<void> },
  mapError: (err: unknown) => Error,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const chunks: Uint8Array[] = []
      let ended = false
      let failure: Error | undefined
      let wake: (() => void) | undefined
      const notify = () => {
        const resume = wake
        wake = undefined
        resume?.()
      }
      body.on('data', (chunk: Uint8Array) => {
        chunks.push(chunk)
        if (chunks.length >= HIGH_WATER) body.pause()
        notify()
      })
      body.once('end', () => {
        ended = true
        notify()
      })
      body.once('error', (err) => {
        failure = mapError(err)
        notify()
      })
      const waitForEvent = () =>
        new Promise<void>((resolve) => {
          wake = resolve
        })
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          for (;;) {
            const value = chunks.shift()
            if (value !== undefined) {
              if (chunks.length === 0 && body.isPaused()) body.resume()
              return { done: false, value }
            }
            if (failure) throw failure
            if (ended) return { done: true, value: undefined }
            await waitForEvent()
          }
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          if (!ended && !failure) body.dump().catch(() => {})
          return { done: true, value: undefined }
        },
      }
    },
  }
}
