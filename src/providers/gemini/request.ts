import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../provider.js'
import { toGeminiSchema } from './schema.js'

/**
 * What becomes of each OpenAI chat parameter on the way to Gemini's `generateContent`:
 * - `mapped`: carried over (see translateRequest);
 * - `dropped`: Gemini has no equivalent and the answer is still a correct one, so the parameter is ignored and
 *   named in the request's warnings (`x-meridian-warning`);
 * - `rejected`: honouring it is impossible and ignoring it would change what the client relies on, so the
 *   request fails with a 400 naming it.
 * A parameter set to null, or to the value Gemini behaves as anyway (see NO_OP), is neither warned of nor
 * rejected. A parameter missing from this table is dropped with a warning.
 */
export const GEMINI_PARAMETERS: Record<string, 'mapped' | 'dropped' | 'rejected'> = {
  model: 'mapped', // the URL path (the target's model, not the client's alias)
  messages: 'mapped', // contents + systemInstruction
  stream: 'mapped', // :streamGenerateContent?alt=sse
  stream_options: 'mapped', // include_usage: a final usage chunk, built by the stream transform
  temperature: 'mapped', // generationConfig.temperature
  top_p: 'mapped', // generationConfig.topP
  n: 'mapped', // generationConfig.candidateCount
  max_tokens: 'mapped', // generationConfig.maxOutputTokens
  max_completion_tokens: 'mapped', // generationConfig.maxOutputTokens (wins over max_tokens)
  stop: 'mapped', // generationConfig.stopSequences
  seed: 'mapped', // generationConfig.seed
  presence_penalty: 'mapped', // generationConfig.presencePenalty
  frequency_penalty: 'mapped', // generationConfig.frequencyPenalty
  response_format: 'mapped', // generationConfig.responseMimeType (+ responseSchema)
  logprobs: 'mapped', // generationConfig.responseLogprobs
  top_logprobs: 'mapped', // generationConfig.logprobs
  reasoning_effort: 'mapped', // generationConfig.thinkingConfig.thinkingBudget (see THINKING_BUDGETS)
  tools: 'mapped', // tools[0].functionDeclarations
  tool_choice: 'mapped', // toolConfig.functionCallingConfig
  functions: 'mapped', // deprecated form of tools
  function_call: 'mapped', // deprecated form of tool_choice
  parallel_tool_calls: 'dropped', // Gemini decides; `true` is what it does anyway
  user: 'dropped', // end-user id for OpenAI's abuse monitoring; no Gemini counterpart
  safety_identifier: 'dropped', // same
  metadata: 'dropped', // OpenAI's stored-completion tags
  store: 'dropped', // OpenAI's stored completions; `false` is a no-op
  service_tier: 'dropped', // OpenAI's processing tiers
  prompt_cache_key: 'dropped', // OpenAI's cache routing hint; Gemini caches implicitly
  prompt_cache_retention: 'dropped',
  prompt_cache_options: 'dropped',
  prediction: 'dropped', // predicted outputs only speed OpenAI up; the answer is the same without
  verbosity: 'dropped', // a style hint
  moderation: 'dropped', // OpenAI's moderation pass
  logit_bias: 'rejected', // OpenAI token ids mean nothing to Gemini's tokenizer; ignoring a ban is unsafe
  modalities: 'rejected', // only ["text"] (a no-op) is possible
  audio: 'rejected', // audio output
  web_search_options: 'rejected', // built-in web search (Gemini's googleSearch tool grounds differently)
}

/** Values that ask for what Gemini does anyway: accepted without a warning. */
const NO_OP: Record<string, (value: unknown) => boolean> = {
  parallel_tool_calls: (v) => v === true,
  store: (v) => v === false,
  service_tier: (v) => v === 'auto' || v === 'default',
  modalities: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text',
}

/**
 * `reasoning_effort` → `thinkingBudget` (tokens), the budgets Google's own OpenAI-compatible endpoint uses
 * (low 1K, medium 8K, high 24K, none 0). `minimal` takes the low budget; `xhigh` and `max` the high one, the
 * largest every 2.5 model accepts.
 */
const THINKING_BUDGETS: Record<string, number> = {
  none: 0,
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 24576,
  max: 24576,
}

/** Gemini's tool call ids carry its thought signature after this marker (see response.ts, toolCallId). */
export const THOUGHT_MARKER = '__thought__'

type Part = JsonObject
interface Content {
  role: 'user' | 'model'
  parts: Part[]
}

function reject(param: string, problem: string): GatewayError {
  return new GatewayError('MERIDIAN_INVALID_REQUEST', `${param} ${problem}`, { param })
}

/**
 * OpenAI chat request → Gemini `GenerateContentRequest`. Throws a 400 GatewayError naming the parameter it
 * cannot honour; returns the parameters it ignored in `dropped`, for the client's warning header.
 *
 * @example translateRequest({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], user: 'u1' }, 'gemini-2.5-flash')
 *   // → { body: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }, dropped: ['user'] }
 */
export function translateRequest(body: JsonObject, _model: string): { body: JsonObject; dropped: string[] } {
  const dropped: string[] = []
  for (const [name, value] of Object.entries(body)) {
    if (value === null || value === undefined || NO_OP[name]?.(value)) continue
    const rule = GEMINI_PARAMETERS[name]
    if (rule === 'rejected') throw reject(name, 'is not supported by Gemini')
    if (rule !== 'mapped') dropped.push(name)
  }

  const out: JsonObject = {}
  const { contents, system } = translateMessages(body.messages, dropped)
  out.contents = contents
  if (system.length > 0) out.systemInstruction = { parts: system }

  const declarations = translateTools(body, dropped)
  const choice = translateToolChoice(body.tool_choice ?? body.function_call, declarations)
  if (declarations.length > 0) {
    const allowed = choice?.keep
    const kept = allowed ? declarations.filter((d) => allowed.includes(d.name as string)) : declarations
    out.tools = [{ functionDeclarations: kept }]
    if (choice) out.toolConfig = { functionCallingConfig: choice.config }
  }

  const config = generationConfig(body, dropped)
  if (Object.keys(config).length > 0) out.generationConfig = config
  return { body: out, dropped }
}

function generationConfig(body: JsonObject, dropped: string[]): JsonObject {
  const config: JsonObject = {}
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) config[key] = value
  }
  set('temperature', body.temperature)
  set('topP', body.top_p)
  set('maxOutputTokens', body.max_completion_tokens ?? body.max_tokens)
  if (typeof body.stop === 'string') config.stopSequences = [body.stop]
  else if (Array.isArray(body.stop) && body.stop.length > 0) config.stopSequences = body.stop
  set('candidateCount', body.n)
  set('seed', body.seed)
  set('presencePenalty', body.presence_penalty)
  set('frequencyPenalty', body.frequency_penalty)
  if (body.logprobs === true) {
    config.responseLogprobs = true
    if (typeof body.top_logprobs === 'number' && body.top_logprobs > 0) config.logprobs = body.top_logprobs
  }
  const effort = body.reasoning_effort
  if (typeof effort === 'string') {
    const budget = THINKING_BUDGETS[effort]
    if (budget === undefined) throw reject('reasoning_effort', `has a value Gemini cannot map: ${effort}`)
    config.thinkingConfig = { thinkingBudget: budget }
  }
  const format = body.response_format as JsonObject | undefined | null
  if (format?.type === 'json_object') config.responseMimeType = 'application/json'
  else if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json'
    const spec = format.json_schema as JsonObject | undefined
    if (spec?.schema !== undefined) {
      const converted = toGeminiSchema(spec.schema, 'response_format.json_schema.schema')
      config.responseSchema = converted.schema
      dropped.push(...converted.dropped)
    }
  }
  return config
}

function translateTools(body: JsonObject, dropped: string[]): JsonObject[] {
  const declarations: JsonObject[] = []
  const tools = Array.isArray(body.tools) ? (body.tools as JsonObject[]) : []
  tools.forEach((tool, i) => {
    if (tool.type !== 'function')
      throw reject(`tools[${i}].type`, `"${String(tool.type)}" is not supported by Gemini`)
    declarations.push(declaration(tool.function as JsonObject, `tools[${i}].function`, dropped))
  })
  const functions = Array.isArray(body.functions) ? (body.functions as JsonObject[]) : []
  functions.forEach((fn, i) => {
    declarations.push(declaration(fn, `functions[${i}]`, dropped))
  })
  return declarations
}

function declaration(fn: JsonObject, param: string, dropped: string[]): JsonObject {
  const out: JsonObject = { name: fn.name }
  if (typeof fn.description === 'string') out.description = fn.description
  if (fn.parameters !== undefined && fn.parameters !== null) {
    const converted = toGeminiSchema(fn.parameters, `${param}.parameters`)
    dropped.push(...converted.dropped)
    // A function without arguments is declared without parameters: Gemini refuses an OBJECT with none.
    if (converted.schema.properties !== undefined || converted.schema.type !== 'object') {
      out.parameters = converted.schema
    }
  }
  return out
}

/** `tool_choice` → `functionCallingConfig`; `keep` narrows the declarations (allowed_tools in auto mode). */
function translateToolChoice(
  choice: unknown,
  declarations: JsonObject[],
): { config: JsonObject; keep?: string[] } | undefined {
  if (choice === undefined || choice === null) return undefined
  if (choice === 'auto') return { config: { mode: 'AUTO' } }
  if (choice === 'none') return { config: { mode: 'NONE' } }
  if (choice === 'required') return { config: { mode: 'ANY' } }
  const param = 'tool_choice'
  if (typeof choice !== 'object') throw reject(param, `has an unknown value: ${JSON.stringify(choice)}`)
  const c = choice as JsonObject
  // The deprecated function_call: {name} has no type.
  const named =
    c.type === 'function' ? (c.function as JsonObject | undefined)?.name : c.type ? undefined : c.name
  if (typeof named === 'string') {
    if (!declarations.some((d) => d.name === named))
      throw reject(param, `names an unknown function: ${named}`)
    return { config: { mode: 'ANY', allowedFunctionNames: [named] } }
  }
  if (c.type === 'allowed_tools') {
    const allowed = c.allowed_tools as JsonObject | undefined
    const names = ((allowed?.tools as JsonObject[] | undefined) ?? []).map(
      (t) => (t.function as JsonObject | undefined)?.name as string,
    )
    if (allowed?.mode === 'required') return { config: { mode: 'ANY', allowedFunctionNames: names } }
    return { config: { mode: 'AUTO' }, keep: names }
  }
  throw reject(`${param}.type`, `"${String(c.type)}" is not supported by Gemini`)
}

/**
 * Messages → `contents` (roles user and model, consecutive turns of one role merged, as Gemini requires them
 * to alternate) and the system instruction (every system and developer message, in order).
 */
function translateMessages(messages: unknown, dropped: string[]): { contents: Content[]; system: Part[] } {
  if (!Array.isArray(messages)) throw reject('messages', 'must be an array')
  const contents: Content[] = []
  const system: Part[] = []
  /** Tool call id → function name, for the tool messages that answer them. */
  const calls = new Map<string, string>()
  const push = (role: Content['role'], parts: Part[]) => {
    if (parts.length === 0) return
    const last = contents[contents.length - 1]
    if (last?.role === role) last.parts.push(...parts)
    else contents.push({ role, parts })
  }
  messages.forEach((message: JsonObject, i) => {
    const param = `messages[${i}]`
    if (typeof message.name === 'string' && message.role !== 'function') addOnce(dropped, 'messages[].name')
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...contentParts(message.content, `${param}.content`, dropped, true))
        break
      case 'user':
        push('user', contentParts(message.content, `${param}.content`, dropped, false))
        break
      case 'assistant':
        push('model', assistantParts(message, param, calls))
        break
      case 'tool': {
        const id = message.tool_call_id as string
        const name = calls.get(id)
        if (name === undefined) throw reject(`${param}.tool_call_id`, `matches no earlier tool call: ${id}`)
        push('user', [functionResponse(name, message.content, param)])
        break
      }
      case 'function':
        push('user', [functionResponse(message.name as string, message.content, param)])
        break
      default:
        throw reject(`${param}.role`, `"${String(message.role)}" is not supported by Gemini`)
    }
  })
  if (contents.length === 0) throw reject('messages', 'must hold at least one non-system message for Gemini')
  return { contents, system }
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item)
}

function assistantParts(message: JsonObject, param: string, calls: Map<string, string>): Part[] {
  const parts = contentParts(message.content, `${param}.content`, [], true)
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as JsonObject[]) : []
  toolCalls.forEach((call, j) => {
    const fn = call.function as JsonObject
    const name = fn.name as string
    const id = typeof call.id === 'string' ? call.id : ''
    calls.set(id, name)
    const part: Part = {
      functionCall: {
        name,
        args: parseArguments(fn.arguments, `${param}.tool_calls[${j}].function.arguments`),
      },
    }
    // Gemini 3 wants the thought signature of its earlier calls back; it rode out in the tool call id.
    const marker = id.indexOf(THOUGHT_MARKER)
    if (marker !== -1) part.thoughtSignature = id.slice(marker + THOUGHT_MARKER.length)
    parts.push(part)
  })
  const legacy = message.function_call as JsonObject | undefined | null
  if (legacy) {
    parts.push({
      functionCall: {
        name: legacy.name,
        args: parseArguments(legacy.arguments, `${param}.function_call.arguments`),
      },
    })
  }
  return parts
}

function parseArguments(text: unknown, param: string): JsonObject {
  if (text === undefined || text === null || text === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text as string)
  } catch {
    throw reject(param, 'is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw reject(param, 'must be a JSON object for Gemini')
  }
  return value as JsonObject
}

/** A tool result: a JSON object as it is, anything else as `{content: text}` (Gemini wants an object). */
function functionResponse(name: string, content: unknown, param: string): Part {
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? (content as JsonObject[]).map((p) => (typeof p.text === 'string' ? p.text : '')).join('')
        : content === null || content === undefined
          ? ''
          : undefined
  if (text === undefined) throw reject(`${param}.content`, 'must be text')
  let response: JsonObject = { content: text }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) response = value as JsonObject
  } catch {
    // plain text
  }
  return { functionResponse: { name, response } }
}

/** MIME types by file extension, for image URLs Gemini is to fetch (fileData). */
const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
}

const AUDIO_TYPES: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mp3' }

/**
 * Message content → parts. Text stays text; `image_url` with a data: URL becomes `inlineData`, any other URL
 * `fileData` (Gemini fetches it) with the MIME type guessed from the extension, or none (the field is optional
 * and Gemini then sniffs the file) rather than a refusal; `input_audio` and `file` (data: URL) become
 * `inlineData`. `textOnly` (system messages, assistant turns) refuses media.
 */
function contentParts(content: unknown, param: string, dropped: string[], textOnly: boolean): Part[] {
  if (content === null || content === undefined || content === '') return []
  if (typeof content === 'string') return [{ text: content }]
  if (!Array.isArray(content)) throw reject(param, 'must be a string or an array of parts')
  const parts: Part[] = []
  content.forEach((part: JsonObject, j) => {
    const at = `${param}[${j}]`
    if (part.type === 'text' || part.type === 'refusal') {
      const text = (part.type === 'text' ? part.text : part.refusal) as string
      if (text !== '') parts.push({ text })
      return
    }
    if (textOnly)
      throw reject(`${at}.type`, `"${String(part.type)}" is not allowed in this message for Gemini`)
    if (part.type === 'image_url') {
      // A bare string is not OpenAI's shape, but some clients send it.
      const image = (
        typeof part.image_url === 'string' ? { url: part.image_url } : part.image_url
      ) as JsonObject
      if (typeof image?.url !== 'string') throw reject(`${at}.image_url.url`, 'must be a URL')
      if (image.detail !== undefined && image.detail !== 'auto') addOnce(dropped, 'image_url.detail')
      parts.push(mediaPart(image.url, `${at}.image_url.url`))
    } else if (part.type === 'input_audio') {
      const audio = part.input_audio as JsonObject
      const mimeType = AUDIO_TYPES[String(audio.format)]
      if (!mimeType) throw reject(`${at}.input_audio.format`, `"${String(audio.format)}" is not supported`)
      parts.push({ inlineData: { mimeType, data: audio.data } })
    } else if (part.type === 'file') {
      parts.push(filePart(part.file as JsonObject, `${at}.file`))
    } else {
      throw reject(`${at}.type`, `"${String(part.type)}" is not supported by Gemini`)
    }
  })
  return parts
}

const FILE_TYPES: Record<string, string> = { ...IMAGE_TYPES, pdf: 'application/pdf', txt: 'text/plain' }

/** OpenAI's `file` part: `file_data` is a data: URL, or bare base64 named by `filename`. */
function filePart(file: JsonObject, param: string): Part {
  const data = file.file_data
  if (typeof data !== 'string')
    throw reject(param, 'must carry file_data (OpenAI file ids mean nothing to Gemini)')
  if (data.startsWith('data:')) return mediaPart(data, `${param}.file_data`)
  const name = typeof file.filename === 'string' ? file.filename : ''
  const mimeType = name.includes('.')
    ? FILE_TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()]
    : undefined
  if (!mimeType)
    throw reject(`${param}.filename`, 'must name a file type Gemini reads (pdf, txt or an image)')
  return { inlineData: { mimeType, data } }
}

function mediaPart(url: string, param: string): Part {
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s.exec(url)
    if (!match) throw reject(param, 'must be a base64 data: URL')
    return { inlineData: { mimeType: match[1], data: match[2] } }
  }
  const path = url.split(/[?#]/, 1)[0]!
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
  const mimeType = path.includes('.') ? IMAGE_TYPES[extension] : undefined
  return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } }
}
