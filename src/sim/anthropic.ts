// Anthropic's Messages API for the simulated upstream. A request is read as its OpenAI equivalent, so it gets
// the answer the OpenAI sim gives that equivalent (same words, same tool call, same usage), rendered as an
// Anthropic message or as Anthropic's SSE events. Pure and runtime-agnostic, like the rest of src/sim.

import { type ChatPlan, type ChatPlanOptions, chatPromptTokens, planChat } from './chat.js'
import type { ChatStreamFrames } from './chat-stream.js'
import { isObject, isPositiveInt, type JsonObject } from './wire.js'

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'tool_use'

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }

export interface AnthropicUsage {
  input_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  output_tokens: number
}

export interface AnthropicMessage {
  id: string
  type: 'message'
  role: 'assistant'
  model: string
  content: AnthropicContentBlock[]
  stop_reason: AnthropicStopReason
  stop_sequence: null
  usage: AnthropicUsage
}

export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
}

/** Anthropic's error shape. */
export function anthropicError(type: string, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type, message } }
}

// What Anthropic sends for these statuses (529 is its "overloaded").
const STATUS_ERRORS: Readonly<Record<number, readonly [type: string, message: string]>> = {
  400: ['invalid_request_error', 'Simulated bad request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: [
    'rate_limit_error',
    'Number of requests has exceeded your rate limit (simulated). Please try again in 1s.',
  ],
  500: ['api_error', 'Internal server error'],
  503: ['overloaded_error', 'Overloaded'],
  504: ['timeout_error', 'Request timeout'],
  529: ['overloaded_error', 'Overloaded'],
}

/** The body for a status set by the `status` or `error_rate` knobs (the server quotes the key in a 401). */
export function anthropicStatusError(status: number): AnthropicErrorBody {
  const known = STATUS_ERRORS[status]
  if (known !== undefined) return anthropicError(known[0], known[1])
  return status >= 500
    ? anthropicError('api_error', `Simulated upstream error (${status}).`)
    : anthropicError('invalid_request_error', `Simulated client error (${status}).`)
}

/**
 * What Anthropic would reject in a Messages request (or, with `countTokens`, a count_tokens request, which
 * has no `max_tokens`), in its own words; null when the simulator can answer it.
 */
export function anthropicRequestProblem(body: unknown, countTokens = false): string | null {
  if (!isObject(body)) return 'The request body must be a JSON object.'
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required'
  if (!countTokens) {
    if (body.max_tokens === undefined) return 'max_tokens: Field required'
    if (!isPositiveInt(body.max_tokens)) return 'max_tokens: Input should be a valid integer of at least 1'
  }
  if (!Array.isArray(body.messages)) return 'messages: Field required'
  if (body.messages.length === 0) return 'messages: at least one message is required'
  for (const [i, message] of body.messages.entries()) {
    const role = isObject(message) ? message.role : undefined
    if (role === 'system') {
      // Translators must hoist system messages into `system`; Anthropic says so, and so does the sim.
      return (
        `messages.${i}.role: Unexpected role "system". The Messages API accepts a top-level \`system\` ` +
        'parameter, not "system" as an input message role.'
      )
    }
    if (role !== 'user' && role !== 'assistant')
      return `messages.${i}.role: Input should be 'user' or 'assistant'`
    const content = (message as JsonObject).content
    if (typeof content !== 'string' && !Array.isArray(content)) return `messages.${i}.content: Field required`
  }
  return null
}

function blockText(blocks: unknown): string {
  if (typeof blocks === 'string') return blocks
  if (!Array.isArray(blocks)) return ''
  return blocks
    .filter((b): b is JsonObject => isObject(b) && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n')
}

/** An Anthropic block as an OpenAI content part. */
function chatPart(block: unknown): unknown {
  if (!isObject(block)) return block
  if (block.type === 'text') return { type: 'text', text: block.text }
  if (block.type === 'image' && isObject(block.source)) {
    const source = block.source
    const url =
      source.type === 'base64'
        ? `data:${String(source.media_type)};base64,${String(source.data)}`
        : source.url
    return { type: 'image_url', image_url: { url } }
  }
  return block
}

/** A list of parts that are all text becomes a string, so `"hi"` and `[{type:'text',text:'hi'}]` agree. */
function chatContent(parts: unknown[]): unknown {
  const allText = parts.every((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string')
  return allText ? parts.map((p) => (p as JsonObject).text).join('\n') : parts
}

/** One Anthropic message as OpenAI messages: tool results become `tool` messages, tool uses `tool_calls`. */
function chatMessages(message: JsonObject): JsonObject[] {
  const { role, content } = message
  if (!Array.isArray(content)) return [{ role, content }]
  const blocks = content.filter(isObject)
  if (role === 'assistant') {
    const calls = blocks
      .filter((b) => b.type === 'tool_use')
      .map((b) => ({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      }))
    const text = blocks.filter((b) => b.type === 'text')
    const out: JsonObject = { role, content: text.length > 0 ? blockText(text) : null }
    if (calls.length > 0) out.tool_calls = calls
    return [out]
  }
  const out: JsonObject[] = []
  const parts: unknown[] = []
  for (const block of blocks) {
    if (block.type === 'tool_result') {
      out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: blockText(block.content) })
    } else parts.push(chatPart(block))
  }
  if (parts.length > 0) out.push({ role, content: chatContent(parts) })
  return out
}

function chatToolChoice(choice: unknown): unknown {
  if (!isObject(choice)) return undefined
  if (choice.type === 'any') return 'required'
  if (choice.type === 'tool') return { type: 'function', function: { name: choice.name } }
  if (choice.type === 'auto' || choice.type === 'none') return choice.type
  return undefined
}

/**
 * The OpenAI chat request a Messages request means, with keys in a fixed order (model, messages, max_tokens,
 * temperature, top_p, stop, tools, tool_choice): its answer is the Anthropic answer. `system` becomes the
 * first message, `tool_choice` any/tool becomes "required"/a named function.
 *
 * @example anthropicToChat({ model: 'm', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] })
 * // { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 9 }
 */
export function anthropicToChat(body: JsonObject): JsonObject {
  const messages: JsonObject[] = []
  if (body.system !== undefined) messages.push({ role: 'system', content: blockText(body.system) })
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) if (isObject(message)) messages.push(...chatMessages(message))
  }
  const chat: JsonObject = { model: body.model, messages }
  if (body.max_tokens !== undefined) chat.max_tokens = body.max_tokens
  if (body.temperature !== undefined) chat.temperature = body.temperature
  if (body.top_p !== undefined) chat.top_p = body.top_p
  if (body.stop_sequences !== undefined) chat.stop = body.stop_sequences
  if (Array.isArray(body.tools)) {
    const tools = body.tools
      .filter(
        (t): t is JsonObject => isObject(t) && typeof t.name === 'string' && t.input_schema !== undefined,
      )
      .map((t) => {
        const fn: JsonObject = { name: t.name }
        if (t.description !== undefined) fn.description = t.description
        fn.parameters = t.input_schema
        return { type: 'function', function: fn }
      })
    if (tools.length > 0) chat.tools = tools
  }
  const choice = chatToolChoice(body.tool_choice)
  if (choice !== undefined) chat.tool_choice = choice
  return chat
}

/** Input tokens of a Messages (or count_tokens) request: the prompt tokens of its OpenAI equivalent. */
export function anthropicInputTokens(body: JsonObject): number {
  return chatPromptTokens(anthropicToChat(body))
}

/** Plans the answer to a Messages request (validate it with `anthropicRequestProblem` first). */
export function planAnthropic(body: JsonObject, options: Pick<ChatPlanOptions, 'chunks'> = {}): ChatPlan {
  return planChat(anthropicToChat(body), options)
}

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' } as const

/** The hex after `chatcmpl-`, so an Anthropic id and the OpenAI id of the same answer match. */
function idHex(plan: ChatPlan): string {
  return plan.id.slice(plan.id.indexOf('-') + 1)
}

function toolUseId(callId: string): string {
  return `toolu_${callId.slice(callId.indexOf('_') + 1)}`
}

function usage(inputTokens: number, outputTokens: number): AnthropicUsage {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
  }
}

/** Renders a plan as a non-streamed Anthropic message (its first choice: Messages has no `n`). */
export function anthropicMessage(plan: ChatPlan): AnthropicMessage {
  const choice = plan.choices[0]!
  const call = choice.toolCall
  const content: AnthropicContentBlock[] =
    call === null
      ? [{ type: 'text', text: choice.content ?? '' }]
      : [
          {
            type: 'tool_use',
            id: toolUseId(call.id),
            name: call.function.name,
            input: JSON.parse(call.function.arguments),
          },
        ]
  return {
    id: `msg_${idHex(plan)}`,
    type: 'message',
    role: 'assistant',
    model: plan.model,
    content,
    stop_reason: STOP_REASONS[choice.finishReason],
    stop_sequence: null,
    usage: usage(plan.usage.prompt_tokens, plan.usage.completion_tokens),
  }
}

function event(data: JsonObject & { type: string }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`
}

/**
 * The SSE events of a streamed answer, as Anthropic sends them: message_start (usage with the input tokens
 * and, as Anthropic does, `output_tokens: 1`), content_block_start, ping, one content_block_delta per
 * piece (a word of text, or a few characters of tool input as input_json_delta), content_block_stop,
 * message_delta (stop_reason and the cumulative output tokens), message_stop.
 */
export function anthropicStreamFrames(plan: ChatPlan): ChatStreamFrames {
  const choice = plan.choices[0]!
  const call = choice.toolCall
  const frames = [
    event({
      type: 'message_start',
      message: {
        id: `msg_${idHex(plan)}`,
        type: 'message',
        role: 'assistant',
        model: plan.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(plan.usage.prompt_tokens, 1),
      },
    }),
    event({
      type: 'content_block_start',
      index: 0,
      content_block:
        call === null
          ? { type: 'text', text: '' }
          : { type: 'tool_use', id: toolUseId(call.id), name: call.function.name, input: {} },
    }),
    event({ type: 'ping' }),
  ]
  const contentStart = frames.length
  for (const piece of choice.pieces) {
    const delta =
      call === null ? { type: 'text_delta', text: piece } : { type: 'input_json_delta', partial_json: piece }
    frames.push(event({ type: 'content_block_delta', index: 0, delta }))
  }
  const contentEnd = frames.length
  frames.push(
    event({ type: 'content_block_stop', index: 0 }),
    event({
      type: 'message_delta',
      delta: { stop_reason: STOP_REASONS[choice.finishReason], stop_sequence: null },
      usage: { output_tokens: plan.usage.completion_tokens },
    }),
    event({ type: 'message_stop' }),
  )
  return { frames, contentStart, contentEnd }
}
