import { estimateTextTokens } from '../../limits/estimate.js'
import type { ContentBlock, CountTokensRequest } from './schemas.js'

/*
 * `POST /v1/messages/count_tokens` without a tokenizer: an estimate, since the model behind the name may be
 * anyone's and no tokenizer tables are loaded at the edge. Text is counted by `estimateTextTokens` (about four
 * ASCII characters per token, one per other character); what has no text gets a fixed, documented guess.
 */

/** Per-message framing (role, separators), as OpenAI's cookbook counts it. */
const MESSAGE_TOKENS = 4
/**
 * An image: Anthropic bills width × height / 750 and scales images down to about 1.15 megapixels, so a
 * large image costs about 1,600 tokens. The image is not decoded to measure it, so the upper figure is used.
 */
const IMAGE_TOKENS = 1600
/** A PDF document: Anthropic counts 1,500 to 3,000 tokens a page; the page count is not read, one page is. */
const DOCUMENT_TOKENS = 1500

type Json = Record<string, unknown>

function blockTokens(block: ContentBlock): number {
  switch (block.type) {
    case 'text':
      return estimateTextTokens(String(block.text))
    case 'thinking':
      return estimateTextTokens(String(block.thinking))
    case 'image':
      return IMAGE_TOKENS
    case 'document': {
      const source = block.source as Json
      return source.type === 'text' ? estimateTextTokens(String(source.data)) : DOCUMENT_TOKENS
    }
    case 'tool_use':
      return estimateTextTokens(String(block.name) + JSON.stringify(block.input))
    case 'tool_result':
      return contentTokens(block.content as string | ContentBlock[] | undefined)
    default:
      // A block this estimate does not know: its JSON text is a fair upper bound.
      return estimateTextTokens(JSON.stringify(block))
  }
}

function contentTokens(content: string | ContentBlock[] | undefined): number {
  if (content === undefined) return 0
  if (typeof content === 'string') return estimateTextTokens(content)
  let tokens = 0
  for (const block of content) tokens += blockTokens(block)
  return tokens
}

/**
 * An estimate of a request's input tokens (validated by `countTokensRequestSchema`): its system prompt, its
 * messages with a small overhead each, and its tools as JSON.
 *
 * @example countTokens({ model: 'm', messages: [{ role: 'user', content: 'Hello, world' }] }) // { input_tokens: 7 }
 */
export function countTokens(body: CountTokensRequest): { input_tokens: number } {
  let tokens = 0
  const system = body.system
  if (typeof system === 'string') tokens += estimateTextTokens(system)
  else if (system !== undefined) for (const block of system) tokens += estimateTextTokens(block.text)
  for (const message of body.messages) tokens += MESSAGE_TOKENS + contentTokens(message.content)
  if (body.tools !== undefined && body.tools.length > 0)
    tokens += estimateTextTokens(JSON.stringify(body.tools))
  return { input_tokens: tokens }
}
