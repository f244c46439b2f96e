// Google's Gemini API for the simulated upstream. A generateContent request is read as its OpenAI equivalent,
// so it gets the answer the OpenAI sim gives that equivalent, rendered as a GenerateContentResponse or as a
// stream of them; embeddings are the OpenAI sim's vectors. Pure and runtime-agnostic, like the rest of src/sim.

import { type ChatPlan, type ChatPlanOptions, chatPromptTokens, planChat } from './chat.js'
import type { ChatStreamFrames } from './chat-stream.js'
import { embeddingVector } from './embeddings.js'
import { isObject, isPositiveInt, type JsonObject } from './wire.js'

export type GeminiPart = { text: string } | { functionCall: { name: string; args: unknown } }

export type GeminiFinishReason = 'STOP' | 'MAX_TOKENS'

export interface GeminiCandidate {
  content: { parts: GeminiPart[]; role: 'model' }
  finishReason?: GeminiFinishReason
  index: number
}

export interface GeminiUsage {
  promptTokenCount: number
  candidatesTokenCount: number
  totalTokenCount: number
}

export interface GeminiResponse {
  candidates: GeminiCandidate[]
  usageMetadata?: GeminiUsage
  modelVersion: string
  responseId: string
}

export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] }
}

// google.rpc.Code names by HTTP status, as Google's APIs send them.
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

/** Gemini's error shape; the status name follows the HTTP status. */
export function geminiError(code: number, message: string, details?: unknown[]): GeminiErrorBody {
  const status = STATUS_NAMES[code] ?? (code >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT')
  return { error: details === undefined ? { code, message, status } : { code, message, status, details } }
}

const STATUS_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Simulated bad request.',
  401: 'Request had invalid authentication credentials.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
}

/** The body for a status set by the `status` or `error_rate` knobs (the server quotes the key in a 401). */
export function geminiStatusError(status: number): GeminiErrorBody {
  const message =
    STATUS_MESSAGES[status] ??
    (status >= 500 ? `Simulated upstream error (${status}).` : `Simulated client error (${status}).`)
  return geminiError(status, message)
}

/** Gemini's answer to a wrong key: a 400 with an ErrorInfo whose reason is API_KEY_INVALID. */
export function geminiInvalidKey(message: string): GeminiErrorBody {
  return geminiError(400, message, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ])
}

function contentsProblem(contents: unknown, where: string): string | null {
  if (!Array.isArray(contents) || contents.length === 0) {
    return `* ${where}.contents: contents is not specified`
  }
  for (const [i, content] of contents.entries()) {
    if (!isObject(content)) return `* ${where}.contents[${i}]: expected an object`
    const role = content.role
    if (role !== undefined && role !== 'user' && role !== 'model' && role !== 'function') {
      return 'Please use a valid role: user, model.'
    }
    if (!Array.isArray(content.parts) || content.parts.length === 0) {
      return `* ${where}.contents[${i}].parts: contents.parts must not be empty.`
    }
  }
  return null
}

/** What Gemini would reject in a generateContent request, in its own words; null when the sim can answer. */
export function geminiGenerateProblem(body: unknown): string | null {
  if (!isObject(body)) return 'Invalid JSON payload received. Expected an object.'
  const problem = contentsProblem(body.contents, 'GenerateContentRequest')
  if (problem !== null) return problem
  const config = body.generationConfig
  if (config !== undefined && !isObject(config))
    return 'Invalid JSON payload received. Unknown name "generationConfig".'
  if (isObject(config)) {
    const count = config.candidateCount
    if (count !== undefined && (!isPositiveInt(count) || count > 8)) {
      return '* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8.'
    }
    const max = config.maxOutputTokens
    if (max !== undefined && !isPositiveInt(max)) {
      return '* GenerateContentRequest.generation_config.max_output_tokens: must be a positive integer.'
    }
  }
  return null
}

/** A countTokens request holds `contents` or a whole `generateContentRequest`. */
export function geminiCountTokensProblem(body: unknown): string | null {
  if (!isObject(body)) return 'Invalid JSON payload received. Expected an object.'
  if (isObject(body.generateContentRequest)) return geminiGenerateProblem(body.generateContentRequest)
  return contentsProblem(body.contents, 'CountTokensRequest')
}

function partsText(parts: unknown): string {
  if (!Array.isArray(parts)) return typeof parts === 'string' ? parts : ''
  return parts
    .filter((p): p is JsonObject => isObject(p) && typeof p.text === 'string')
    .map((p) => p.text as string)
    .join('\n')
}

/** A Gemini part as an OpenAI content part. */
function chatPart(part: JsonObject): unknown {
  if (typeof part.text === 'string') return { type: 'text', text: part.text }
  if (isObject(part.inlineData)) {
    const data = part.inlineData
    const url = `data:${String(data.mimeType)};base64,${String(data.data)}`
    return { type: 'image_url', image_url: { url } }
  }
  if (isObject(part.fileData)) return { type: 'image_url', image_url: { url: part.fileData.fileUri } }
  return part
}

/** One Gemini content as OpenAI messages: function responses become `tool` messages, calls `tool_calls`. */
function chatMessages(content: JsonObject): JsonObject[] {
  const parts = Array.isArray(content.parts) ? content.parts.filter(isObject) : []
  if (content.role === 'model') {
    const calls = parts
      .filter((p) => isObject(p.functionCall))
      .map((p) => {
        const call = p.functionCall as JsonObject
        return {
          id: call.id ?? call.name,
          type: 'function',
          function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
        }
      })
    const text = parts.filter((p) => typeof p.text === 'string')
    const out: JsonObject = { role: 'assistant', content: text.length > 0 ? partsText(text) : null }
    if (calls.length > 0) out.tool_calls = calls
    return [out]
  }
  const out: JsonObject[] = []
  const rest: unknown[] = []
  for (const part of parts) {
    if (isObject(part.functionResponse)) {
      const response = part.functionResponse
      out.push({
        role: 'tool',
        tool_call_id: response.id ?? response.name,
        content: JSON.stringify(response.response ?? {}),
      })
    } else rest.push(chatPart(part))
  }
  if (rest.length > 0) {
    // A list of parts that are all text becomes a string, as most OpenAI requests send it.
    const allText = rest.every((p) => isObject(p) && p.type === 'text')
    out.push({ role: 'user', content: allText ? partsText(rest) : rest })
  }
  return out
}

/** Gemini's schemas may spell types in upper case (OpenAPI style); JSON Schema's are lower case. */
function lowerTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerTypes)
  if (!isObject(schema)) return schema
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(schema)) {
    out[key] = key === 'type' && typeof value === 'string' ? value.toLowerCase() : lowerTypes(value)
  }
  return out
}

function chatTools(tools: unknown): JsonObject[] {
  if (!Array.isArray(tools)) return []
  const out: JsonObject[] = []
  for (const tool of tools) {
    if (!isObject(tool) || !Array.isArray(tool.functionDeclarations)) continue
    for (const declaration of tool.functionDeclarations) {
      if (!isObject(declaration) || typeof declaration.name !== 'string') continue
      const fn: JsonObject = { name: declaration.name }
      if (declaration.description !== undefined) fn.description = declaration.description
      const parameters = declaration.parameters ?? declaration.parametersJsonSchema
      if (parameters !== undefined) fn.parameters = lowerTypes(parameters)
      out.push({ type: 'function', function: fn })
    }
  }
  return out
}

function chatToolChoice(toolConfig: unknown): unknown {
  const config = isObject(toolConfig) ? toolConfig.functionCallingConfig : undefined
  if (!isObject(config)) return undefined
  if (config.mode === 'ANY') {
    const allowed = config.allowedFunctionNames
    if (Array.isArray(allowed) && typeof allowed[0] === 'string') {
      return { type: 'function', function: { name: allowed[0] } }
    }
    return 'required'
  }
  if (config.mode === 'NONE') return 'none'
  if (config.mode === 'AUTO' || config.mode === 'VALIDATED') return 'auto'
  return undefined
}

/**
 * The OpenAI chat request a generateContent request means, with keys in a fixed order (model, messages, n,
 * max_tokens, temperature, top_p, stop, tools, tool_choice): its answer is the Gemini answer.
 * `systemInstruction` becomes the first message, `candidateCount` is `n`, function-calling mode ANY is
 * "required" (or the first allowed function, by name).
 *
 * @example geminiToChat({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, 'gemini-2.5-flash')
 * // { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }
 */
export function geminiToChat(body: JsonObject, model: string): JsonObject {
  const messages: JsonObject[] = []
  const system = body.systemInstruction ?? body.system_instruction
  if (system !== undefined) {
    messages.push({ role: 'system', content: isObject(system) ? partsText(system.parts) : partsText(system) })
  }
  if (Array.isArray(body.contents)) {
    for (const content of body.contents) if (isObject(content)) messages.push(...chatMessages(content))
  }
  const chat: JsonObject = { model, messages }
  const config = isObject(body.generationConfig) ? body.generationConfig : {}
  if (config.candidateCount !== undefined) chat.n = config.candidateCount
  if (config.maxOutputTokens !== undefined) chat.max_tokens = config.maxOutputTokens
  if (config.temperature !== undefined) chat.temperature = config.temperature
  if (config.topP !== undefined) chat.top_p = config.topP
  if (config.stopSequences !== undefined) chat.stop = config.stopSequences
  const tools = chatTools(body.tools)
  if (tools.length > 0) chat.tools = tools
  const choice = chatToolChoice(body.toolConfig)
  if (choice !== undefined) chat.tool_choice = choice
  return chat
}

/** Prompt tokens of a generateContent or countTokens request: those of its OpenAI equivalent. */
export function geminiPromptTokens(body: JsonObject, model: string): number {
  const request = isObject(body.generateContentRequest) ? body.generateContentRequest : body
  return chatPromptTokens(geminiToChat(request, model))
}

/** Plans the answer to a generateContent request (validate it with `geminiGenerateProblem` first). */
export function planGemini(
  body: JsonObject,
  model: string,
  options: Pick<ChatPlanOptions, 'chunks'> = {},
): ChatPlan {
  return planChat(geminiToChat(body, model), options)
}

function finishReason(plan: ChatPlan['choices'][number]): GeminiFinishReason {
  return plan.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP'
}

/** A choice's parts as Gemini streams them: one text part per word, or the function call whole. */
function streamParts(choice: ChatPlan['choices'][number]): GeminiPart[] {
  const call = choice.toolCall
  if (call === null) return choice.pieces.map((text) => ({ text }))
  return [{ functionCall: { name: call.function.name, args: JSON.parse(call.function.arguments) } }]
}

function usageMetadata(plan: ChatPlan): GeminiUsage {
  return {
    promptTokenCount: plan.usage.prompt_tokens,
    candidatesTokenCount: plan.usage.completion_tokens,
    totalTokenCount: plan.usage.total_tokens,
  }
}

function responseId(plan: ChatPlan): string {
  return plan.id.slice(plan.id.indexOf('-') + 1)
}

/** Renders a plan as a non-streamed GenerateContentResponse, one candidate per choice. */
export function geminiResponse(plan: ChatPlan): GeminiResponse {
  return {
    candidates: plan.choices.map((choice) => ({
      content: {
        parts: choice.toolCall === null ? [{ text: choice.content ?? '' }] : streamParts(choice),
        role: 'model' as const,
      },
      finishReason: finishReason(choice),
      index: choice.index,
    })),
    usageMetadata: usageMetadata(plan),
    modelVersion: plan.model,
    responseId: responseId(plan),
  }
}

/**
 * The responses of a streamed answer: one per text part (a word) or function call, candidates interleaved
 * for `candidateCount` > 1, then a last one with an empty text part, every candidate's finishReason and the
 * usageMetadata (Gemini ends a stream like this, and it is where a stall holds back the finish).
 */
export function geminiStreamResponses(plan: ChatPlan): { responses: GeminiResponse[]; contentEnd: number } {
  const meta = { modelVersion: plan.model, responseId: responseId(plan) }
  const parts = plan.choices.map(streamParts)
  const responses: GeminiResponse[] = []
  const longest = parts.reduce((max, list) => Math.max(max, list.length), 0)
  for (let step = 0; step < longest; step++) {
    for (const [i, choice] of plan.choices.entries()) {
      const part = parts[i]![step]
      if (part === undefined) continue
      responses.push({
        candidates: [{ content: { parts: [part], role: 'model' }, index: choice.index }],
        ...meta,
      })
    }
  }
  const contentEnd = responses.length
  responses.push({
    candidates: plan.choices.map((choice) => ({
      content: { parts: [{ text: '' }], role: 'model' as const },
      finishReason: finishReason(choice),
      index: choice.index,
    })),
    usageMetadata: usageMetadata(plan),
    ...meta,
  })
  return { responses, contentEnd }
}

/**
 * The streamed answer as frames: with `sse` (`?alt=sse`) `data: <response>` events separated by CRLF
 * pairs, as Google sends them; otherwise one JSON array written element by element (streamGenerateContent
 * without `alt=sse`). Content frames start at 0: Gemini has no role or start event.
 */
export function geminiStreamFrames(plan: ChatPlan, sse: boolean): ChatStreamFrames {
  const { responses, contentEnd } = geminiStreamResponses(plan)
  const last = responses.length - 1
  const frames = responses.map((response, i) => {
    const json = JSON.stringify(response)
    if (sse) return `data: ${json}\r\n\r\n`
    return (i === 0 ? '[' : ',\r\n') + json + (i === last ? ']' : '')
  })
  return { frames, contentStart: 0, contentEnd }
}

// ---------------------------------------------------------------------------------------------------------
// Embeddings

/** What text-embedding-004 answers by default; `outputDimensionality` picks another size. */
export const DEFAULT_GEMINI_EMBEDDING_DIMENSIONS = 768

function embedRequestProblem(request: unknown, where: string): string | null {
  if (!isObject(request)) return `* ${where}: expected an object`
  if (
    !isObject(request.content) ||
    !Array.isArray(request.content.parts) ||
    request.content.parts.length === 0
  ) {
    return `* ${where}.content: content is not specified`
  }
  const dimensions = request.outputDimensionality
  if (dimensions !== undefined && (!isPositiveInt(dimensions) || dimensions > 16_384)) {
    return `* ${where}.output_dimensionality: must be between 1 and 16384.`
  }
  return null
}

/** What Gemini would reject in an embedContent (or, with `batch`, a batchEmbedContents) request. */
export function geminiEmbedProblem(body: unknown, batch: boolean): string | null {
  if (!isObject(body)) return 'Invalid JSON payload received. Expected an object.'
  if (!batch) return embedRequestProblem(body, 'EmbedContentRequest')
  if (!Array.isArray(body.requests) || body.requests.length === 0) {
    return '* BatchEmbedContentsRequest.requests: requests is not specified'
  }
  for (const [i, request] of body.requests.entries()) {
    const problem = embedRequestProblem(request, `BatchEmbedContentsRequest.requests[${i}]`)
    if (problem !== null) return problem
  }
  return null
}

/**
 * One embedding: the OpenAI sim's vector for the same model, text (the parts' text, joined by newlines)
 * and dimensions, so a gateway translating OpenAI embeddings to Gemini gets the same numbers back.
 */
export function geminiEmbedding(model: string, request: JsonObject): { values: number[] } {
  const content = isObject(request.content) ? request.content : {}
  const dimensions = isPositiveInt(request.outputDimensionality)
    ? request.outputDimensionality
    : DEFAULT_GEMINI_EMBEDDING_DIMENSIONS
  return { values: Array.from(embeddingVector(model, partsText(content.parts), dimensions)) }
}

/** The answer to embedContent (validate with `geminiEmbedProblem` first). */
export function geminiEmbedContent(model: string, body: JsonObject): { embedding: { values: number[] } } {
  return { embedding: geminiEmbedding(model, body) }
}

/** The answer to batchEmbedContents: every request embedded with the path's model. */
export function geminiBatchEmbedContents(
  model: string,
  body: JsonObject,
): { embeddings: { values: number[] }[] } {
  const requests = Array.isArray(body.requests) ? body.requests.filter(isObject) : []
  return { embeddings: requests.map((request) => geminiEmbedding(model, request)) }
}
