import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../provider.js'
import { THOUGHT_MARKER } from './request.js'

/** The parts of Gemini's `GenerateContentResponse` Meridian reads. */
export interface GeminiResponse {
  candidates?: GeminiCandidate[]
  promptFeedback?: { blockReason?: string }
  usageMetadata?: GeminiUsage
  modelVersion?: string
  responseId?: string
  createTime?: string
  error?: unknown
}

export interface GeminiCandidate {
  index?: number
  content?: { role?: string; parts?: GeminiPart[] }
  finishReason?: string
  logprobsResult?: GeminiLogprobs
}

export interface GeminiPart {
  text?: string
  /** A thought summary: the model's reasoning, never part of the answer. */
  thought?: boolean
  thoughtSignature?: string
  functionCall?: { name: string; args?: JsonObject }
}

export interface GeminiUsage {
  promptTokenCount?: number
  candidatesTokenCount?: number
  thoughtsTokenCount?: number
  toolUsePromptTokenCount?: number
  cachedContentTokenCount?: number
  totalTokenCount?: number
}

interface LogprobCandidate {
  token?: string
  logProbability?: number
}

export interface GeminiLogprobs {
  chosenCandidates?: LogprobCandidate[]
  topCandidates?: { candidates?: LogprobCandidate[] }[]
}

/** What a response needs from its request (the pipeline's context; see index.ts). */
export interface ResponseContext {
  /** The upstream model name, used when Gemini's answer names none. */
  model: string
  /** Unix seconds, used when Gemini's answer carries no createTime. */
  created: number
}

/** A short, stable digest (two FNV-1a 32-bit passes), for ids derived from content. */
export function digest(text: string): string {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15)
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}

/** The completion's id: Gemini's responseId when it sent one, else a digest of the answer itself. */
export function completionId(response: GeminiResponse, text: string): string {
  return `chatcmpl-${response.responseId ?? digest(text)}`
}

/**
 * A tool call's id, deterministic (the same answer gives the same ids, streamed or not): a digest of the
 * response, the candidate and the call's position. Gemini 3 must be sent its thought signature back with the
 * call on the next turn; OpenAI's format has no place for it, so it rides in the id, which every client
 * returns unchanged (request.ts takes it out again).
 */
export function toolCallId(responseKey: string, candidate: number, n: number, signature?: string): string {
  const id = `call_${digest(`${responseKey}:${candidate}:${n}`)}`
  return signature ? `${id}${THOUGHT_MARKER}${signature}` : id
}

/** Safety and policy stops: the answer was withheld or cut by a filter. */
const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
])

/**
 * Gemini's finishReason → OpenAI's finish_reason. STOP is `tool_calls` when the candidate called a function;
 * MAX_TOKENS is `length`; safety, recitation and policy stops are `content_filter`; the rest (OTHER,
 * LANGUAGE, MALFORMED_FUNCTION_CALL, values added later) end the answer without a reason OpenAI can name: `stop`.
 */
export function finishReason(reason: string, calledTools: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length'
  if (FILTERED.has(reason)) return 'content_filter'
  return calledTools ? 'tool_calls' : 'stop'
}

/**
 * usageMetadata → OpenAI usage. Thinking tokens are output OpenAI-style: in completion_tokens and
 * `completion_tokens_details.reasoning_tokens`; tokens of tool-use prompts count as prompt; so
 * prompt + completion = total. The cached share of the prompt is `prompt_tokens_details.cached_tokens`.
 */
export function toUsage(usage: GeminiUsage): JsonObject {
  const prompt = (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0)
  const thoughts = usage.thoughtsTokenCount ?? 0
  const completion = (usage.candidatesTokenCount ?? 0) + thoughts
  const out: JsonObject = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.totalTokenCount ?? prompt + completion,
  }
  if (usage.cachedContentTokenCount !== undefined) {
    out.prompt_tokens_details = { cached_tokens: usage.cachedContentTokenCount }
  }
  if (usage.thoughtsTokenCount !== undefined) out.completion_tokens_details = { reasoning_tokens: thoughts }
  return out
}

const utf8 = new TextEncoder()

function tokenLogprob(candidate: LogprobCandidate): JsonObject {
  const token = candidate.token ?? ''
  return { token, logprob: candidate.logProbability ?? 0, bytes: [...utf8.encode(token)] }
}

/** logprobsResult → OpenAI's `logprobs.content` (chosen token, its bytes and the top alternatives per step). */
export function toLogprobs(result: GeminiLogprobs | undefined): JsonObject | null {
  if (!result?.chosenCandidates) return null
  const top = result.topCandidates ?? []
  return {
    content: result.chosenCandidates.map((chosen, i) => ({
      ...tokenLogprob(chosen),
      top_logprobs: (top[i]?.candidates ?? []).map(tokenLogprob),
    })),
    refusal: null,
  }
}

/** Unix seconds: Gemini's createTime (Vertex sends one), else the request's clock. */
export function createdAt(response: GeminiResponse, fallback: number): number {
  const time = response.createTime ? Date.parse(response.createTime) : Number.NaN
  return Number.isNaN(time) ? fallback : Math.floor(time / 1000)
}

export function parseJson<T>(text: string, providerId: string): T {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError(
      'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
      `upstream ${providerId} sent a body that is not a JSON object`,
    )
  }
  return value as T
}

/**
 * Gemini `GenerateContentResponse` → OpenAI `chat.completion` JSON text: one choice per candidate (text parts
 * joined, thought parts left out, function calls as tool_calls). A prompt Gemini refused to answer
 * (promptFeedback.blockReason, no candidates) is a completion, not an error: one choice with no content and
 * finish_reason `content_filter`, as OpenAI reports its own filter.
 *
 * @example parseChat('{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}', 'g', ctx)
 */
export function parseChat(text: string, providerId: string, context: ResponseContext): string {
  const response = parseJson<GeminiResponse>(text, providerId)
  const key = response.responseId ?? digest(text)
  const candidates = response.candidates ?? []
  const choices: JsonObject[] = candidates.map((candidate, position) => {
    const index = candidate.index ?? position
    let content: string | null = null
    const toolCalls: JsonObject[] = []
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall) {
        toolCalls.push({
          id: toolCallId(key, index, toolCalls.length, part.thoughtSignature),
          type: 'function',
          function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
        })
      } else if (typeof part.text === 'string' && !part.thought) {
        content = (content ?? '') + part.text
      }
    }
    const message: JsonObject = { role: 'assistant', content, refusal: null }
    if (toolCalls.length > 0) message.tool_calls = toolCalls
    return {
      index,
      message,
      logprobs: toLogprobs(candidate.logprobsResult),
      finish_reason: finishReason(candidate.finishReason ?? 'STOP', toolCalls.length > 0),
    }
  })
  if (choices.length === 0) {
    if (!response.promptFeedback?.blockReason) {
      throw new GatewayError(
        'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
        `upstream ${providerId} sent no candidates`,
      )
    }
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    })
  }
  const completion: JsonObject = {
    id: completionId(response, text),
    object: 'chat.completion',
    created: createdAt(response, context.created),
    model: response.modelVersion ?? context.model,
    choices,
  }
  if (response.usageMetadata) completion.usage = toUsage(response.usageMetadata)
  return JSON.stringify(completion)
}

/** What an embeddings answer needs from its request. */
export interface EmbeddingsContext {
  model: string
  /** OpenAI's `encoding_format`: `base64` is little-endian float32, base64-encoded. */
  encodingFormat?: unknown
  /** The request's input, to estimate the tokens Gemini does not count. */
  input?: unknown
}

/**
 * Gemini `batchEmbedContents` → OpenAI embeddings list JSON text. Gemini reports no token count for
 * embeddings, so usage is an estimate from the input (four ASCII characters or one other character a token,
 * the gateway's own rule for reservations), 0 when the input is unknown.
 */
export function parseEmbeddings(text: string, providerId: string, context: EmbeddingsContext): string {
  const response = parseJson<{ embeddings?: { values?: number[] }[] }>(text, providerId)
  if (!Array.isArray(response.embeddings)) {
    throw new GatewayError('MERIDIAN_UPSTREAM_INVALID_RESPONSE', `upstream ${providerId} sent no embeddings`)
  }
  const base64 = context.encodingFormat === 'base64'
  const data = response.embeddings.map((embedding, index) => {
    const values = embedding.values ?? []
    return { object: 'embedding', index, embedding: base64 ? float32Base64(values) : values }
  })
  const tokens = estimateTokens(context.input)
  return JSON.stringify({
    object: 'list',
    data,
    model: context.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  })
}

/** The floats as OpenAI's base64 embeddings carry them: float32, little-endian, base64 (btoa: any runtime). */
export function float32Base64(values: readonly number[]): string {
  const bytes = new Uint8Array(values.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

function estimateTokens(input: unknown): number {
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : []
  let tokens = 0
  for (const text of texts) {
    if (typeof text !== 'string') continue
    let ascii = 0
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 128) ascii++
    tokens += Math.ceil(ascii / 4) + (text.length - ascii)
  }
  return tokens
}
