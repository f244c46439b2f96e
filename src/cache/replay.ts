// Replays a stored `chat.completion` as the `chat.completion.chunk` payloads a streaming client expects
// (assemble.ts goes the other way). Chunks are filled into string templates, one JSON.stringify per value
// rather than per chunk object: a cache hit should cost less than the upstream call it saves.

interface StoredChoice {
  index: number
  message: {
    content?: string | null
    refusal?: string | null
    tool_calls?: Record<string, unknown>[]
    function_call?: { name: string; arguments: string }
    annotations?: unknown[]
  }
  logprobs?: unknown
  finish_reason: string
}

interface StoredCompletion {
  id: string
  created: number
  model: string
  service_tier?: string | null
  system_fingerprint?: string | null
  choices: StoredChoice[]
  usage?: unknown
}

/** Options of a replay: what the streaming request asked for. */
export interface ReplayOptions {
  /** The request's `stream_options.include_usage`: add `usage: null` to each chunk and a final usage chunk. */
  includeUsage: boolean
}

/**
 * The chunk payloads (JSON texts, without `data: ` framing or `[DONE]`) for a stored completion, in order.
 * Per choice: a role chunk (`content: ""`, or null when the answer has none, as OpenAI sends it), all of the
 * content in one chunk, the refusal in one, one chunk per tool call with its full arguments, then the finish
 * chunk with an empty delta. One content chunk rather than word-sized pieces: a client's accumulation gives
 * the same message and the replay stays a handful of writes. The choice's logprobs ride on its content
 * chunk (or its refusal, or finish chunk when there is no text). With `includeUsage`, a last chunk carries
 * `choices: []` and the usage; it is left out when the stored answer has no usage.
 *
 * @example replayChunks(entry.body, { includeUsage: false }).map((json) => `data: ${json}\n\n`)
 */
export function replayChunks(completionJson: string, options: ReplayOptions): string[] {
  const completion = JSON.parse(completionJson) as StoredCompletion
  let head =
    `{"id":${JSON.stringify(completion.id)},"object":"chat.completion.chunk",` +
    `"created":${JSON.stringify(completion.created)},"model":${JSON.stringify(completion.model)}`
  if (completion.service_tier != null) head += `,"service_tier":${JSON.stringify(completion.service_tier)}`
  if (completion.system_fingerprint != null)
    head += `,"system_fingerprint":${JSON.stringify(completion.system_fingerprint)}`
  head += ',"choices":['
  const tail = options.includeUsage ? '],"usage":null}' : ']}'
  const chunks: string[] = []
  for (const choice of completion.choices) {
    const open = `${head}{"index":${choice.index},"delta":`
    const push = (delta: string, logprobs: string, finish: string) =>
      chunks.push(`${open}${delta},"logprobs":${logprobs},"finish_reason":${finish}}${tail}`)
    const message = choice.message
    const content = message.content ?? null
    const refusal = message.refusal ?? ''
    let logprobs = choice.logprobs == null ? 'null' : JSON.stringify(choice.logprobs)
    // Hands the logprobs to the first chunk that takes them, `null` to every other.
    const take = () => {
      const taken = logprobs
      logprobs = 'null'
      return taken
    }
    push(`{"role":"assistant","content":${content === null ? 'null' : '""'},"refusal":null}`, 'null', 'null')
    if (content !== null && content !== '') {
      const annotations = message.annotations?.length
        ? `,"annotations":${JSON.stringify(message.annotations)}`
        : ''
      push(`{"content":${JSON.stringify(content)}${annotations}}`, take(), 'null')
    }
    if (refusal !== '') push(`{"refusal":${JSON.stringify(refusal)}}`, take(), 'null')
    const calls = message.tool_calls ?? []
    for (let index = 0; index < calls.length; index++) {
      push(`{"tool_calls":[${JSON.stringify({ index, ...calls[index] })}]}`, 'null', 'null')
    }
    if (message.function_call !== undefined) {
      push(`{"function_call":${JSON.stringify(message.function_call)}}`, 'null', 'null')
    }
    push('{}', take(), JSON.stringify(choice.finish_reason))
  }
  if (options.includeUsage && completion.usage != null) {
    chunks.push(`${head}],"usage":${JSON.stringify(completion.usage)}}`)
  }
  return chunks
}

/** Chunk payloads as a whole SSE body: each framed, then `trailer` (comments), then `data: [DONE]`. */
export function sseOf(chunks: readonly string[], trailer = ''): string {
  let text = ''
  for (const chunk of chunks) text += `data: ${chunk}\n\n`
  return `${text}${trailer}data: [DONE]\n\n`
}
