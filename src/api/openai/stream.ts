import type { GatewayError } from '../../core/errors.js'

const encoder = new TextEncoder()
const DONE = encoder.encode('data: [DONE]\n\n')

export type StreamOutcome =
  | { kind: 'complete' }
  | { kind: 'error'; error: GatewayError }
  | { kind: 'cancelled' }

function frame(batch: string[]): Uint8Array {
  let text = ''
  for (const data of batch) text += `data: ${data}\n\n`
  return encoder.encode(text)
}

/**
 * Frames OpenAI chunk payloads as server-sent events, each batch (what one upstream read brought) in one
 * write as it arrives, never the stream buffered whole, ending with `data: [DONE]`. A failure after the first
 * byte can no longer change the status, so it is sent as a final `data: {"error":…}` event, which OpenAI's
 * SDKs raise as an error, and the stream is closed. `onEnd` is called exactly once.
 */
export function sseBody(
  first: string[] | undefined,
  rest: AsyncIterator<string[]>,
  toError: (err: unknown) => GatewayError,
  onEnd: (outcome: StreamOutcome) => void,
  cancel: () => void,
  /** Text written just before `data: [DONE]` (an SSE comment with the stream's cost). */
  trailer?: () => string,
): ReadableStream<Uint8Array> {
  let pending = first
  let ended = false
  const end = (outcome: StreamOutcome) => {
    if (ended) return false
    ended = true
    onEnd(outcome)
    return true
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending !== undefined) {
        controller.enqueue(frame(pending))
        pending = undefined
        return
      }
      try {
        const next = await rest.next()
        if (ended) return
        if (next.done) {
          controller.enqueue(trailer === undefined ? DONE : encoder.encode(`${trailer()}data: [DONE]\n\n`))
          controller.close()
          end({ kind: 'complete' })
        } else {
          controller.enqueue(frame(next.value))
        }
      } catch (err) {
        const error = toError(err)
        if (!end({ kind: 'error', error })) return
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(error.toJSON())}\n\n`))
        controller.close()
      }
    },
    cancel() {
      if (end({ kind: 'cancelled' })) cancel()
    },
  })
}
