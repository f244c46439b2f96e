// Deterministic answers for the simulated upstream. Pure and runtime-agnostic: no node:*, no Buffer, no
// clock (callers pass `created`), so the same request always yields the same bytes, stream or not, and
// cache and replay tests can compare them.

/** A parsed JSON object from a request body. */
export type JsonObject = Record<string, unknown>

export type FinishReason = 'stop' | 'length' | 'tool_calls'

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: {
    index: number
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: ToolCall[] }
    logprobs: null
    finish_reason: FinishReason
  }[]
  usage: Usage
  system_fingerprint: string
}

export interface ChunkDelta {
  role?: 'assistant'
  content?: string | null
  refusal?: null
  tool_calls?: {
    index: number
    id?: string
    type?: 'function'
    function: { name?: string; arguments: string }
  }[]
}

export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  system_fingerprint: string
  choices: { index: number; delta: ChunkDelta; logprobs: null; finish_reason: FinishReason | null }[]
  usage?: Usage | null
}

export interface EmbeddingList {
  object: 'list'
  data: { object: 'embedding'; index: number; embedding: number[] | string }[]
  model: string
  usage: { prompt_tokens: number; total_tokens: number }
}

export interface ModelObject {
  id: string
  object: 'model'
  created: number
  owned_by: string
}

export interface ModelList {
  object: 'list'
  data: ModelObject[]
}

export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** What is wrong with a request, in the terms of OpenAI's 400 envelope. */
export interface RequestProblem {
  message: string
  param: string | null
}

// ---------------------------------------------------------------------------------------------------------
// Hashing and randomness

/** A 64-bit hash as two unsigned 32-bit halves (bigint would be slower on this hot path). */
export interface Hash64 {
  hi: number
  lo: number
}

/**
 * FNV-1a 64 over the string's UTF-16 code units (equal to byte-wise FNV-1a for ASCII).
 *
 * @example fnv1a64('a') // { hi: 0xaf63dc4c, lo: 0x8601ec8c }
 */
export function fnv1a64(text: string): Hash64 {
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0
    // The prime is 2^40 + 0x1b3: multiply each half by 0x1b3, carry the low half's overflow, and add the
    // low half shifted by 40 (that is, by 8 into the high half). Every intermediate stays below 2^53.
    const low = lo * 0x1b3
    hi = (hi * 0x1b3 + Math.floor(low / 0x1_0000_0000) + (lo << 8)) >>> 0
    lo = low >>> 0
  }
  return { hi, lo }
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}

/** sfc32: small, fast and good enough to pick words; seeded from a hash and a salt (the choice index). */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: Hash64, salt = 0) {
    this.a = seed.hi
    this.b = seed.lo
    this.c = (salt * 0x9e3779b9) >>> 0
    this.d = 1
    for (let i = 0; i < 12; i++) this.next()
  }

  /** The next unsigned 32-bit value. */
  next(): number {
    let t = (this.a + this.b) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.d = (this.d + 1) | 0
    t = (t + this.d) | 0
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** An integer in [0, n). The modulo bias is irrelevant for n this small. */
  below(n: number): number {
    return this.next() % n
  }

  /** A float in [0, 1). */
  unit(): number {
    return this.next() / 0x1_0000_0000
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chat

// One string keeps the list compact; split once at load.
const VOCABULARY: readonly string[] = (
  'the gateway routes each request to a healthy provider and streams tokens back quickly while caching ' +
  'answers for later use latency stays low when upstream models respond in time budgets keep spending ' +
  'under control every project has its own keys policies limits meridian runs at origin edge with one ' +
  'codebase retries hedge slow calls fallbacks cover outages metrics show what happened why simple ' +
  'config files describe strategy tree weights decide which route wins prompts are fingerprinted so ' +
  'repeated questions cost nothing embeddings vectors measure meaning clusters of related ideas form ' +
  'naturally river mountain lantern harbor meadow signal orbit copper willow granite ember tide compass ' +
  'atlas prism quiet bright steady careful useful clear small large fast open secure modern robust ' +
  'gentle precise honest patient curious'
).split(' ')

const DEFAULT_MIN_WORDS = 12
const DEFAULT_SPAN_WORDS = 29 // 12..40 words
const TOOL_ARGUMENT_PIECE = 8 // characters of tool-call arguments per stream chunk
const MESSAGE_OVERHEAD_TOKENS = 4

/** The usual estimate of ~4 characters a token; exact tokenisation is not the point of a simulator. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function messageChars(message: unknown): number {
  if (!isObject(message)) return 0
  let chars = 0
  const content = message.content
  if (typeof content === 'string') chars += content.length
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (isObject(part) && typeof part.text === 'string') chars += part.text.length
      else chars += JSON.stringify(part)?.length ?? 0
    }
  }
  if (message.tool_calls !== undefined) chars += JSON.stringify(message.tool_calls)?.length ?? 0
  return chars
}

/**
 * Prompt tokens of a chat request: for each message 4 + ceil(chars / 4), where chars counts string content,
 * text parts, the JSON of other parts and of `tool_calls`; plus ceil(JSON(tools).length / 4) when tools are sent.
 */
export function chatPromptTokens(body: JsonObject): number {
  let tokens = 0
  if (Array.isArray(body.messages)) {
    for (const message of body.messages)
      tokens += MESSAGE_OVERHEAD_TOKENS + Math.ceil(messageChars(message) / 4)
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) tokens += estimateTokens(JSON.stringify(body.tools))
  return tokens
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1
}

/** Checks what the simulator relies on; `model` is the Azure deployment when the path names one. */
export function chatRequestProblem(body: unknown, model?: string): RequestProblem | null {
  if (!isObject(body)) return { message: 'The request body must be a JSON object.', param: null }
  if (model === undefined && (typeof body.model !== 'string' || body.model === '')) {
    return { message: 'you must provide a model parameter', param: 'model' }
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { message: "Invalid 'messages': expected a non-empty array of messages.", param: 'messages' }
  }
  if (body.n !== undefined && body.n !== null && (!isPositiveInt(body.n) || body.n > 128)) {
    return { message: "Invalid 'n': expected an integer between 1 and 128.", param: 'n' }
  }
  for (const key of ['max_tokens', 'max_completion_tokens']) {
    const value = body[key]
    if (value !== undefined && value !== null && !isPositiveInt(value)) {
      return { message: `Invalid '${key}': expected a positive integer.`, param: key }
    }
  }
  return null
}

export interface ChoicePlan {
  index: number
  /** The content as it is streamed: joined, it is `content`; for a tool call, the argument pieces. */
  pieces: string[]
  content: string | null
  toolCall: ToolCall | null
  finishReason: FinishReason
}

/** Everything an answer is made of, computed once and rendered as a completion or as stream chunks. */
export interface ChatPlan {
  id: string
  model: string
  fingerprint: string
  choices: ChoicePlan[]
  usage: Usage
}

export interface ChatPlanOptions {
  /** Exact number of words (and content chunks) per choice; null or absent lets the hash pick 12 to 40. */
  chunks?: number | null
  /** The model to answer as, when it is not the body's (an Azure deployment). */
  model?: string
}

/**
 * The hash that identifies a request's meaning: the body without `stream` and `stream_options`, so a
 * streamed and a non-streamed request get the same answer.
 */
export function requestHash(body: JsonObject, model: string): Hash64 {
  let semantic = body
  if ('stream' in body || 'stream_options' in body) {
    const { stream: _stream, stream_options: _streamOptions, ...rest } = body
    semantic = rest
  }
  return fnv1a64(`${model}\u0000${JSON.stringify(semantic)}`)
}

function textPieces(rng: Prng, chunks: number | null | undefined): string[] {
  const count = chunks ?? DEFAULT_MIN_WORDS + rng.below(DEFAULT_SPAN_WORDS)
  const pieces = new Array<string>(count)
  for (let i = 0; i < count; i++) {
    const word = VOCABULARY[rng.below(VOCABULARY.length)]!
    pieces[i] = i === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : ' ' + word
  }
  if (count > 0) pieces[count - 1] += '.'
  return pieces
}

/** Cuts pieces to at most `limit` characters, so the estimate of the kept text is exactly the token cap. */
function truncatePieces(pieces: string[], limit: number): string[] | null {
  let used = 0
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!
    if (used + piece.length > limit) {
      const kept = pieces.slice(0, i)
      if (limit > used) kept.push(piece.slice(0, limit - used))
      return kept
    }
    used += piece.length
  }
  return null
}

function words(rng: Prng, count: number): string {
  let out = ''
  for (let i = 0; i < count; i++) out += (i === 0 ? '' : ' ') + VOCABULARY[rng.below(VOCABULARY.length)]
  return out
}

function forcedTool(body: JsonObject): { name: string; parameters: unknown } | null {
  const tools = body.tools
  if (!Array.isArray(tools) || tools.length === 0) return null
  const choice = body.tool_choice
  let name: string | null = null
  if (isObject(choice) && choice.type === 'function' && isObject(choice.function)) {
    if (typeof choice.function.name === 'string') name = choice.function.name
  } else if (choice !== 'required') return null
  for (const tool of tools) {
    if (!isObject(tool) || !isObject(tool.function) || typeof tool.function.name !== 'string') continue
    if (name === null || tool.function.name === name) {
      return { name: tool.function.name, parameters: tool.function.parameters }
    }
  }
  return name === null ? null : { name, parameters: undefined }
}

/** Arguments that fit the tool's top-level properties when it declares them, `{"query": …}` otherwise. */
function toolArguments(rng: Prng, parameters: unknown): string {
  const properties = isObject(parameters) && isObject(parameters.properties) ? parameters.properties : null
  if (properties === null || Object.keys(properties).length === 0) {
    return JSON.stringify({ query: words(rng, 2 + rng.below(4)) })
  }
  const args: JsonObject = {}
  for (const [key, schema] of Object.entries(properties)) {
    const type = isObject(schema) ? schema.type : undefined
    const choices = isObject(schema) && Array.isArray(schema.enum) ? schema.enum : null
    if (choices !== null && choices.length > 0) args[key] = choices[rng.below(choices.length)]
    else if (type === 'integer') args[key] = rng.below(100)
    else if (type === 'number') args[key] = rng.below(10_000) / 100
    else if (type === 'boolean') args[key] = rng.below(2) === 1
    else if (type === 'array') args[key] = [words(rng, 1), words(rng, 1)]
    else args[key] = words(rng, 1 + rng.below(3))
  }
  return JSON.stringify(args)
}

function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = []
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size))
  return pieces
}

/**
 * Plans the answer to a chat request (validate it with `chatRequestProblem` first).
 *
 * @example planChat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).choices[0].content
 */
export function planChat(body: JsonObject, options: ChatPlanOptions = {}): ChatPlan {
  const model = options.model ?? String(body.model)
  const hash = requestHash(body, model)
  const n = isPositiveInt(body.n) ? body.n : 1
  const maxTokens = isPositiveInt(body.max_completion_tokens)
    ? body.max_completion_tokens
    : isPositiveInt(body.max_tokens)
      ? body.max_tokens
      : null
  const tool = forcedTool(body)
  const choices: ChoicePlan[] = []
  let completionTokens = 0
  for (let index = 0; index < n; index++) {
    const rng = new Prng(hash, index + 1)
    if (tool !== null) {
      const args = toolArguments(rng, tool.parameters)
      const id = `call_${hex8(rng.next())}${hex8(rng.next())}${hex8(rng.next())}`
      completionTokens += estimateTokens(tool.name + args)
      choices.push({
        index,
        pieces: splitEvery(args, TOOL_ARGUMENT_PIECE),
        content: null,
        toolCall: { id, type: 'function', function: { name: tool.name, arguments: args } },
        finishReason: 'tool_calls',
      })
      continue
    }
    let pieces = textPieces(rng, options.chunks)
    let finishReason: FinishReason = 'stop'
    if (maxTokens !== null) {
      const cut = truncatePieces(pieces, maxTokens * 4)
      if (cut !== null) {
        pieces = cut
        finishReason = 'length'
      }
    }
    const content = pieces.join('')
    completionTokens += estimateTokens(content)
    choices.push({ index, pieces, content, toolCall: null, finishReason })
  }
  const promptTokens = chatPromptTokens(body)
  const modelHash = fnv1a64(model)
  return {
    id: `chatcmpl-${hex8(hash.hi)}${hex8(hash.lo)}`,
    model,
    fingerprint: `fp_${(hex8(modelHash.hi) + hex8(modelHash.lo)).slice(0, 10)}`,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  }
}

/** Renders a plan as a non-streamed `chat.completion`. */
export function chatCompletion(plan: ChatPlan, created: number): ChatCompletion {
  return {
    id: plan.id,
    object: 'chat.completion',
    created,
    model: plan.model,
    choices: plan.choices.map((choice) => ({
      index: choice.index,
      message:
        choice.toolCall === null
          ? { role: 'assistant', content: choice.content, refusal: null }
          : { role: 'assistant', content: null, refusal: null, tool_calls: [choice.toolCall] },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: plan.usage,
    system_fingerprint: plan.fingerprint,
  }
}

/** `frames[contentStart..contentEnd)` carry content or tool-call arguments, one piece each. */
export interface ChatStreamFrames {
  /** `data: <chunk JSON>\n\n` each, the last one `data: [DONE]\n\n`. */
  frames: string[]
  contentStart: number
  contentEnd: number
}

/**
 * The SSE frames of a streamed answer: per choice a role chunk, then the content pieces (choices
 * interleaved, as OpenAI does for n > 1), a finish chunk per choice, with `includeUsage` a last chunk with
 * `choices: []` and the usage (every earlier chunk carrying `usage: null`), then `[DONE]`.
 * Frames are filled into string templates instead of a JSON.stringify per chunk object: streaming is the
 * latency benchmark's hot path, and this is about five times faster.
 */
export function chatStreamFrames(plan: ChatPlan, created: number, includeUsage: boolean): ChatStreamFrames {
  const head =
    `data: {"id":${JSON.stringify(plan.id)},"object":"chat.completion.chunk","created":${created},` +
    `"model":${JSON.stringify(plan.model)},"system_fingerprint":${JSON.stringify(plan.fingerprint)},"choices":[`
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n'
  const pending = ',"logprobs":null,"finish_reason":null}'
  const frames: string[] = []
  for (const choice of plan.choices) {
    const call = choice.toolCall
    const delta =
      call === null
        ? '{"role":"assistant","content":"","refusal":null}'
        : `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":${JSON.stringify(call.id)},` +
          `"type":"function","function":{"name":${JSON.stringify(call.function.name)},"arguments":""}}],"refusal":null}`
    frames.push(`${head}{"index":${choice.index},"delta":${delta}${pending}${tail}`)
  }
  const contentStart = frames.length
  const longest = plan.choices.reduce((max, choice) => Math.max(max, choice.pieces.length), 0)
  for (let step = 0; step < longest; step++) {
    for (const choice of plan.choices) {
      const piece = choice.pieces[step]
      if (piece === undefined) continue
      const delta =
        choice.toolCall === null
          ? `{"content":${JSON.stringify(piece)}}`
          : `{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(piece)}}}]}`
      frames.push(`${head}{"index":${choice.index},"delta":${delta}${pending}${tail}`)
    }
  }
  const contentEnd = frames.length
  for (const choice of plan.choices) {
    const finish = `,"logprobs":null,"finish_reason":"${choice.finishReason}"}`
    frames.push(`${head}{"index":${choice.index},"delta":{}${finish}${tail}`)
  }
  if (includeUsage) frames.push(`${head}],"usage":${JSON.stringify(plan.usage)}}\n\n`)
  frames.push('data: [DONE]\n\n')
  return { frames, contentStart, contentEnd }
}

export interface ChatStream {
  chunks: ChatCompletionChunk[]
  contentStart: number
  contentEnd: number
}

/** The same stream as `chat.completion.chunk` objects, for tests and fixtures (the server sends the frames). */
export function chatCompletionStream(plan: ChatPlan, created: number, includeUsage: boolean): ChatStream {
  const { frames, contentStart, contentEnd } = chatStreamFrames(plan, created, includeUsage)
  const chunks = frames
    .slice(0, -1)
    .map((frame) => JSON.parse(frame.slice('data: '.length, -2)) as ChatCompletionChunk)
  return { chunks, contentStart, contentEnd }
}

// ---------------------------------------------------------------------------------------------------------
// Embeddings

/** One input to embed: a string or an array of token ids. */
export type EmbeddingInput = string | number[]

export const DEFAULT_EMBEDDING_DIMENSIONS = 1536

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t))
}

/** OpenAI's four input forms (string, strings, tokens, token arrays) as a list; null when malformed. */
export function embeddingInputs(input: unknown): EmbeddingInput[] | null {
  if (typeof input === 'string') return [input]
  if (!Array.isArray(input) || input.length === 0) return null
  if (input.every((item) => typeof item === 'string')) return input as string[]
  if (isTokenArray(input)) return [input]
  if (input.every(isTokenArray)) return input as number[][]
  return null
}

export function embeddingsRequestProblem(body: unknown, model?: string): RequestProblem | null {
  if (!isObject(body)) return { message: 'The request body must be a JSON object.', param: null }
  if (model === undefined && (typeof body.model !== 'string' || body.model === '')) {
    return { message: 'you must provide a model parameter', param: 'model' }
  }
  if (embeddingInputs(body.input) === null) {
    return {
      message: "Invalid 'input': expected a string, an array of strings or of token arrays.",
      param: 'input',
    }
  }
  const dimensions = body.dimensions
  if (
    dimensions !== undefined &&
    dimensions !== null &&
    (!isPositiveInt(dimensions) || dimensions > 16_384)
  ) {
    return { message: "Invalid 'dimensions': expected an integer between 1 and 16384.", param: 'dimensions' }
  }
  const format = body.encoding_format
  if (format !== undefined && format !== null && format !== 'float' && format !== 'base64') {
    return { message: "Invalid 'encoding_format': expected 'float' or 'base64'.", param: 'encoding_format' }
  }
  return null
}

/**
 * A deterministic unit-length vector for one input: the same model and input give the same vector whatever
 * else is in the batch, so cached and fresh embeddings agree.
 */
export function embeddingVector(model: string, input: EmbeddingInput, dimensions: number): Float64Array {
  const key = typeof input === 'string' ? `s:${input}` : `t:${input.join(',')}`
  const rng = new Prng(fnv1a64(`${model}\u0000${key}`))
  const vector = new Float64Array(dimensions)
  let norm = 0
  for (let i = 0; i < dimensions; i++) {
    const value = rng.unit() * 2 - 1
    vector[i] = value
    norm += value * value
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0
  for (let i = 0; i < dimensions; i++) vector[i]! *= scale
  return vector
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 with padding, without Buffer or btoa. */
export function base64Encode(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + BASE64[(n >>> 6) & 63]! + BASE64[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + '=='
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + BASE64[(n >>> 6) & 63]! + '='
  }
  return out
}

/** OpenAI's `encoding_format: "base64"`: the vector as little-endian float32, base64-encoded. */
export function float32Base64(vector: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4))
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true)
  return base64Encode(new Uint8Array(view.buffer))
}

/**
 * Answers an embeddings request (validate it with `embeddingsRequestProblem` first).
 * Usage: ceil(chars / 4) per string input, one token per id of a token array.
 */
export function embeddingList(body: JsonObject, options: { model?: string } = {}): EmbeddingList {
  const model = options.model ?? String(body.model)
  const inputs = embeddingInputs(body.input) ?? []
  const dimensions = isPositiveInt(body.dimensions) ? body.dimensions : DEFAULT_EMBEDDING_DIMENSIONS
  const base64 = body.encoding_format === 'base64'
  let tokens = 0
  const data = inputs.map((input, index) => {
    tokens += typeof input === 'string' ? estimateTokens(input) : input.length
    const vector = embeddingVector(model, input, dimensions)
    const embedding = base64 ? float32Base64(vector) : Array.from(vector)
    return { object: 'embedding' as const, index, embedding }
  })
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }
}

// ---------------------------------------------------------------------------------------------------------
// Models and errors

export const SIM_OWNER = 'meridian-sim'

/** The models list; `created` is fixed by the caller so the list is stable. */
export function modelList(ids: readonly string[], created: number): ModelList {
  return { object: 'list', data: ids.map((id) => modelObject(id, created)) }
}

export function modelObject(id: string, created: number): ModelObject {
  return { id, object: 'model', created, owned_by: SIM_OWNER }
}

/** The one error wire shape. */
export function errorEnvelope(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): ErrorEnvelope {
  return { error: { message, type, param, code } }
}

type StatusError = readonly [message: string, type: string, code: string | null]

// What real providers send for these statuses, so gateway error mapping meets realistic bodies.
const STATUS_ERRORS: Readonly<Record<number, StatusError>> = {
  400: ['Simulated bad request.', 'invalid_request_error', null],
  403: ['You are not allowed to sample from this model.', 'permission_error', null],
  404: [
    'The model does not exist or you do not have access to it.',
    'invalid_request_error',
    'model_not_found',
  ],
  408: ['Request timed out.', 'timeout', null],
  429: [
    'Rate limit reached for requests (simulated). Please try again in 1s.',
    'requests',
    'rate_limit_exceeded',
  ],
  500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
  503: ['The engine is currently overloaded, please try again later.', 'server_error', null],
}

/** The envelope for a status set by the `status` or `error_rate` knobs (401 is the server's: it quotes the key). */
export function statusEnvelope(status: number): ErrorEnvelope {
  const known = STATUS_ERRORS[status]
  if (known !== undefined) return errorEnvelope(known[0], known[1], null, known[2])
  return status >= 500
    ? errorEnvelope(`Simulated upstream error (${status}).`, 'server_error')
    : errorEnvelope(`Simulated client error (${status}).`, 'invalid_request_error')
}
