// Folds a streamed chat answer back into the `chat.completion` a non-streaming client would have received,
// so the exact-response cache stores one shape whichever way the answer was produced (replay.ts goes back).

import { STORABLE_FINISH } from './storable.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** More choices than OpenAI allows (n ≤ 128) means the stream is not what we think it is. */
const MAX_CHOICES = 128

interface ToolCallState {
  id: string | undefined
  name: string | undefined
  arguments: string
}

interface ChoiceState {
  role: unknown
  content: string
  sawContent: boolean
  refusal: string
  toolCalls: ToolCallState[]
  functionCall: { name: string | undefined; arguments: string } | undefined
  annotations: unknown[] | undefined
  logprobs: { content: unknown[] | null; refusal: unknown[] | null } | null
  finishReason: string | null
}

const newChoice = (): ChoiceState => ({
  role: undefined,
  content: '',
  sawContent: false,
  refusal: '',
  toolCalls: [],
  functionCall: undefined,
  annotations: undefined,
  logprobs: null,
  finishReason: null,
})

/** Appends without spreading, so a long array cannot overflow the argument stack. */
function append(target: unknown[] | null, items: unknown[]): unknown[] {
  const out = target ?? []
  for (const item of items) out.push(item)
  return out
}

/**
 * Accumulates `chat.completion.chunk` payloads as they pass through and, once the stream ended, yields the
 * equivalent `chat.completion` JSON text. Each payload is parsed once; text is concatenated, nothing is
 * re-serialized until `result()`. Anything that could not be stored faithfully poisons it: `result()` is
 * then undefined, and later pushes are ignored.
 *
 * @example
 * const assembler = new StreamAssembler()
 * for (const batch of stream) for (const chunk of batch) assembler.push(chunk)
 * const body = assembler.result() // chat.completion JSON, or undefined: do not cache
 */
export class StreamAssembler {
  #failed = false
  #id: string | undefined
  #created: unknown
  #model: unknown
  #fingerprint: unknown
  #serviceTier: unknown
  #usage: Json | undefined
  readonly #choices: ChoiceState[] = []

  /** Takes one chunk payload (the JSON text after `data: `). Never throws. */
  push(chunkJson: string): void {
    if (this.#failed) return
    let chunk: unknown
    try {
      chunk = JSON.parse(chunkJson)
    } catch {
      this.#failed = true
      return
    }
    if (!isObject(chunk) || chunk.error != null || !Array.isArray(chunk.choices)) {
      this.#failed = true
      return
    }
    // An empty id marks a chunk with no identity of its own (Azure's prompt-filter chunk comes first).
    const id = chunk.id
    if (typeof id === 'string' && id !== '') {
      if (this.#id === undefined) {
        this.#id = id
        this.#created = chunk.created
        this.#model = chunk.model
      } else if (id !== this.#id) {
        this.#failed = true
        return
      }
    }
    if (this.#fingerprint == null) this.#fingerprint = chunk.system_fingerprint
    if (this.#serviceTier == null) this.#serviceTier = chunk.service_tier
    if (isObject(chunk.usage)) this.#usage = chunk.usage
    for (const choice of chunk.choices) {
      if (!this.#addChoice(choice)) {
        this.#failed = true
        return
      }
    }
  }

  #addChoice(raw: unknown): boolean {
    if (!isObject(raw)) return false
    const index = raw.index
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= MAX_CHOICES)
      return false
    let choice = this.#choices[index]
    if (choice === undefined) {
      choice = newChoice()
      this.#choices[index] = choice
    }
    const finish = raw.finish_reason
    if (typeof finish === 'string') {
      if (!STORABLE_FINISH.has(finish)) return false
      choice.finishReason = finish
    }
    if (isObject(raw.logprobs)) {
      const { content, refusal } = raw.logprobs
      if (choice.logprobs === null) choice.logprobs = { content: null, refusal: null }
      const state = choice.logprobs
      if (Array.isArray(content)) state.content = append(state.content, content)
      if (Array.isArray(refusal)) state.refusal = append(state.refusal, refusal)
    }
    const delta = raw.delta
    if (!isObject(delta)) return delta == null
    if (delta.audio != null) return false // audio answers are not replayable from text
    if (delta.role != null && choice.role === undefined) choice.role = delta.role
    if (typeof delta.content === 'string') {
      choice.content += delta.content
      choice.sawContent = true
    }
    if (typeof delta.refusal === 'string') choice.refusal += delta.refusal
    if (Array.isArray(delta.annotations))
      choice.annotations = append(choice.annotations ?? null, delta.annotations)
    if (Array.isArray(delta.tool_calls) && !addToolCalls(choice.toolCalls, delta.tool_calls)) return false
    if (isObject(delta.function_call)) {
      const { name, arguments: args } = delta.function_call
      if (choice.functionCall === undefined) choice.functionCall = { name: undefined, arguments: '' }
      const call = choice.functionCall
      if (typeof name === 'string' && call.name === undefined) call.name = name
      if (typeof args === 'string') call.arguments += args
    }
    return true
  }

  /** The `chat.completion` JSON text, or undefined when the stream was incomplete, filtered or malformed. */
  result(): string | undefined {
    const count = this.#choices.length
    if (this.#failed || this.#id === undefined || count === 0) return undefined
    if (typeof this.#created !== 'number' || typeof this.#model !== 'string') return undefined
    const choices: Json[] = new Array(count)
    for (let index = 0; index < count; index++) {
      const choice = this.#choices[index]
      const message = choice === undefined ? undefined : finalMessage(choice)
      if (choice === undefined || message === undefined || choice.finishReason === null) return undefined
      choices[index] = { index, message, logprobs: choice.logprobs, finish_reason: choice.finishReason }
    }
    const completion: Json = {
      id: this.#id,
      object: 'chat.completion',
      created: this.#created,
      model: this.#model,
    }
    if (typeof this.#serviceTier === 'string') completion.service_tier = this.#serviceTier
    if (typeof this.#fingerprint === 'string') completion.system_fingerprint = this.#fingerprint
    completion.choices = choices
    if (this.#usage !== undefined) completion.usage = this.#usage
    return JSON.stringify(completion)
  }
}

function addToolCalls(calls: ToolCallState[], pieces: unknown[]): boolean {
  for (let position = 0; position < pieces.length; position++) {
    const piece = pieces[position]
    if (!isObject(piece)) return false
    // `index` is required by the spec; a provider that omits it sends whole calls, one per position.
    const index = typeof piece.index === 'number' ? piece.index : position
    if (!Number.isInteger(index) || index < 0 || index >= MAX_CHOICES) return false
    if (piece.type != null && piece.type !== 'function') return false // custom tools have no chunk form
    let call = calls[index]
    if (call === undefined) {
      call = { id: undefined, name: undefined, arguments: '' }
      calls[index] = call
    }
    if (typeof piece.id === 'string' && piece.id !== '' && call.id === undefined) call.id = piece.id
    const fn = piece.function
    if (isObject(fn)) {
      if (typeof fn.name === 'string' && fn.name !== '' && call.name === undefined) call.name = fn.name
      if (typeof fn.arguments === 'string') call.arguments += fn.arguments
    }
  }
  return true
}

/** The message of a finished choice; undefined when a part is missing (a tool call without id or name). */
function finalMessage(choice: ChoiceState): Json | undefined {
  const role = choice.role ?? 'assistant'
  if (role !== 'assistant') return undefined
  const calls = choice.toolCalls
  const refusal = choice.refusal === '' ? null : choice.refusal
  // OpenAI sends `content: null` beside tool calls or a refusal, even when the stream opened with "".
  const other = calls.length > 0 || choice.functionCall !== undefined || refusal !== null
  const content = !choice.sawContent || (choice.content === '' && other) ? null : choice.content
  const message: Json = { role, content, refusal }
  if (calls.length > 0) {
    const toolCalls: Json[] = new Array(calls.length)
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]
      if (call?.id === undefined || call.name === undefined) return undefined
      toolCalls[i] = {
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }
    }
    message.tool_calls = toolCalls
  }
  const fn = choice.functionCall
  if (fn !== undefined) {
    if (fn.name === undefined) return undefined
    message.function_call = { name: fn.name, arguments: fn.arguments }
  }
  if (choice.annotations !== undefined) message.annotations = choice.annotations
  return message
}
