// Anthropic message → OpenAI chat.completion. The usage and finish-reason rules here are shared with the
// stream translation, so a streamed answer and a whole one report the same numbers.

import { GatewayError } from '../../core/errors.js'

/** Anthropic's `usage` object (message, `message_start`, `message_delta`); fields may be absent or null. */
export interface AnthropicUsage {
  input_tokens?: number | null
  output_tokens?: number | null
  cache_creation_input_tokens?: number | null
  cache_read_input_tokens?: number | null
}

export interface OpenAIUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number }
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter'

/**
 * Anthropic's stop reasons in OpenAI's terms. `refusal` is Claude's safety classifiers stopping the answer,
 * OpenAI's `content_filter`. `pause_turn` only happens with Anthropic's server tools (web search), which a
 * translated request never enables; the paused turn is returned as it stands: `stop`. A context window that
 * filled up is a truncation, as `max_tokens` is. An unknown reason (Anthropic adds them) is `stop`.
 */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}

export function finishReason(stopReason: unknown): FinishReason {
  return typeof stopReason === 'string' && Object.hasOwn(FINISH_REASONS, stopReason)
    ? FINISH_REASONS[stopReason]!
    : 'stop'
}

/**
 * Anthropic counts cached prompt tokens apart from `input_tokens`; OpenAI counts them inside `prompt_tokens`.
 * So prompt_tokens = input + cache writes + cache reads, `cached_tokens` the reads (as OpenAI reports
 * them) and `cache_write_tokens` (the name OpenAI's spec gives them) the writes: Anthropic's three raw numbers
 * stay recoverable, and a cost calculator can price writes and reads apart.
 */
export function openAIUsage(usage: AnthropicUsage | undefined): OpenAIUsage {
  const input = count(usage?.input_tokens)
  const written = count(usage?.cache_creation_input_tokens)
  const read = count(usage?.cache_read_input_tokens)
  const output = count(usage?.output_tokens)
  const prompt = input + written + read
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: read, cache_write_tokens: written },
  }
}

interface AnthropicMessage {
  id?: unknown
  type?: unknown
  model?: unknown
  content?: unknown
  stop_reason?: unknown
  usage?: AnthropicUsage
}

export interface ResponseOptions {
  providerId: string
  /** `created`, in seconds since the epoch. */
  created: number
}

/**
 * An Anthropic message (non-streaming answer) → the JSON text of an OpenAI `chat.completion`. The id stays
 * Anthropic's `msg_…`: OpenAI clients treat it as opaque, and it is the one Anthropic's support can look up.
 * Text blocks are joined; `tool_use` blocks become tool calls; other blocks (thinking, server tools) have no
 * OpenAI counterpart and are left out. Throws MERIDIAN_UPSTREAM_INVALID_RESPONSE for a body that is not one.
 *
 * @example translateResponse(await res.text(), { providerId: 'claude', created: Math.floor(Date.now() / 1000) })
 */
export function translateResponse(text: string, options: ResponseOptions): string {
  let message: AnthropicMessage
  try {
    message = JSON.parse(text) as AnthropicMessage
  } catch {
    throw unusable(options.providerId, 'a body that is not JSON')
  }
  if (
    typeof message !== 'object' ||
    message === null ||
    message.type !== 'message' ||
    !Array.isArray(message.content)
  ) {
    throw unusable(options.providerId, 'a body that is not an Anthropic message')
  }
  let content: string | null = null
  const toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] = []
  for (const block of message.content as {
    type?: unknown
    text?: unknown
    id?: unknown
    name?: unknown
    input?: unknown
  }[]) {
    if (block?.type === 'text' && typeof block.text === 'string') content = (content ?? '') + block.text
    else if (block?.type === 'tool_use') {
      toolCalls.push({
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
      })
    }
  }
  const reply: Record<string, unknown> = {
    role: 'assistant',
    // null when the answer is only tool calls, as OpenAI sends it; "" when it is nothing at all.
    content: content ?? (toolCalls.length > 0 ? null : ''),
    refusal: null,
  }
  if (toolCalls.length > 0) reply.tool_calls = toolCalls
  return JSON.stringify({
    id: String(message.id),
    object: 'chat.completion',
    created: options.created,
    model: String(message.model),
    choices: [{ index: 0, message: reply, logprobs: null, finish_reason: finishReason(message.stop_reason) }],
    usage: openAIUsage(message.usage),
  })
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function unusable(providerId: string, what: string): GatewayError {
  return new GatewayError('MERIDIAN_UPSTREAM_INVALID_RESPONSE', `upstream ${providerId} sent ${what}`)
}
