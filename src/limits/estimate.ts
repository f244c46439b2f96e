import { embeddingsInputTokens } from '../governance/tokens.js'

/**
 * Token estimates for `tpm` reservations. A reservation is settled to the provider's own count when the answer
 * reports usage, so the estimate needs to be fast and not far off, not exact: about four ASCII characters per
 * token (OpenAI's rule of thumb for English and code), one token per other character (CJK scripts run near
 * one per character; accented Latin text is overestimated, which errs on the safe side). One pass, no
 * allocation, no tokenizer tables to load at the edge.
 */
export function estimateTextTokens(text: string): number {
  let ascii = 0
  let other = 0
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) < 128) ascii++
    else other++
  }
  return Math.ceil(ascii / 4) + other
}

/** What OpenAI bills an image at high detail with one tile; a fixed guess, since the image is not fetched. */
const IMAGE_TOKENS = 765
/** Per-message framing (role, separators), as OpenAI's cookbook counts it. */
const MESSAGE_TOKENS = 4

type Json = Record<string, unknown>

function contentTokens(content: unknown): number {
  if (typeof content === 'string') return estimateTextTokens(content)
  if (!Array.isArray(content)) return 0
  let tokens = 0
  for (const part of content as Json[]) {
    if (typeof part?.text === 'string') tokens += estimateTextTokens(part.text)
    else if (part?.type === 'image_url' || part?.type === 'input_image') tokens += IMAGE_TOKENS
  }
  return tokens
}

/** A chat request's reservation: its prompt (messages, tools) and its largest possible output (× n). */
export function chatTokens(body: Json, defaultOutput: number): number {
  let prompt = 0
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : []
  for (const message of messages) {
    prompt += MESSAGE_TOKENS + contentTokens(message?.content)
    const calls = message?.tool_calls
    if (Array.isArray(calls)) {
      for (const call of calls as Json[]) {
        const fn = call?.function as Json | undefined
        if (typeof fn?.arguments === 'string') prompt += estimateTextTokens(fn.arguments)
      }
    }
  }
  if (Array.isArray(body.tools) && body.tools.length > 0)
    prompt += estimateTextTokens(JSON.stringify(body.tools))
  const max = body.max_completion_tokens ?? body.max_tokens
  const output = typeof max === 'number' ? max : defaultOutput
  const n = typeof body.n === 'number' && body.n > 1 ? body.n : 1
  return prompt + output * n
}

/** An embeddings request's reservation: its input (texts, or token arrays counted as they are). */
export function embeddingsTokens(body: Json): number {
  return embeddingsInputTokens(body, estimateTextTokens)
}

/**
 * `usage.total_tokens` of an OpenAI response body, found without parsing the whole body (usage comes last);
 * undefined when the body reports none.
 */
export function usedTokens(json: string): number | undefined {
  const at = json.lastIndexOf('"total_tokens"')
  if (at === -1) return undefined
  const match = /^"total_tokens"\s*:\s*(\d+)/.exec(json.slice(at, at + 40))
  return match ? Number(match[1]) : undefined
}
