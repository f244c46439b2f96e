// Deterministic chat answers for the simulated upstream: request checks, prompt tokens, the answer plan and
// its rendering as a `chat.completion` (chat-stream.ts renders it as SSE frames). Pure and runtime-agnostic:
// no node:*, no Buffer, no clock (callers pass `created`), so the same request always yields the same bytes,
// stream or not, and cache and replay tests can compare them.

import { estimateTokens, fnv1a64, hex8, Prng, requestHash } from './hash.js'
import { argumentPieces, forcedTool, toolCall } from './tool-calls.js'
import { word } from './vocabulary.js'
import {
  type ChatCompletion,
  type FinishReason,
  isObject,
  isPositiveInt,
  type JsonObject,
  type RequestProblem,
  type ToolCall,
  type Usage,
} from './wire.js'

const DEFAULT_MIN_WORDS = 12
const DEFAULT_SPAN_WORDS = 29 // 12..40 words
const MESSAGE_OVERHEAD_TOKENS = 4

function messageChars(message: unknown): number {
  if (!isObject(message)) return 0
  let chars = 0
  const content = message.content
  if (typeof content === 'string') chars += content.length
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (isObject(part) && typeof part.text === 'string') chars += part.text.length
      else chars += JSON.stringify(part)?.length ?? 0
    }
  }
  if (message.tool_calls !== undefined) chars += JSON.stringify(message.tool_calls)?.length ?? 0
  return chars
}

/**
 * Prompt tokens of a chat request: for each message 4 + ceil(chars / 4), where chars counts string content,
 * text parts, the JSON of other parts and of `tool_calls`; plus ceil(JSON(tools).length / 4) when tools are sent.
 */
export function chatPromptTokens(body: JsonObject): number {
  let tokens = 0
  if (Array.isArray(body.messages)) {
    for (const message of body.messages)
      tokens += MESSAGE_OVERHEAD_TOKENS + Math.ceil(messageChars(message) / 4)
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) tokens += estimateTokens(JSON.stringify(body.tools))
  return tokens
}

/** Checks what the simulator relies on; `model` is the Azure deployment when the path names one. */
export function chatRequestProblem(body: unknown, model?: string): RequestProblem | null {
  if (!isObject(body)) return { message: 'The request body must be a JSON object.', param: null }
  if (model === undefined && (typeof body.model !== 'string' || body.model === '')) {
    return { message: 'you must provide a model parameter', param: 'model' }
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { message: "Invalid 'messages': expected a non-empty array of messages.", param: 'messages' }
  }
  if (body.n !== undefined && body.n !== null && (!isPositiveInt(body.n) || body.n > 128)) {
    return { message: "Invalid 'n': expected an integer between 1 and 128.", param: 'n' }
  }
  for (const key of ['max_tokens', 'max_completion_tokens']) {
    const value = body[key]
    if (value !== undefined && value !== null && !isPositiveInt(value)) {
      return { message: `Invalid '${key}': expected a positive integer.`, param: key }
    }
  }
  return null
}

export interface ChoicePlan {
  index: number
  /** The content as it is streamed: joined, it is `content`; for a tool call, the argument pieces. */
  pieces: string[]
  content: string | null
  toolCall: ToolCall | null
  finishReason: FinishReason
}

/** Everything an answer is made of, computed once and rendered as a completion or as stream chunks. */
export interface ChatPlan {
  id: string
  model: string
  fingerprint: string
  choices: ChoicePlan[]
  usage: Usage
}

export interface ChatPlanOptions {
  /** Exact number of words (and content chunks) per choice; null or absent lets the hash pick 12 to 40. */
  chunks?: number | null
  /** The model to answer as, when it is not the body's (an Azure deployment). */
  model?: string
}

function textPieces(rng: Prng, chunks: number | null | undefined): string[] {
  const count = chunks ?? DEFAULT_MIN_WORDS + rng.below(DEFAULT_SPAN_WORDS)
  const pieces = new Array<string>(count)
  for (let i = 0; i < count; i++) {
    const next = word(rng)
    pieces[i] = i === 0 ? next.charAt(0).toUpperCase() + next.slice(1) : ' ' + next
  }
  if (count > 0) pieces[count - 1] += '.'
  return pieces
}

/** Cuts pieces to at most `limit` characters, so the estimate of the kept text is exactly the token cap. */
function truncatePieces(pieces: string[], limit: number): string[] | null {
  let used = 0
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!
    if (used + piece.length > limit) {
      const kept = pieces.slice(0, i)
      if (limit > used) kept.push(piece.slice(0, limit - used))
      return kept
    }
    used += piece.length
  }
  return null
}

/**
 * Plans the answer to a chat request (validate it with `chatRequestProblem` first).
 *
 * @example planChat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).choices[0].content
 */
export function planChat(body: JsonObject, options: ChatPlanOptions = {}): ChatPlan {
  const model = options.model ?? String(body.model)
  const hash = requestHash(body, model)
  const n = isPositiveInt(body.n) ? body.n : 1
  const maxTokens = isPositiveInt(body.max_completion_tokens)
    ? body.max_completion_tokens
    : isPositiveInt(body.max_tokens)
      ? body.max_tokens
      : null
  const tool = forcedTool(body)
  const choices: ChoicePlan[] = []
  let completionTokens = 0
  for (let index = 0; index < n; index++) {
    const rng = new Prng(hash, index + 1)
    if (tool !== null) {
      const call = toolCall(rng, tool)
      completionTokens += estimateTokens(tool.name + call.function.arguments)
      choices.push({
        index,
        pieces: argumentPieces(call.function.arguments),
        content: null,
        toolCall: call,
        finishReason: 'tool_calls',
      })
      continue
    }
    let pieces = textPieces(rng, options.chunks)
    let finishReason: FinishReason = 'stop'
    if (maxTokens !== null) {
      const cut = truncatePieces(pieces, maxTokens * 4)
      if (cut !== null) {
        pieces = cut
        finishReason = 'length'
      }
    }
    const content = pieces.join('')
    completionTokens += estimateTokens(content)
    choices.push({ index, pieces, content, toolCall: null, finishReason })
  }
  const promptTokens = chatPromptTokens(body)
  const modelHash = fnv1a64(model)
  return {
    id: `chatcmpl-${hex8(hash.hi)}${hex8(hash.lo)}`,
    model,
    fingerprint: `fp_${(hex8(modelHash.hi) + hex8(modelHash.lo)).slice(0, 10)}`,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  }
}

/** Renders a plan as a non-streamed `chat.completion`. */
export function chatCompletion(plan: ChatPlan, created: number): ChatCompletion {
  return {
    id: plan.id,
    object: 'chat.completion',
    created,
    model: plan.model,
    choices: plan.choices.map((choice) => ({
      index: choice.index,
      message:
        choice.toolCall === null
          ? { role: 'assistant', content: choice.content, refusal: null }
          : { role: 'assistant', content: null, refusal: null, tool_calls: [choice.toolCall] },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: plan.usage,
    system_fingerprint: plan.fingerprint,
  }
}
