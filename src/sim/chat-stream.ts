// A chat answer as a stream: the SSE frames the simulator sends, and the same chunks as objects for tests.

import type { ChatPlan } from './chat.js'
import type { ChatCompletionChunk } from './wire.js'

/** `frames[contentStart..contentEnd)` carry content or tool-call arguments, one piece each. */
export interface ChatStreamFrames {
  /** `data: <chunk JSON>\n\n` each, the last one `data: [DONE]\n\n`. */
  frames: string[]
  contentStart: number
  contentEnd: number
}

/**
 * The SSE frames of a streamed answer: per choice a role chunk, then the content pieces (choices
 * interleaved, as OpenAI does for n > 1), a finish chunk per choice, with `includeUsage` a last chunk with
 * `choices: []` and the usage (every earlier chunk carrying `usage: null`), then `[DONE]`.
 * Frames are filled into string templates instead of a JSON.stringify per chunk object: streaming is the
 * latency benchmark's hot path, and this is about five times faster.
 */
export function chatStreamFrames(plan: ChatPlan, created: number, includeUsage: boolean): ChatStreamFrames {
  const head =
    `data: {"id":${JSON.stringify(plan.id)},"object":"chat.completion.chunk","created":${created},` +
    `"model":${JSON.stringify(plan.model)},"system_fingerprint":${JSON.stringify(plan.fingerprint)},"choices":[`
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n'
  const pending = ',"logprobs":null,"finish_reason":null}'
  const frames: string[] = []
  for (const choice of plan.choices) {
    const call = choice.toolCall
    const delta =
      call === null
        ? '{"role":"assistant","content":"","refusal":null}'
        : `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":${JSON.stringify(call.id)},` +
          `"type":"function","function":{"name":${JSON.stringify(call.function.name)},"arguments":""}}],"refusal":null}`
    frames.push(`${head}{"index":${choice.index},"delta":${delta}${pending}${tail}`)
  }
  const contentStart = frames.length
  const longest = plan.choices.reduce((max, choice) => Math.max(max, choice.pieces.length), 0)
  for (let step = 0; step < longest; step++) {
    for (const choice of plan.choices) {
      const piece = choice.pieces[step]
      if (piece === undefined) continue
      const delta =
        choice.toolCall === null
          ? `{"content":${JSON.stringify(piece)}}`
          : `{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(piece)}}}]}`
      frames.push(`${head}{"index":${choice.index},"delta":${delta}${pending}${tail}`)
    }
  }
  const contentEnd = frames.length
  for (const choice of plan.choices) {
    const finish = `,"logprobs":null,"finish_reason":"${choice.finishReason}"}`
    frames.push(`${head}{"index":${choice.index},"delta":{}${finish}${tail}`)
  }
  if (includeUsage) frames.push(`${head}],"usage":${JSON.stringify(plan.usage)}}\n\n`)
  frames.push('data: [DONE]\n\n')
  return { frames, contentStart, contentEnd }
}

export interface ChatStream {
  chunks: ChatCompletionChunk[]
  contentStart: number
  contentEnd: number
}

/** The same stream as `chat.completion.chunk` objects, for tests and fixtures (the server sends the frames). */
export function chatCompletionStream(plan: ChatPlan, created: number, includeUsage: boolean): ChatStream {
  const { frames, contentStart, contentEnd } = chatStreamFrames(plan, created, includeUsage)
  const chunks = frames
    .slice(0, -1)
    .map((frame) => JSON.parse(frame.slice('data: '.length, -2)) as ChatCompletionChunk)
  return { chunks, contentStart, contentEnd }
}
