import type {
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  MessagesRequest,
  TextBlock,
  ToolResultBlock,
  ToolUseBlock,
} from './schemas.js'

type Json = Record<string, unknown>

/** An Anthropic request as an OpenAI chat request, and what had no OpenAI form. */
export interface ChatTranslation {
  body: Json
  /**
   * What was left out, each named once in the order met: a top-level field (`top_k`, `thinking`),
   * `cache_control` wherever it was, `messages.content.<block type>` for a block with no OpenAI form,
   * `tools.<type>` for a server tool, `metadata.<key>`.
   */
  dropped: string[]
}

/** Marks a tool result's content when `is_error` is set (`Error: <content>`): OpenAI's tool message has no flag. */
export const TOOL_ERROR = 'Error'

/** Top-level fields with an OpenAI form; any other one is listed as dropped. */
const MAPPED = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
  'metadata',
  'stream',
])

const TOOL_CHOICE: Record<string, string> = { auto: 'auto', any: 'required', none: 'none' }

class Dropped {
  readonly names = new Set<string>()
  add(name: string): void {
    this.names.add(name)
  }
  /** Notes `cache_control` on a block: OpenAI's format has no cache breakpoints. */
  check(value: Json): void {
    if (value.cache_control != null) this.names.add('cache_control')
  }
}

/**
 * Translates an Anthropic Messages request (validated by `messagesRequestSchema`) into an OpenAI chat request.
 * `system` becomes a leading system message; a user message's `tool_result` blocks become `tool` messages
 * placed before the rest of it (OpenAI wants them right after the assistant's tool calls); `tool_use` blocks
 * become `tool_calls`. Streams ask for usage, which Anthropic's `message_delta` reports.
 *
 * @example
 * messagesToChat({ model: 'm', max_tokens: 64, top_k: 5, messages: [{ role: 'user', content: 'hi' }] })
 * // { body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 64 }, dropped: ['top_k'] }
 */
export function messagesToChat(req: MessagesRequest): ChatTranslation {
  const dropped = new Dropped()
  const messages: Json[] = []
  const system = systemMessage(req.system, dropped)
  if (system !== undefined) messages.push(system)
  for (const message of req.messages) {
    if (message.role === 'assistant') messages.push(assistantMessage(message.content, dropped))
    else for (const out of userMessages(message.content, dropped)) messages.push(out)
  }
  const body: Json = { model: req.model, messages, max_tokens: req.max_tokens }
  if (req.stop_sequences !== undefined && req.stop_sequences.length > 0) body.stop = req.stop_sequences
  if (req.temperature !== undefined) body.temperature = req.temperature
  if (req.top_p !== undefined) body.top_p = req.top_p
  addTools(body, req, dropped)
  if (req.metadata != null) {
    for (const [key, value] of Object.entries(req.metadata)) {
      if (key === 'user_id') {
        if (typeof value === 'string') body.user = value
      } else if (value != null) dropped.add(`metadata.${key}`)
    }
  }
  if (req.stream === true) {
    body.stream = true
    body.stream_options = { include_usage: true }
  }
  for (const [key, value] of Object.entries(req)) {
    if (!MAPPED.has(key) && value != null) dropped.add(key)
  }
  return { body, dropped: [...dropped.names] }
}

function systemMessage(system: MessagesRequest['system'], dropped: Dropped): Json | undefined {
  if (system === undefined) return undefined
  if (typeof system === 'string') return system === '' ? undefined : { role: 'system', content: system }
  if (system.length === 0) return undefined
  for (const block of system) dropped.check(block)
  return { role: 'system', content: system.map((block) => block.text).join('\n\n') }
}

function assistantMessage(content: string | ContentBlock[], dropped: Dropped): Json {
  if (typeof content === 'string') return { role: 'assistant', content }
  let text: string | null = null
  const calls: Json[] = []
  for (const block of content) {
    dropped.check(block)
    if (block.type === 'text') {
      // Blocks of one answer are one text: Claude splits a paragraph into blocks around citations.
      text = (text ?? '') + (block as TextBlock).text
    } else if (block.type === 'tool_use') {
      const use = block as ToolUseBlock
      calls.push({
        id: use.id,
        type: 'function',
        function: { name: use.name, arguments: JSON.stringify(use.input) },
      })
    } else dropped.add(`messages.content.${block.type}`)
  }
  const out: Json = { role: 'assistant', content: calls.length > 0 ? text : (text ?? '') }
  if (calls.length > 0) out.tool_calls = calls
  return out
}

/** A user message: its tool results as `tool` messages first, then the rest as one user message (if any). */
function userMessages(content: string | ContentBlock[], dropped: Dropped): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }]
  const out: Json[] = []
  const parts: Json[] = []
  for (const block of content) {
    dropped.check(block)
    if (block.type === 'tool_result') out.push(toolMessage(block as ToolResultBlock, parts, dropped))
    else {
      const part = userPart(block, dropped)
      if (part !== undefined) parts.push(part)
    }
  }
  if (parts.length > 0 || out.length === 0) {
    // A lone text stays a plain string, which every OpenAI-compatible server accepts.
    const only = parts.length === 1 ? parts[0] : undefined
    const body = only?.type === 'text' ? only.text : parts.length === 0 ? '' : parts
    out.push({ role: 'user', content: body })
  }
  return out
}

function userPart(block: ContentBlock, dropped: Dropped): Json | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: (block as TextBlock).text }
    case 'image':
      return imagePart(block as ImageBlock, dropped)
    case 'document':
      return documentPart(block as DocumentBlock, dropped)
    default:
      dropped.add(`messages.content.${block.type}`)
      return undefined
  }
}

function imagePart(block: ImageBlock, dropped: Dropped): Json | undefined {
  const source = block.source as Json
  if (source.type === 'base64')
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: source.url } }
  dropped.add(`messages.content.image.${source.type}`)
  return undefined
}

/** A PDF as OpenAI's `file` part, a plain-text document as text; a document by URL or file id has no form. */
function documentPart(block: DocumentBlock, dropped: Dropped): Json | undefined {
  const source = block.source as Json
  if (source.type === 'text') return { type: 'text', text: source.data }
  if (source.type === 'base64') {
    const filename = typeof block.title === 'string' && block.title !== '' ? block.title : 'document.pdf'
    return { type: 'file', file: { filename, file_data: `data:${source.media_type};base64,${source.data}` } }
  }
  dropped.add(`messages.content.document.${source.type}`)
  return undefined
}

/**
 * A tool result as a `tool` message with text content. Its images cannot go in a tool message, so they join
 * the user message that follows (`parts`), where a vision model still sees them.
 */
function toolMessage(block: ToolResultBlock, parts: Json[], dropped: Dropped): Json {
  let text = ''
  const content = block.content
  if (typeof content === 'string') text = content
  else if (content !== undefined) {
    const texts: string[] = []
    for (const inner of content as ContentBlock[]) {
      dropped.check(inner)
      const part = userPart(inner, dropped)
      if (part === undefined) continue
      if (part.type === 'text') texts.push(part.text as string)
      else parts.push(part)
    }
    text = texts.join('\n')
  }
  if (block.is_error === true) text = text === '' ? TOOL_ERROR : `${TOOL_ERROR}: ${text}`
  return { role: 'tool', tool_call_id: block.tool_use_id, content: text }
}

function addTools(body: Json, req: MessagesRequest, dropped: Dropped): void {
  const tools: Json[] = []
  for (const tool of req.tools ?? []) {
    dropped.check(tool)
    if ((tool.type !== undefined && tool.type !== 'custom') || tool.input_schema === undefined) {
      dropped.add(`tools.${tool.type ?? tool.name}`)
      continue
    }
    const fn: Json = { name: tool.name }
    if (tool.description !== undefined) fn.description = tool.description
    fn.parameters = tool.input_schema
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict
    tools.push({ type: 'function', function: fn })
  }
  const choice = req.tool_choice
  // OpenAI rejects `tools: []`, and a tool_choice or parallel_tool_calls without tools.
  if (tools.length === 0) {
    if (choice !== undefined && choice.type !== 'none' && choice.type !== 'auto') dropped.add('tool_choice')
    return
  }
  body.tools = tools
  if (choice === undefined) return
  body.tool_choice =
    choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : TOOL_CHOICE[choice.type]
  if (choice.disable_parallel_tool_use === true) body.parallel_tool_calls = false
}
