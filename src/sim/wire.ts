// The OpenAI wire shapes the simulated upstream answers with, and its models list and error envelopes.
// Pure and runtime-agnostic like the rest of src/sim: no node:*, no Buffer, no clock (callers pass `created`).

/** A parsed JSON object from a request body. */
export type JsonObject = Record<string, unknown>

/** True for a JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** True for an integer of at least 1, as `n`, `max_tokens` and `dimensions` must be. */
export function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1
}

export type FinishReason = 'stop' | 'length' | 'tool_calls'

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: {
    index: number
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: ToolCall[] }
    logprobs: null
    finish_reason: FinishReason
  }[]
  usage: Usage
  system_fingerprint: string
}

export interface ChunkDelta {
  role?: 'assistant'
  content?: string | null
  refusal?: null
  tool_calls?: {
    index: number
    id?: string
    type?: 'function'
    function: { name?: string; arguments: string }
  }[]
}

export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  system_fingerprint: string
  choices: { index: number; delta: ChunkDelta; logprobs: null; finish_reason: FinishReason | null }[]
  usage?: Usage | null
}

export interface EmbeddingList {
  object: 'list'
  data: { object: 'embedding'; index: number; embedding: number[] | string }[]
  model: string
  usage: { prompt_tokens: number; total_tokens: number }
}

export interface ModelObject {
  id: string
  object: 'model'
  created: number
  owned_by: string
}

export interface ModelList {
  object: 'list'
  data: ModelObject[]
}

export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** What is wrong with a request, in the terms of OpenAI's 400 envelope. */
export interface RequestProblem {
  message: string
  param: string | null
}

// ---------------------------------------------------------------------------------------------------------
// Models and errors

export const SIM_OWNER = 'meridian-sim'

/** The models list; `created` is fixed by the caller so the list is stable. */
export function modelList(ids: readonly string[], created: number): ModelList {
  return { object: 'list', data: ids.map((id) => modelObject(id, created)) }
}

export function modelObject(id: string, created: number): ModelObject {
  return { id, object: 'model', created, owned_by: SIM_OWNER }
}

/** The one error wire shape. */
export function errorEnvelope(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): ErrorEnvelope {
  return { error: { message, type, param, code } }
}

type StatusError = readonly [message: string, type: string, code: string | null]

// What real providers send for these statuses, so gateway error mapping meets realistic bodies.
const STATUS_ERRORS: Readonly<Record<number, StatusError>> = {
  400: ['Simulated bad request.', 'invalid_request_error', null],
  403: ['You are not allowed to sample from this model.', 'permission_error', null],
  404: [
    'The model does not exist or you do not have access to it.',
    'invalid_request_error',
    'model_not_found',
  ],
  408: ['Request timed out.', 'timeout', null],
  429: [
    'Rate limit reached for requests (simulated). Please try again in 1s.',
    'requests',
    'rate_limit_exceeded',
  ],
  500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
  503: ['The engine is currently overloaded, please try again later.', 'server_error', null],
}

/** The envelope for a status set by the `status` or `error_rate` knobs (401 is the server's: it quotes the key). */
export function statusEnvelope(status: number): ErrorEnvelope {
  const known = STATUS_ERRORS[status]
  if (known !== undefined) return errorEnvelope(known[0], known[1], null, known[2])
  return status >= 500
    ? errorEnvelope(`Simulated upstream error (${status}).`, 'server_error')
    : errorEnvelope(`Simulated client error (${status}).`, 'invalid_request_error')
}
