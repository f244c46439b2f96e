import { GatewayError } from '../../core/errors.js'
import { type AnthropicUsage, anthropicUsage, isObject, stopReason, toolUseId } from './from-openai.js'

type Json = Record<string, unknown>

/** One server-sent event as Anthropic frames it: the SDKs dispatch on the `event:` line, then parse `data:`. */
function frame(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`
}

/** The content block being written: text, or the tool call with this OpenAI `index`. */
type OpenBlock = { index: number; tool: number | undefined }

/**
 * Translates an OpenAI chunk stream into Anthropic's Messages stream, chunk by chunk, never buffering text:
 * `message_start`, then per block `content_block_start`, its deltas (`text_delta`, `input_json_delta` with the
 * argument pieces as they come) and `content_block_stop`, then `message_delta` (stop reason, usage) and
 * `message_stop`. Blocks follow one another: a new one closes the open one. Only choice 0 is read.
 *
 * Usage: OpenAI reports it in the last chunk (the request asks for `include_usage`), after the answer, so
 * `message_start` carries zeros unless the first chunk already has it, and `message_delta` carries the final
 * counts, input included, as Anthropic's own `message_delta` does; the SDKs take them from there.
 *
 * @example
 * const t = new MessagesStreamTranslator('claude-sonnet-4-5', messageIdFor(firstChunk.id))
 * for (const chunk of batch) write(t.push(chunk).join(''))
 * write(t.end().join(''))
 */
export class MessagesStreamTranslator {
  readonly #model: string
  readonly #id: string
  #started = false
  #ended = false
  #next = 0
  #open: OpenBlock | undefined
  /** OpenAI tool-call index → Anthropic block index. */
  readonly #tools = new Map<number, number>()
  #finish: unknown
  #refusal = false
  #usage: unknown

  constructor(requestedModel: string, messageId: string) {
    this.#model = requestedModel
    this.#id = messageId
  }

  /** The frames one OpenAI chunk (JSON text) produces: often one, none for a usage-only or role-only chunk. */
  push(chunkJson: string): string[] {
    let chunk: unknown
    try {
      chunk = JSON.parse(chunkJson)
    } catch {
      throw new GatewayError(
        'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
        'the upstream sent a stream chunk that is not JSON',
      )
    }
    if (!isObject(chunk) || this.#ended) return []
    const out: string[] = []
    if (isObject(chunk.usage)) this.#usage = chunk.usage
    if (!this.#started) this.#start(out)
    const choices = Array.isArray(chunk.choices) ? chunk.choices : []
    const choice = choices.find((c) => isObject(c) && (c.index ?? 0) === 0)
    if (!isObject(choice)) return out
    const delta = isObject(choice.delta) ? choice.delta : {}
    if (typeof delta.content === 'string' && delta.content !== '') this.#text(out, delta.content)
    if (typeof delta.refusal === 'string' && delta.refusal !== '') {
      this.#refusal = true
      this.#text(out, delta.refusal)
    }
    if (Array.isArray(delta.tool_calls)) {
      for (let position = 0; position < delta.tool_calls.length; position++) {
        const piece: unknown = delta.tool_calls[position]
        if (isObject(piece)) this.#toolPiece(out, piece, position)
      }
    }
    if (typeof choice.finish_reason === 'string') this.#finish = choice.finish_reason
    return out
  }

  /** The closing frames, once the upstream finished: the open block's stop, `message_delta`, `message_stop`. */
  end(): string[] {
    if (this.#ended) return []
    const out: string[] = []
    if (!this.#started) this.#start(out)
    this.#close(out)
    this.#ended = true
    const usage = anthropicUsage(this.#usage)
    out.push(
      frame('message_delta', {
        type: 'message_delta',
        delta: {
          stop_reason: stopReason(this.#finish, this.#tools.size > 0, this.#refusal),
          stop_sequence: null,
        },
        usage,
      }),
    )
    out.push(frame('message_stop', { type: 'message_stop' }))
    return out
  }

  /**
   * The frame for a failure after the stream started (the status is sent already): Anthropic's `event: error`,
   * which the SDKs raise. Nothing follows it.
   *
   * @example t.error({ type: 'api_error', message: 'upstream failed' })
   */
  error(err: { type: string; message: string }): string {
    this.#ended = true
    return frame('error', { type: 'error', error: { type: err.type, message: err.message } })
  }

  #start(out: string[]): void {
    this.#started = true
    const usage: AnthropicUsage = anthropicUsage(this.#usage)
    out.push(
      frame('message_start', {
        type: 'message_start',
        message: {
          id: this.#id,
          type: 'message',
          role: 'assistant',
          model: this.#model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      }),
    )
  }

  #close(out: string[]): void {
    if (this.#open === undefined) return
    out.push(frame('content_block_stop', { type: 'content_block_stop', index: this.#open.index }))
    this.#open = undefined
  }

  #begin(out: string[], tool: number | undefined, block: Json): number {
    this.#close(out)
    const index = this.#next++
    this.#open = { index, tool }
    out.push(frame('content_block_start', { type: 'content_block_start', index, content_block: block }))
    return index
  }

  #text(out: string[], text: string): void {
    const index =
      this.#open !== undefined && this.#open.tool === undefined
        ? this.#open.index
        : this.#begin(out, undefined, { type: 'text', text: '' })
    out.push(
      frame('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text },
      }),
    )
  }

  #toolPiece(out: string[], piece: Json, position: number): void {
    // `index` is required by the spec; a provider that omits it sends whole calls, one per position.
    const tool = typeof piece.index === 'number' ? piece.index : position
    const fn = isObject(piece.function) ? piece.function : {}
    let index = this.#tools.get(tool)
    if (index === undefined) {
      index = this.#begin(out, tool, {
        type: 'tool_use',
        id: toolUseId(piece.id, this.#id, this.#tools.size),
        name: typeof fn.name === 'string' ? fn.name : '',
        input: {},
      })
      this.#tools.set(tool, index)
    }
    // A piece for a call whose block was closed (a provider interleaving parallel calls) still carries that
    // block's index, which is how the SDKs place a delta.
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      out.push(
        frame('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: fn.arguments },
        }),
      )
    }
  }
}
