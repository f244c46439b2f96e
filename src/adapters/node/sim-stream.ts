// Streams of the sim: SSE frames (or Gemini's) paced by `ttft_ms` and `chunk_gap_ms`, with the stall and drop
// faults. Every function is module-level and keeps its state on the Exchange.
import type { ServerResponse } from 'node:http'
import type { ChatStreamFrames } from '../../sim/chat-stream.js'
import { type Exchange, requestId, type SimState } from './sim-exchange.js'

export function startStream(
  ex: Exchange,
  sim: SimState,
  stream: ChatStreamFrames,
  contentType = 'text/event-stream',
): void {
  const { frames, contentStart, contentEnd } = stream
  const behaviour = sim.behaviour
  ex.simFrames = frames
  ex.simContentStart = contentStart
  ex.simContentEnd = contentEnd
  ex.simGapMs = behaviour.chunk_gap_ms
  const stall = behaviour.stall_after_chunks
  // A stall past the last content chunk holds back the finish chunk: the stream never completes.
  ex.simStallAt = stall === null ? -1 : Math.min(contentStart + stall, contentEnd)
  // A drop of 0 comes right after the head, before even the role (or message_start) frames.
  const drop = behaviour.drop_after_chunks
  ex.simDropAt = drop === null ? -1 : drop === 0 ? 0 : Math.min(contentStart + drop, contentEnd)
  sim.stats.streams++
  const res = ex.simReply!
  res.writeHead(200, {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'x-request-id': requestId(sim),
  })
  if (behaviour.ttft_ms > 0) {
    // The head is due now (after latency_ms); only the first chunk waits.
    res.flushHeaders()
    ex.simTimer = setTimeout(pump, behaviour.ttft_ms, ex)
  } else pump(ex)
}

/**
 * Writes every frame that is due, in one write: the role chunks and the first content chunk at once, then
 * each later content chunk after `chunk_gap_ms`, and the finish, usage and [DONE] frames right after the
 * last content chunk. A frame is written as soon as it is due, never held back.
 */
function pump(ex: Exchange): void {
  ex.simTimer = null
  const res = ex.simReply!
  const frames = ex.simFrames
  if (frames === null || res.destroyed) return
  let out = ''
  let i = ex.simNext
  while (i < frames.length) {
    if (i === ex.simDropAt) {
      ex.simNext = i
      drop(ex, res, out)
      return
    }
    if (i === ex.simStallAt) {
      // Hold the connection open, sending nothing, until the client gives up (or close() destroys it).
      ex.simNext = i
      if (out !== '') res.write(out)
      return
    }
    if (ex.simGapMs > 0 && i > ex.simContentStart && i < ex.simContentEnd && ex.simWaited !== i) {
      ex.simNext = i
      ex.simWaited = i
      if (out !== '') res.write(out)
      ex.simTimer = setTimeout(pump, ex.simGapMs, ex)
      return
    }
    out += frames[i]
    i++
  }
  ex.simNext = i
  res.end(out)
}

/**
 * `drop_after_chunks`: writes what is due (the head at least), then destroys the socket once that is on the
 * wire, so the client sees the chunks, then the connection end without the stream's end.
 */
function drop(ex: Exchange, res: ServerResponse<Exchange>, out: string): void {
  ex.simCut = true
  ex.simFrames = null
  ex.simState!.stats.drops++
  // A fault path: the one closure here is not on the hot path.
  res.write(out, () => res.destroy())
}
