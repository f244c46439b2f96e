type Json = Record<string, unknown>

/** What OpenAI bills an image at high detail with one tile; a fixed guess, since the image is not fetched. */
const IMAGE_TOKENS = 765
/** OpenAI's chat framing: per message, and once for the reply's priming. */
const PER_MESSAGE = 3
const PRIMING = 3

function contentTokens(content: unknown, count: (text: string) => number): number {
  if (typeof content === 'string') return count(content)
  if (!Array.isArray(content)) return 0
  let tokens = 0
  for (const part of content as Json[]) {
    if (typeof part?.text === 'string') tokens += count(part.text)
    else if (part?.type === 'image_url' || part?.type === 'input_image' || part?.type === 'image')
      tokens += IMAGE_TOKENS
    else if (part !== null && typeof part === 'object') tokens += count(JSON.stringify(part))
  }
  return tokens
}

/**
 * A chat request's prompt in tokens, counted with `count` (a real tokenizer on Node): every message's text, tool
 * calls and tool results, the tool definitions and the response format, with OpenAI's per-message framing. For
 * models whose tokenizer differs it is close, not exact; budgets reserve with a margin for that.
 */
export function chatPromptTokens(body: Json, count: (text: string) => number): number {
  let tokens = PRIMING
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : []
  for (const message of messages) {
    tokens += PER_MESSAGE + contentTokens(message?.content, count)
    if (typeof message?.name === 'string') tokens += count(message.name)
    const calls = message?.tool_calls
    if (Array.isArray(calls)) {
      for (const call of calls as Json[]) {
        const fn = call?.function as Json | undefined
        if (typeof fn?.name === 'string') tokens += count(fn.name)
        if (typeof fn?.arguments === 'string') tokens += count(fn.arguments)
      }
    }
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) tokens += count(JSON.stringify(body.tools))
  if (body.response_format !== undefined && body.response_format !== null)
    tokens += count(JSON.stringify(body.response_format))
  return tokens
}

/** An embeddings request's input in tokens (token arrays count as they are). */
export function embeddingsInputTokens(body: Json, count: (text: string) => number): number {
  const input = body.input
  if (typeof input === 'string') return count(input)
  if (!Array.isArray(input)) return 0
  let tokens = 0
  for (const item of input) {
    if (typeof item === 'string') tokens += count(item)
    else if (Array.isArray(item)) tokens += item.length
    else if (typeof item === 'number') tokens += 1
  }
  return tokens
}

/** `max_completion_tokens` or `max_tokens`, when the request sets one. */
export function requestedMaxTokens(body: Json): number | undefined {
  const max = body.max_completion_tokens ?? body.max_tokens
  return typeof max === 'number' ? max : undefined
}

/** How many answers a chat request asks for (`n`). */
export function choicesOf(body: Json): number {
  return typeof body.n === 'number' && body.n > 1 ? body.n : 1
}
