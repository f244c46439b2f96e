// OpenAI chat request → Anthropic Messages request. Every top-level parameter has a row in
// ANTHROPIC_PARAMETERS: it is translated, dropped (and reported, so the gateway can warn), or rejected with a
// 400 naming it. Nothing is dropped without a name in `dropped`: a key the table does not know is reported too.

import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../provider.js'

/** What happens to an OpenAI parameter on its way to Anthropic. */
export type ParameterHandling = 'mapped' | 'dropped' | 'rejected'

export interface ParameterRule {
  handling: ParameterHandling
  /** One line for the providers table in the docs. */
  note: string
  /** A value that asks for nothing Claude lacks (`n: 1`, `seed`-less defaults): neither warned about nor rejected. */
  neutral?: (value: unknown) => boolean
}

const isZero = (v: unknown) => v === 0
const isFalse = (v: unknown) => v === false
const isEmptyObject = (v: unknown) => isObject(v) && Object.keys(v).length === 0

/**
 * How the anthropic provider treats each OpenAI chat parameter; docs are generated from it. Rows whose name
 * has a `[]` or a dot are nested fields, listed for the docs (the check of the body reads top-level rows).
 * A top-level key with no row is dropped and reported under its own name.
 *
 * @example ANTHROPIC_PARAMETERS.seed // { handling: 'dropped', note: '…' }
 */
export const ANTHROPIC_PARAMETERS: Readonly<Record<string, ParameterRule>> = {
  model: { handling: 'mapped', note: 'replaced by the target model' },
  messages: {
    handling: 'mapped',
    note: 'system and developer messages become `system`; same-role neighbours are merged; tool messages become `tool_result` blocks',
  },
  stream: { handling: 'mapped', note: '`stream`' },
  stream_options: {
    handling: 'mapped',
    note: '`include_usage` is honoured by the stream translation (usage from `message_start` and `message_delta`)',
  },
  max_completion_tokens: { handling: 'mapped', note: '`max_tokens` (wins over `max_tokens`)' },
  max_tokens: {
    handling: 'mapped',
    note: '`max_tokens`; Anthropic requires one, so the per-model or provider default is sent when absent',
  },
  temperature: {
    handling: 'mapped',
    note: "`temperature` from 0 to 1; above 1 (OpenAI's range goes to 2, Anthropic's to 1) is rejected with a 400",
  },
  top_p: { handling: 'mapped', note: '`top_p`' },
  stop: { handling: 'mapped', note: '`stop_sequences` (a string becomes a one-element list)' },
  tools: {
    handling: 'mapped',
    note: 'function tools → `{name, description, input_schema}`; `cache_control` kept; other tool types rejected',
  },
  tool_choice: {
    handling: 'mapped',
    note: '`auto` → auto, `none` → none, `required` → any, a named function → `{type: tool, name}`',
  },
  parallel_tool_calls: {
    handling: 'mapped',
    note: '`false` → `tool_choice.disable_parallel_tool_use: true`',
  },
  response_format: {
    handling: 'mapped',
    note: '`text` needs nothing; `json_schema` → `output_config.format` (structured outputs, recent models only); `json_object` is rejected: Anthropic has no schema-less JSON mode',
  },
  user: { handling: 'mapped', note: '`metadata.user_id`' },
  safety_identifier: { handling: 'mapped', note: '`metadata.user_id` (wins over `user`)' },
  n: {
    handling: 'rejected',
    note: 'Claude returns one choice per request; only `n: 1` is accepted',
    neutral: (v) => v === 1,
  },
  logprobs: { handling: 'rejected', note: 'Anthropic returns no log probabilities', neutral: isFalse },
  top_logprobs: { handling: 'rejected', note: 'Anthropic returns no log probabilities', neutral: isZero },
  audio: { handling: 'rejected', note: 'Claude has no audio output' },
  modalities: {
    handling: 'rejected',
    note: 'Claude answers in text only; `["text"]` is accepted',
    neutral: (v) => Array.isArray(v) && v.every((m) => m === 'text'),
  },
  web_search_options: {
    handling: 'rejected',
    note: "OpenAI's built-in web search has no Chat Completions equivalent on Anthropic",
  },
  functions: { handling: 'rejected', note: 'deprecated by OpenAI: send `tools`' },
  function_call: { handling: 'rejected', note: 'deprecated by OpenAI: send `tool_choice`' },
  presence_penalty: {
    handling: 'dropped',
    note: 'no Anthropic equivalent; 0 is not reported',
    neutral: isZero,
  },
  frequency_penalty: {
    handling: 'dropped',
    note: 'no Anthropic equivalent; 0 is not reported',
    neutral: isZero,
  },
  logit_bias: {
    handling: 'dropped',
    note: 'no Anthropic equivalent; `{}` is not reported',
    neutral: isEmptyObject,
  },
  seed: { handling: 'dropped', note: 'Anthropic has no sampling seed' },
  service_tier: {
    handling: 'dropped',
    note: "OpenAI's tiers do not carry over; `auto` and `default` are not reported",
    neutral: (v) => v === 'auto' || v === 'default',
  },
  store: {
    handling: 'dropped',
    note: 'OpenAI stored completions; `false` is not reported',
    neutral: isFalse,
  },
  metadata: {
    handling: 'dropped',
    note: "OpenAI's stored-completion tags (Anthropic's `metadata` takes `user_id` only, from `user`)",
    neutral: isEmptyObject,
  },
  prediction: { handling: 'dropped', note: 'a latency hint; the answer is the same without it' },
  reasoning_effort: {
    handling: 'dropped',
    note: 'extended thinking is not enabled by translation; `none` is not reported',
    neutral: (v) => v === 'none',
  },
  verbosity: { handling: 'dropped', note: 'no Anthropic equivalent' },
  prompt_cache_key: {
    handling: 'dropped',
    note: 'Anthropic caches by `cache_control` on content parts instead',
  },
  prompt_cache_retention: {
    handling: 'dropped',
    note: 'Anthropic caches by `cache_control` on content parts instead',
  },
  'messages[].name': { handling: 'dropped', note: 'Anthropic messages carry no author name' },
  'image_url.detail': {
    handling: 'dropped',
    note: 'Anthropic sizes images itself; `auto` is not reported',
  },
  'tools[].function.strict': {
    handling: 'dropped',
    note: 'strict tool use exists on recent Claude models only; dropped so older ones keep working',
  },
}

/** Media types Anthropic accepts for a base64 image. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

const DEFAULT_MAX_TOKENS = 4096

export interface TranslateOptions {
  /** `max_tokens` when the client sends neither `max_tokens` nor `max_completion_tokens`; default 4096. */
  defaultMaxTokens?: number
  /** Per upstream model, wins over `defaultMaxTokens`. */
  maxTokensByModel?: Readonly<Record<string, number>>
  /** Ask for a stream; default: the body's own `stream`. */
  stream?: boolean
}

export interface TranslatedRequest {
  /** The Anthropic Messages body. */
  body: JsonObject
  /** Parameters the client sent that Anthropic cannot honour and that were left out, for `x-meridian-warning`. */
  dropped: string[]
}

/**
 * An OpenAI chat body → an Anthropic Messages body. Throws a 400 (MERIDIAN_INVALID_REQUEST, `param` naming
 * the field) for what cannot be translated without changing the request's meaning.
 *
 * @example
 * const { body, dropped } = translateRequest({ messages: [{ role: 'user', content: 'Hi' }], seed: 1 }, 'claude-haiku-4-5')
 * // body: { model: 'claude-haiku-4-5', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] }
 * // dropped: ['seed']
 */
export function translateRequest(
  body: JsonObject,
  model: string,
  options: TranslateOptions = {},
): TranslatedRequest {
  const dropped = new Set<string>()
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue
    const rule = Object.hasOwn(ANTHROPIC_PARAMETERS, key) ? ANTHROPIC_PARAMETERS[key] : undefined
    if (rule === undefined) dropped.add(key)
    else if (rule.handling === 'mapped' || rule.neutral?.(value)) continue
    else if (rule.handling === 'dropped') dropped.add(key)
    else throw invalid(`\`${key}\` is not supported by anthropic: ${rule.note}`, key)
  }

  const { system, turns } = translateMessages(body.messages, dropped)
  const out: JsonObject = { model, max_tokens: maxTokens(body, model, options) }
  if (system.length > 0) {
    // A plain string unless a block asks for caching: the common case stays as simple as Anthropic's own examples.
    out.system = system.some((b) => b.cache_control !== undefined)
      ? system
      : system.map((b) => b.text as string).join('\n\n')
  }
  out.messages = turns

  if (body.stop != null) {
    const stop = typeof body.stop === 'string' ? [body.stop] : body.stop
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
      throw invalid('`stop` must be a string or an array of strings', 'stop')
    }
    if (stop.length > 0) out.stop_sequences = stop
  }
  if (typeof body.temperature === 'number') {
    if (body.temperature > 1) {
      throw invalid(
        `\`temperature\` ${body.temperature} is above 1, the most Anthropic accepts (OpenAI's range is 0 to 2, Anthropic's 0 to 1)`,
        'temperature',
      )
    }
    out.temperature = body.temperature
  }
  if (typeof body.top_p === 'number') out.top_p = body.top_p

  const tools = body.tools == null ? [] : translateTools(body.tools, dropped)
  if (tools.length > 0) out.tools = tools
  const choice = toolChoice(body.tool_choice, body.parallel_tool_calls, tools.length > 0)
  if (choice !== undefined) out.tool_choice = choice

  const userId = stringOr(body.safety_identifier) ?? stringOr(body.user)
  if (userId !== undefined) out.metadata = { user_id: userId }
  const format = outputFormat(body.response_format)
  if (format !== undefined) out.output_config = { format }
  if (options.stream ?? body.stream === true) out.stream = true
  return { body: out, dropped: [...dropped] }
}

function maxTokens(body: JsonObject, model: string, options: TranslateOptions): number {
  const asked = body.max_completion_tokens ?? body.max_tokens
  if (typeof asked === 'number') return asked
  return options.maxTokensByModel?.[model] ?? options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS
}

type Block = JsonObject
interface Turn {
  role: 'user' | 'assistant'
  content: Block[]
}

function translateMessages(raw: unknown, dropped: Set<string>): { system: Block[]; turns: Turn[] } {
  if (!Array.isArray(raw) || raw.length === 0)
    throw invalid('`messages` must be a non-empty array', 'messages')
  const system: Block[] = []
  const turns: Turn[] = []
  // Anthropic requires user and assistant turns to alternate: neighbours of one role become one turn, which
  // also gathers the results of parallel tool calls (several OpenAI tool messages) into one user turn.
  const push = (role: Turn['role'], blocks: Block[]) => {
    if (blocks.length === 0) return
    const last = turns[turns.length - 1]
    if (last?.role === role) last.content.push(...blocks)
    else turns.push({ role, content: blocks })
  }
  raw.forEach((message: unknown, i) => {
    if (!isObject(message)) throw invalid(`messages[${i}] must be an object`, `messages[${i}]`)
    if (message.name != null) dropped.add('messages[].name')
    switch (message.role) {
      case 'system':
      case 'developer':
        // Anthropic has one system prompt, before the conversation: a late system message moves up to it.
        system.push(...textBlocks(message.content, `messages[${i}].content`))
        break
      case 'user':
        push('user', userBlocks(message.content, i, dropped))
        break
      case 'assistant':
        push('assistant', assistantBlocks(message, i))
        break
      case 'tool':
        push('user', [toolResult(message, i)])
        break
      default:
        throw invalid(
          `messages[${i}]: role ${JSON.stringify(message.role)} is not supported by anthropic (use tool messages for tool results)`,
          `messages[${i}].role`,
        )
    }
  })
  if (turns.length === 0) {
    throw invalid(
      'anthropic needs at least one user or assistant message besides the system prompt',
      'messages',
    )
  }
  return { system, turns }
}

/** Text-only content (system, developer, tool): a string or text parts, `cache_control` kept. */
function textBlocks(content: unknown, path: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw invalid(`${path} must be a string or an array of text parts`, path)
  return content.flatMap((part: unknown, j) => {
    if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw invalid(`${path}[${j}]: only text parts are accepted here`, `${path}[${j}]`)
    }
    return part.text === '' ? [] : [withCache({ type: 'text', text: part.text }, part)]
  })
}

function userBlocks(content: unknown, i: number, dropped: Set<string>): Block[] {
  const path = `messages[${i}].content`
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw invalid(`${path} must be a string or an array of content parts`, path)
  return content.flatMap((part: unknown, j) => {
    const at = `${path}[${j}]`
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string') {
      return part.text === '' ? [] : [withCache({ type: 'text', text: part.text }, part)]
    }
    if (isObject(part) && part.type === 'image_url') return [withCache(imageBlock(part, at, dropped), part)]
    const type = isObject(part) ? JSON.stringify(part.type) : 'non-object'
    throw invalid(`${at}: ${type} parts are not supported by anthropic (text and image_url are)`, at)
  })
}

function imageBlock(part: JsonObject, at: string, dropped: Set<string>): Block {
  const image = part.image_url
  const url = isObject(image) ? image.url : image
  if (typeof url !== 'string') throw invalid(`${at}.image_url.url must be a string`, `${at}.image_url`)
  if (isObject(image) && image.detail != null && image.detail !== 'auto') dropped.add('image_url.detail')
  const data = /^data:([^;,]+);base64,/i.exec(url)
  if (data !== null) {
    const mediaType = data[1]!.toLowerCase()
    if (!IMAGE_TYPES.has(mediaType)) {
      throw invalid(
        `${at}: anthropic accepts jpeg, png, gif and webp images, not ${mediaType}`,
        `${at}.image_url`,
      )
    }
    return {
      type: 'image',
      source: { type: 'base64', media_type: mediaType, data: url.slice(data[0].length) },
    }
  }
  if (url.startsWith('https://')) return { type: 'image', source: { type: 'url', url } }
  throw invalid(`${at}: an image must be an https URL or a base64 data: URL`, `${at}.image_url`)
}

function assistantBlocks(message: JsonObject, i: number): Block[] {
  const path = `messages[${i}].content`
  const blocks: Block[] = []
  const content = message.content
  if (typeof content === 'string') {
    if (content !== '') blocks.push({ type: 'text', text: content })
  } else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      // A refusal the model gave earlier is still what it said: it goes back as text.
      const text = isObject(part) ? (part.type === 'refusal' ? part.refusal : part.text) : undefined
      if (!isObject(part) || (part.type !== 'text' && part.type !== 'refusal') || typeof text !== 'string') {
        throw invalid(`${path}[${j}]: assistant content takes text and refusal parts`, `${path}[${j}]`)
      }
      if (text !== '') blocks.push(withCache({ type: 'text', text }, part))
    })
  } else if (content != null) {
    throw invalid(`${path} must be a string, an array of parts or null`, path)
  }
  const calls = message.tool_calls ?? []
  if (!Array.isArray(calls))
    throw invalid(`messages[${i}].tool_calls must be an array`, `messages[${i}].tool_calls`)
  calls.forEach((call: unknown, k) => {
    const at = `messages[${i}].tool_calls[${k}]`
    const fn = isObject(call) ? call.function : undefined
    if (!isObject(call) || typeof call.id !== 'string' || !isObject(fn) || typeof fn.name !== 'string') {
      throw invalid(`${at} needs an id and a function name`, at)
    }
    blocks.push({ type: 'tool_use', id: call.id, name: fn.name, input: toolInput(fn.arguments, at) })
  })
  return blocks
}

/** OpenAI carries tool arguments as JSON text, Anthropic as an object. */
function toolInput(args: unknown, at: string): JsonObject {
  if (args == null || args === '') return {}
  let input: unknown
  try {
    input = typeof args === 'string' ? JSON.parse(args) : args
  } catch {
    throw invalid(`${at}.function.arguments is not valid JSON`, `${at}.function.arguments`)
  }
  if (!isObject(input))
    throw invalid(`${at}.function.arguments must be a JSON object`, `${at}.function.arguments`)
  return input
}

function toolResult(message: JsonObject, i: number): Block {
  if (typeof message.tool_call_id !== 'string') {
    throw invalid(`messages[${i}].tool_call_id is required`, `messages[${i}].tool_call_id`)
  }
  const content = message.content
  const result: Block = { type: 'tool_result', tool_use_id: message.tool_call_id }
  if (typeof content === 'string') result.content = content
  else if (content != null) result.content = textBlocks(content, `messages[${i}].content`)
  return result
}

function translateTools(tools: unknown, dropped: Set<string>): Block[] {
  if (!Array.isArray(tools)) throw invalid('`tools` must be an array', 'tools')
  return tools.map((tool: unknown, k) => {
    const fn = isObject(tool) ? tool.function : undefined
    if (!isObject(tool) || tool.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string') {
      throw invalid(`tools[${k}]: anthropic takes function tools only`, `tools[${k}]`)
    }
    const out: Block = { name: fn.name }
    if (typeof fn.description === 'string') out.description = fn.description
    const parameters = isObject(fn.parameters) ? fn.parameters : {}
    // Anthropic insists on an object schema; OpenAI lets a function without parameters omit it.
    out.input_schema =
      parameters.type === undefined ? { type: 'object', properties: {}, ...parameters } : parameters
    if (fn.strict === true) dropped.add('tools[].function.strict')
    return withCache(out, tool)
  })
}

function toolChoice(choice: unknown, parallel: unknown, hasTools: boolean): Block | undefined {
  let out: Block | undefined
  if (choice == null) out = hasTools && parallel === false ? { type: 'auto' } : undefined
  else if (choice === 'auto' || choice === 'none') out = hasTools ? { type: choice } : undefined
  else if (choice === 'required') out = { type: 'any' }
  else if (isObject(choice) && choice.type === 'function' && isObject(choice.function)) {
    if (typeof choice.function.name !== 'string') {
      throw invalid('`tool_choice.function.name` must be a string', 'tool_choice')
    }
    out = { type: 'tool', name: choice.function.name }
  } else {
    throw invalid('`tool_choice` must be auto, none, required or a function', 'tool_choice')
  }
  if (out === undefined) return undefined
  if (!hasTools) throw invalid('`tool_choice` asks for a tool but `tools` is empty', 'tool_choice')
  if (parallel === false && out.type !== 'none') out.disable_parallel_tool_use = true
  return out
}

function outputFormat(format: unknown): Block | undefined {
  if (format == null) return undefined
  if (!isObject(format)) throw invalid('`response_format` must be an object', 'response_format')
  if (format.type === 'text') return undefined
  if (format.type === 'json_schema') {
    const spec = format.json_schema
    if (!isObject(spec) || !isObject(spec.schema)) {
      throw invalid('`response_format.json_schema.schema` is required for anthropic', 'response_format')
    }
    return { type: 'json_schema', schema: spec.schema }
  }
  throw invalid(
    `\`response_format\` ${JSON.stringify(format.type)} is not supported by anthropic: it has no JSON mode without a schema; send json_schema`,
    'response_format',
  )
}

/** Keeps the prompt-caching marker a client put on an OpenAI part (the convention LiteLLM and OpenRouter use). */
function withCache(block: Block, from: JsonObject): Block {
  if (isObject(from.cache_control)) block.cache_control = from.cache_control
  return block
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('MERIDIAN_INVALID_REQUEST', message, { param })
}
