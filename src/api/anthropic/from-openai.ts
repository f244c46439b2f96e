import { GatewayError } from '../../core/errors.js'

type Json = Record<string, unknown>

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Anthropic's `stop_reason` values an OpenAI answer can produce. */
export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal'

/** Anthropic's usage object, in the order Anthropic sends its fields. */
export interface AnthropicUsage {
  input_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  output_tokens: number
}

/**
 * The Anthropic message id for an OpenAI completion id: deterministic, so a cached or replayed answer keeps
 * its id. `chatcmpl-abc` → `msg_abc`; another provider's id is kept whole.
 */
export function messageIdFor(completionId: unknown): string {
  if (typeof completionId !== 'string' || completionId === '') return 'msg_meridian'
  return `msg_${completionId.startsWith('chatcmpl-') ? completionId.slice('chatcmpl-'.length) : completionId}`
}

/**
 * The id of a tool_use block: the upstream's tool-call id, kept as it is because the client sends it back
 * as `tool_use_id`, which becomes the OpenAI `tool_call_id` again. A provider that sent none gets one made
 * from the message id and the call's position.
 */
export function toolUseId(id: unknown, messageId: string, index: number): string {
  return typeof id === 'string' && id !== '' ? id : `toolu_${messageId.slice('msg_'.length)}_${index}`
}

/**
 * OpenAI's `finish_reason` as Anthropic's `stop_reason`. A matched stop sequence is reported by OpenAI as
 * plain `stop`, so `stop_sequence` can never be known: `end_turn`. Some providers finish a tool-calling answer
 * with `stop`; clients loop on `tool_use`, so tool calls win. A refusal is Anthropic's `refusal`.
 */
export function stopReason(finish: unknown, toolUse: boolean, refusal: boolean): StopReason {
  if (finish === 'length') return 'max_tokens'
  if (finish === 'content_filter' || refusal) return 'refusal'
  if (toolUse || finish === 'tool_calls' || finish === 'function_call') return 'tool_use'
  return 'end_turn'
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0

/**
 * OpenAI usage as Anthropic's. Anthropic's `input_tokens` excludes cached tokens, which OpenAI counts inside
 * `prompt_tokens`: cache reads are `prompt_tokens_details.cached_tokens`; cache writes have no OpenAI field,
 * but providers fronting Anthropic report them as `cache_creation_input_tokens` (LiteLLM) or
 * `prompt_tokens_details.cache_write_tokens` (OpenRouter). Absent usage is all zeros.
 */
export function anthropicUsage(usage: unknown): AnthropicUsage {
  if (!isObject(usage)) {
    return { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 }
  }
  const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {}
  const read = count(details.cached_tokens)
  const created = count(usage.cache_creation_input_tokens) || count(details.cache_write_tokens)
  return {
    input_tokens: Math.max(0, count(usage.prompt_tokens) - read - created),
    cache_creation_input_tokens: created,
    cache_read_input_tokens: read,
    output_tokens: count(usage.completion_tokens),
  }
}

/** A tool call's arguments as the object Anthropic's `input` must be; see chatToMessage for the fallback. */
export function toolInput(args: unknown): Json {
  if (typeof args !== 'string' || args.trim() === '') return {}
  try {
    const input: unknown = JSON.parse(args)
    return isObject(input) ? input : {}
  } catch {
    return {}
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  let text = ''
  for (const part of content) if (isObject(part) && typeof part.text === 'string') text += part.text
  return text
}

/**
 * Translates an OpenAI `chat.completion` (JSON text) into an Anthropic message (JSON text). The first choice
 * is the answer (an Anthropic request never asks for more). Its text, then its refusal, become one text block
 * (none when empty, as Anthropic sends `content: []`); each tool call becomes a tool_use block whose input is
 * the parsed arguments, or `{}` when they are not a JSON object (a model's malformed arguments: the client's
 * tool then reports the missing fields, which the model can correct, where a failed request could not).
 * `model` is the name the client asked for, not the upstream's.
 *
 * @example chatToMessage(completionJson, 'claude-sonnet-4-5') // '{"id":"msg_…","type":"message",…}'
 */
export function chatToMessage(completionJson: string, requestedModel: string): string {
  let completion: unknown
  try {
    completion = JSON.parse(completionJson)
  } catch {
    throw invalid('is not JSON')
  }
  if (!isObject(completion) || !Array.isArray(completion.choices)) throw invalid('has no choices')
  const choice = completion.choices[0]
  const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined
  if (message === undefined) throw invalid('has no message')
  const id = messageIdFor(completion.id)
  const content: Json[] = []
  const refusal = typeof message.refusal === 'string' && message.refusal !== '' ? message.refusal : ''
  const text = textOf(message.content) + refusal
  if (text !== '') content.push({ type: 'text', text })
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : []
  for (let index = 0; index < calls.length; index++) {
    const call = calls[index]
    const fn = isObject(call) && isObject(call.function) ? call.function : undefined
    if (fn === undefined) continue
    content.push({
      type: 'tool_use',
      id: toolUseId((call as Json).id, id, index),
      name: typeof fn.name === 'string' ? fn.name : '',
      input: toolInput(fn.arguments),
    })
  }
  const toolUse = content.some((block) => block.type === 'tool_use')
  return JSON.stringify({
    id,
    type: 'message',
    role: 'assistant',
    model: requestedModel,
    content,
    stop_reason: stopReason(isObject(choice) ? choice.finish_reason : undefined, toolUse, refusal !== ''),
    stop_sequence: null,
    usage: anthropicUsage(completion.usage),
  })
}

function invalid(what: string): GatewayError {
  return new GatewayError('MERIDIAN_UPSTREAM_INVALID_RESPONSE', `the upstream's chat completion ${what}`)
}
