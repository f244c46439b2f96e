// Anthropic's streaming events → OpenAI chat.completion.chunk payloads.
//
//   message_start                      → a role chunk: {role: assistant, content: ""}
//   content_block_start text           → (its text, if the start already carries some)
//   content_block_delta text_delta     → {content}
//   content_block_start tool_use       → {tool_calls: [{index, id, type, function: {name, arguments: ""}}]}
//   content_block_delta input_json_delta → {tool_calls: [{index, function: {arguments}}]}
//   message_delta                      → {} with finish_reason
//   message_stop                       → the usage chunk (choices: []) when the client asked for it; the end
//   ping, thinking and server-tool blocks, unknown events → nothing
//   error                              → a GatewayError, thrown once the chunks before it are handed on

import type { Clock } from '../../core/clock.js'
import { GatewayError } from '../../core/errors.js'
import { SseParser } from '../../core/sse.js'
import { mapStreamError } from './errors.js'
import { type AnthropicUsage, finishReason, openAIUsage } from './response.js'

export interface StreamTranslateOptions {
  providerId: string
  /** End with a usage chunk (choices empty), every chunk before it carrying `usage: null`. */
  includeUsage: boolean
  /** Gives the chunks' `created`. */
  clock: Pick<Clock, 'epoch'>
}

/**
 * The upstream SSE body → batches of OpenAI chunk JSON texts, one batch per upstream read that completed at
 * least one chunk. Returns after `message_stop`; throws the mapped GatewayError on an `error` event, and
 * MERIDIAN_UPSTREAM_INVALID_RESPONSE when the body ends without `message_stop` or breaks the protocol.
 *
 * @example for await (const batch of translateStream(res.body, { providerId: 'claude', includeUsage: false, clock })) write(batch)
 */
export async function* translateStream(
  source: AsyncIterable<Uint8Array>,
  options: StreamTranslateOptions,
): AsyncIterable<string[]> {
  const parser = new SseParser()
  const translator = new ChunkTranslator(options)
  for await (const bytes of source) {
    const { batch, error } = translator.feed(parser.push(bytes))
    if (batch.length > 0) yield batch
    if (error !== undefined) throw error
    if (translator.stopped) return
  }
  const { batch, error } = translator.feed(parser.end())
  if (batch.length > 0) yield batch
  if (error !== undefined) throw error
  if (!translator.stopped) {
    throw new GatewayError(
      'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
      `upstream ${options.providerId} ended the stream before message_stop`,
    )
  }
}

/** A block of the message being streamed, by Anthropic's block index. */
type OpenBlock =
  | { kind: 'text' }
  | { kind: 'tool'; index: number; sentArguments: boolean }
  | { kind: 'other' }

interface AnthropicEvent {
  type?: unknown
  index?: unknown
  message?: { id?: unknown; model?: unknown; usage?: AnthropicUsage }
  content_block?: { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown }
  delta?: { type?: unknown; text?: unknown; partial_json?: unknown; stop_reason?: unknown }
  usage?: AnthropicUsage
}

class ChunkTranslator {
  /** `message_stop` was seen: nothing after it is read. */
  stopped = false
  readonly #options: StreamTranslateOptions
  /** Everything of a chunk before its delta; set by `message_start`. */
  #head: string | undefined
  #headless = ''
  #tail: string
  #usage: AnthropicUsage = {}
  #blocks = new Map<number, OpenBlock>()
  #toolCalls = 0
  #finished = false

  constructor(options: StreamTranslateOptions) {
    this.#options = options
    this.#tail = options.includeUsage ? '}],"usage":null}' : '}]}'
  }

  /** The chunks these events make; an error stops the batch where it happened and comes back beside it. */
  feed(events: string[]): { batch: string[]; error?: unknown } {
    const batch: string[] = []
    try {
      for (const data of events) {
        this.#event(data, batch)
        if (this.stopped) break
      }
    } catch (error) {
      return { batch, error }
    }
    return { batch }
  }

  #event(data: string, out: string[]): void {
    let event: AnthropicEvent
    try {
      event = JSON.parse(data) as AnthropicEvent
    } catch {
      throw this.#invalid('an event that is not JSON')
    }
    const type = event?.type
    if (type === 'error') throw mapStreamError(this.#options.providerId, data)
    if (type === 'ping') return
    if (type === 'message_start') {
      this.#start(event, out)
      return
    }
    if (this.#head === undefined) throw this.#invalid(`${JSON.stringify(type)} before message_start`)
    switch (type) {
      case 'content_block_start':
        this.#blockStart(event, out)
        break
      case 'content_block_delta':
        this.#blockDelta(event, out)
        break
      case 'content_block_stop':
        this.#blockStop(event, out)
        break
      case 'message_delta':
        this.#addUsage(event.usage)
        this.#finish(finishReason(event.delta?.stop_reason), out)
        break
      case 'message_stop':
        this.#stop(out)
        break
      default:
      // Anthropic may add event types; it asks clients to ignore the ones they do not know.
    }
  }

  #stop(out: string[]): void {
    // message_delta always precedes message_stop; should one go missing, the answer still ends properly.
    if (!this.#finished) this.#finish('stop', out)
    if (this.#options.includeUsage) {
      out.push(`${this.#headless}"choices":[],"usage":${JSON.stringify(openAIUsage(this.#usage))}}`)
    }
    this.stopped = true
  }

  #start(event: AnthropicEvent, out: string[]): void {
    if (this.#head !== undefined) throw this.#invalid('a second message_start')
    const message = event.message
    if (typeof message?.id !== 'string') throw this.#invalid('a message_start without a message id')
    const created = Math.floor(this.#options.clock.epoch() / 1000)
    this.#headless =
      `{"id":${JSON.stringify(message.id)},"object":"chat.completion.chunk","created":${created},` +
      `"model":${JSON.stringify(String(message.model))},`
    this.#head = `${this.#headless}"choices":[{"index":0,"delta":`
    this.#addUsage(message.usage)
    this.#push(out, '{"role":"assistant","content":"","refusal":null}')
  }

  #blockStart(event: AnthropicEvent, out: string[]): void {
    const index = this.#index(event)
    const block = event.content_block
    if (block?.type === 'text') {
      this.#blocks.set(index, { kind: 'text' })
      if (typeof block.text === 'string' && block.text !== '') this.#content(block.text, out)
    } else if (block?.type === 'tool_use') {
      // OpenAI numbers tool calls from 0; Anthropic's block index also counts the text blocks before them.
      const open = { kind: 'tool' as const, index: this.#toolCalls++, sentArguments: false }
      this.#blocks.set(index, open)
      const start = {
        index: open.index,
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: '' },
      }
      this.#push(out, `{"tool_calls":[${JSON.stringify(start)}]}`)
      // The input streams as input_json_delta; a start that already carries it (non-empty) is sent at once.
      if (typeof block.input === 'object' && block.input !== null && Object.keys(block.input).length > 0) {
        this.#arguments(open, JSON.stringify(block.input), out)
      }
    } else {
      this.#blocks.set(index, { kind: 'other' })
    }
  }

  #blockDelta(event: AnthropicEvent, out: string[]): void {
    const block = this.#blocks.get(this.#index(event))
    if (block === undefined) throw this.#invalid('a content_block_delta for a block that never started')
    const delta = event.delta
    if (block.kind === 'text' && delta?.type === 'text_delta' && typeof delta.text === 'string') {
      if (delta.text !== '') this.#content(delta.text, out)
    } else if (block.kind === 'tool' && delta?.type === 'input_json_delta') {
      // The first piece is often "": an empty delta tells the client nothing.
      if (typeof delta.partial_json === 'string' && delta.partial_json !== '') {
        this.#arguments(block, delta.partial_json, out)
      }
    }
  }

  #blockStop(event: AnthropicEvent, out: string[]): void {
    const index = this.#index(event)
    const block = this.#blocks.get(index)
    // A tool without parameters streams no input at all; OpenAI clients parse the arguments, so send "{}".
    if (block?.kind === 'tool' && !block.sentArguments) this.#arguments(block, '{}', out)
    this.#blocks.delete(index)
  }

  #content(text: string, out: string[]): void {
    this.#push(out, `{"content":${JSON.stringify(text)}}`)
  }

  #arguments(block: { index: number; sentArguments: boolean }, piece: string, out: string[]): void {
    block.sentArguments = true
    this.#push(
      out,
      `{"tool_calls":[{"index":${block.index},"function":{"arguments":${JSON.stringify(piece)}}}]}`,
    )
  }

  #finish(reason: string, out: string[]): void {
    if (this.#finished) return
    this.#finished = true
    out.push(`${this.#head}{},"logprobs":null,"finish_reason":"${reason}"${this.#tail}`)
  }

  #push(out: string[], delta: string): void {
    out.push(`${this.#head}${delta},"logprobs":null,"finish_reason":null${this.#tail}`)
  }

  /** Counts in message_delta are cumulative: a field it carries replaces the one from message_start. */
  #addUsage(usage: AnthropicUsage | undefined): void {
    if (usage === undefined || usage === null) return
    for (const key of [
      'input_tokens',
      'output_tokens',
      'cache_creation_input_tokens',
      'cache_read_input_tokens',
    ] as const) {
      const value = usage[key]
      if (typeof value === 'number') this.#usage[key] = value
    }
  }

  #index(event: AnthropicEvent): number {
    if (typeof event.index !== 'number') throw this.#invalid(`a ${String(event.type)} event without an index`)
    return event.index
  }

  #invalid(what: string): GatewayError {
    return new GatewayError(
      'MERIDIAN_UPSTREAM_INVALID_RESPONSE',
      `upstream ${this.#options.providerId} sent ${what} in its stream`,
    )
  }
}
