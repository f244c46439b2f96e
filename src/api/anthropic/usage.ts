import type { Usage } from '../../routing/cost.js'

const INPUT = /"input_tokens"\s*:\s*(\d+)/g
const OUTPUT = /"output_tokens"\s*:\s*(\d+)/g
const CACHE_READ = /"cache_read_input_tokens"\s*:\s*(\d+)/g
const CACHE_WRITE = /"cache_creation_input_tokens"\s*:\s*(\d+)/g

/**
 * The usage of an answer in Anthropic's own shape, passed through untranslated: a message's `usage`, or a
 * stream's (`message_start` carries the input counts, each `message_delta` the output so far). Counts only
 * grow, so the largest seen of each is the answer's. In OpenAI's terms: the prompt includes cache reads and
 * writes, as the translating provider reports it.
 */
export class AnthropicUsage {
  #input = 0
  #output = 0
  #read = 0
  #write = 0
  #seen = false
  readonly #decoder = new TextDecoder()
  // A count split across two chunks is found once their seam is joined.
  #carry = ''

  /** Scans a piece of the body (text, or bytes as they stream). */
  push(piece: string | Uint8Array): void {
    const text =
      this.#carry + (typeof piece === 'string' ? piece : this.#decoder.decode(piece, { stream: true }))
    this.#carry = text.slice(-64)
    if (!text.includes('_tokens')) return
    this.#seen = true
    this.#input = Math.max(this.#input, largest(INPUT, text))
    this.#output = Math.max(this.#output, largest(OUTPUT, text))
    this.#read = Math.max(this.#read, largest(CACHE_READ, text))
    this.#write = Math.max(this.#write, largest(CACHE_WRITE, text))
  }

  /** The usage seen; undefined when the body carried none. */
  result(): Usage | undefined {
    if (!this.#seen) return undefined
    return {
      prompt: this.#input + this.#read + this.#write,
      completion: this.#output,
      cached: this.#read,
      written: this.#write,
    }
  }
}

function largest(pattern: RegExp, text: string): number {
  let max = 0
  pattern.lastIndex = 0
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) max = Math.max(max, Number(m[1]))
  return max
}
