import { GatewayError } from '../../core/errors.js'
import { SseParser } from '../../core/sse.js'
import type { JsonObject } from '../provider.js'
import { streamError } from './errors.js'
import {
  completionId,
  createdAt,
  digest,
  finishReason,
  type GeminiResponse,
  type GeminiUsage,
  parseJson,
  type ResponseContext,
  toLogprobs,
  toolCallId,
  toUsage,
} from './response.js'

/** What the stream transform needs of its request. */
export interface GeminiStreamOptions extends ResponseContext {
  providerId: string
  includeUsage: boolean
}

interface CandidateState {
  /** Tool calls sent so far: the next one's `index`. */
  calls: number
  finished: boolean
}

interface StreamState {
  /** The chunk envelope up to `"choices":[`, fixed by the first event. */
  head: string | undefined
  tail: string
  responseKey: string
  candidates: Map<number, CandidateState>
  usage: GeminiUsage | undefined
  /** A prompt Gemini refused: answered as one filtered choice. */
  blocked: boolean
}

/**
 * Gemini's `streamGenerateContent?alt=sse` → OpenAI `chat.completion.chunk` payloads. Each Gemini event is a
 * whole GenerateContentResponse holding the next piece of every candidate: per candidate, a first chunk with
 * the role, then text as `content` deltas, each function call (Gemini sends them whole) as one `tool_calls`
 * delta with its id, name and full arguments, and the finish_reason in a chunk of its own. With
 * `includeUsage`, every chunk carries `usage: null` and a last chunk (`choices: []`) the final usageMetadata.
 * Chunks leave in one batch per upstream read; a stream that ends before every candidate finished was cut
 * off (MERIDIAN_UPSTREAM_INVALID_RESPONSE); an error event becomes the GatewayError it maps to.
 *
 * @example for await (const batch of transformGeminiStream(res.body, options)) write(batch)
 */
export async function* transformGeminiStream(
  source: AsyncIterable<Uint8Array>,
  options: GeminiStreamOptions,
): AsyncIterable<string[]> {
  const parser = new SseParser()
  const state: StreamState = {
    head: undefined,
    tail: options.includeUsage ? '],"usage":null}' : ']}',
    responseKey: '',
    candidates: new Map(),
    usage: undefined,
    blocked: false,
  }
  for await (const bytes of source) {
    const batch: string[] = []
    try {
      translate(parser.push(bytes), state, options, batch)
    } catch (err) {
      // What came before the error in this read still reaches the client, as it would in smaller reads.
      if (batch.length > 0) yield batch
      throw err
    }
    if (batch.length > 0) yield batch
  }
  const batch: string[] = []
  try {
    translate(parser.end(), state, options, batch)
  } catch (err) {
    if (batch.length > 0) yield batch
    throw err
  }
  const finished =
    state.blocked ||
    (state.candidates.size > 0 && [...state.candidates.values()].every((candidate) => candidate.finished))
  if (!finished) {
    if (batch.length > 0) yield batch
    throw new GatewayError(
      'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
      `upstream ${options.providerId} ended the stream before it finished`,
    )
  }
  if (options.includeUsage && state.usage && state.head !== undefined) {
    const usage = JSON.stringify(toUsage(state.usage))
    batch.push(`${state.head}],"usage":${usage}}`)
  }
  if (batch.length > 0) yield batch
}

/** Appends the chunks for these events to `out`; throws on an error event or a body that is not JSON. */
function translate(events: string[], state: StreamState, options: GeminiStreamOptions, out: string[]): void {
  for (const data of events) {
    if (data.startsWith('{"error"') || data.startsWith('[{"error"'))
      throw streamError(options.providerId, data)
    const response = parseJson<GeminiResponse>(data, options.providerId)
    if (response.error !== undefined) throw streamError(options.providerId, data)
    if (state.head === undefined) {
      state.responseKey = response.responseId ?? digest(data)
      state.head =
        `{"id":${JSON.stringify(completionId(response, data))},"object":"chat.completion.chunk",` +
        `"created":${createdAt(response, options.created)},` +
        `"model":${JSON.stringify(response.modelVersion ?? options.model)},"choices":[`
    }
    if (response.usageMetadata) state.usage = response.usageMetadata
    const push = (index: number, delta: string, finish: string | null, logprobs = 'null') =>
      out.push(
        `${state.head}{"index":${index},"delta":${delta},"logprobs":${logprobs},` +
          `"finish_reason":${finish === null ? 'null' : JSON.stringify(finish)}}${state.tail}`,
      )
    const candidates = response.candidates ?? []
    if (candidates.length === 0 && response.promptFeedback?.blockReason && !state.blocked) {
      if (state.candidates.size === 0) {
        state.blocked = true
        push(0, '{"role":"assistant","content":null}', null)
        push(0, '{}', 'content_filter')
      }
      continue
    }
    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position
      let candidateState = state.candidates.get(index)
      if (candidateState === undefined) {
        candidateState = { calls: 0, finished: false }
        state.candidates.set(index, candidateState)
        push(index, '{"role":"assistant","content":""}', null)
      }
      if (candidateState.finished) return
      let text = ''
      for (const part of candidate.content?.parts ?? []) {
        if (typeof part.text === 'string' && !part.thought) text += part.text
      }
      const logprobs = toLogprobs(candidate.logprobsResult)
      if (text !== '' || logprobs !== null) {
        push(index, `{"content":${JSON.stringify(text)}}`, null, logprobs ? JSON.stringify(logprobs) : 'null')
      }
      for (const part of candidate.content?.parts ?? []) {
        if (!part.functionCall) continue
        const n = candidateState.calls++
        const call: JsonObject = {
          index: n,
          id: toolCallId(state.responseKey, index, n, part.thoughtSignature),
          type: 'function',
          function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
        }
        push(index, `{"tool_calls":[${JSON.stringify(call)}]}`, null)
      }
      if (candidate.finishReason) {
        candidateState.finished = true
        push(index, '{}', finishReason(candidate.finishReason, candidateState.calls > 0))
      }
    })
  }
}
