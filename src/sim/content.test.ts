import { describe, expect, it } from 'vitest'
import { defaultBehaviour, parseBehaviourPatch } from './behaviour.js'
import {
  base64Encode,
  chatCompletion,
  chatCompletionStream,
  chatPromptTokens,
  chatRequestProblem,
  chatStreamFrames,
  embeddingInputs,
  embeddingList,
  embeddingsRequestProblem,
  float32Base64,
  fnv1a64,
  type JsonObject,
  planChat,
} from './content.js'

const ask = (content: string, extra: JsonObject = {}): JsonObject => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
})

const CREATED = 1_750_000_000

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0))
}

function decodeFloat32(base64: string): number[] {
  const binary = atob(base64)
  const view = new DataView(new ArrayBuffer(binary.length))
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i))
  return Array.from({ length: binary.length / 4 }, (_, i) => view.getFloat32(i * 4, true))
}

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64('')).toEqual({ hi: 0xcbf29ce4, lo: 0x84222325 })
    expect(fnv1a64('a')).toEqual({ hi: 0xaf63dc4c, lo: 0x8601ec8c })
    expect(fnv1a64('foobar')).toEqual({ hi: 0x85944171, lo: 0xf73967e8 })
  })
})

describe('chat answers', () => {
  it('are deterministic: same request, same answer, id and usage', () => {
    const a = chatCompletion(planChat(ask('Hello there')), CREATED)
    const b = chatCompletion(planChat(ask('Hello there')), CREATED)
    expect(a).toEqual(b)
    expect(a.id).toMatch(/^chatcmpl-[0-9a-f]{16}$/)
    expect(a.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/)
  })

  it('differ when any semantic part of the request differs', () => {
    const base = planChat(ask('Hello there')).choices[0]!.content
    expect(planChat(ask('Hello there!')).choices[0]!.content).not.toBe(base)
    expect(planChat(ask('Hello there', { temperature: 0.2 })).choices[0]!.content).not.toBe(base)
    expect(planChat(ask('Hello there', { seed: 7 })).choices[0]!.content).not.toBe(base)
    expect(planChat({ ...ask('Hello there'), model: 'gpt-4o' }).choices[0]!.content).not.toBe(base)
  })

  it('ignore stream and stream_options, so a streamed answer equals the plain one', () => {
    const plain = planChat(ask('Hi'))
    const streamed = planChat(ask('Hi', { stream: true, stream_options: { include_usage: true } }))
    expect(streamed).toEqual(plain)
  })

  it('are 12 to 40 words by default, ending with a period', () => {
    for (let i = 0; i < 50; i++) {
      const content = planChat(ask(`question ${i}`)).choices[0]!.content!
      const words = content.split(' ')
      expect(words.length).toBeGreaterThanOrEqual(12)
      expect(words.length).toBeLessThanOrEqual(40)
      expect(content).toMatch(/^[A-Z].*\.$/)
    }
  })

  it('have exactly `chunks` words when the knob is set', () => {
    const plan = planChat(ask('Hi'), { chunks: 7 })
    expect(plan.choices[0]!.content!.split(' ')).toHaveLength(7)
    expect(plan.choices[0]!.pieces).toHaveLength(7)
    expect(planChat(ask('Hi'), { chunks: 0 }).choices[0]!.content).toBe('')
  })

  it('report usage as ceil(chars / 4) plus 4 a message, and completion tokens from the text', () => {
    const body: JsonObject = {
      model: 'm',
      messages: [
        { role: 'system', content: 'abcdefgh' }, // 4 + 2
        { role: 'user', content: [{ type: 'text', text: 'abcde' }] }, // 4 + 2
      ],
    }
    expect(chatPromptTokens(body)).toBe(12)
    const { usage, choices } = planChat(body)
    expect(usage.prompt_tokens).toBe(12)
    expect(usage.completion_tokens).toBe(Math.ceil(choices[0]!.content!.length / 4))
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens)
  })

  it('give n different choices, indexed 0..n-1, with usage summed over them', () => {
    const plan = planChat(ask('Hi', { n: 3 }))
    const completion = chatCompletion(plan, CREATED)
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2])
    expect(new Set(completion.choices.map((c) => c.message.content)).size).toBe(3)
    const sum = completion.choices.reduce((s, c) => s + Math.ceil(c.message.content!.length / 4), 0)
    expect(completion.usage.completion_tokens).toBe(sum)
  })

  it('stop at max_tokens (or max_completion_tokens) with finish_reason length', () => {
    const capped = chatCompletion(planChat(ask('Hi', { max_tokens: 3 })), CREATED)
    expect(capped.choices[0]!.finish_reason).toBe('length')
    expect(capped.usage.completion_tokens).toBe(3)
    expect(capped.choices[0]!.message.content!.length).toBeLessThanOrEqual(12)
    const newer = chatCompletion(planChat(ask('Hi', { max_completion_tokens: 2, max_tokens: 50 })), CREATED)
    expect(newer.usage.completion_tokens).toBe(2)
    const roomy = chatCompletion(planChat(ask('Hi', { max_tokens: 1000 })), CREATED)
    expect(roomy.choices[0]!.finish_reason).toBe('stop')
  })

  it('call the named or first tool when tool_choice forces one', () => {
    const tools = [
      { type: 'function', function: { name: 'search', parameters: { type: 'object', properties: {} } } },
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { enum: ['c', 'f'] } },
          },
        },
      },
    ]
    const required = chatCompletion(planChat(ask('Weather?', { tools, tool_choice: 'required' })), CREATED)
    const choice = required.choices[0]!
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    const call = choice.message.tool_calls![0]!
    expect(call.id).toMatch(/^call_[0-9a-f]{24}$/)
    expect(call.function.name).toBe('search')
    expect(Object.keys(JSON.parse(call.function.arguments))).toEqual(['query'])

    const named = planChat(
      ask('Weather?', { tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }),
    )
    const args = JSON.parse(named.choices[0]!.toolCall!.function.arguments)
    expect(typeof args.city).toBe('string')
    expect(Number.isInteger(args.days)).toBe(true)
    expect(['c', 'f']).toContain(args.unit)

    expect(planChat(ask('Weather?', { tools, tool_choice: 'auto' })).choices[0]!.toolCall).toBeNull()
    expect(planChat(ask('Weather?', { tools })).choices[0]!.toolCall).toBeNull()
  })

  it('validate what the simulator relies on', () => {
    expect(chatRequestProblem(ask('x'))).toBeNull()
    expect(chatRequestProblem({ messages: [] })?.param).toBe('model')
    expect(chatRequestProblem({ messages: [{ role: 'user', content: 'x' }] }, 'deployment')).toBeNull()
    expect(chatRequestProblem({ model: 'm', messages: [] })?.param).toBe('messages')
    expect(chatRequestProblem(ask('x', { n: 0 }))?.param).toBe('n')
    expect(chatRequestProblem(ask('x', { max_tokens: 1.5 }))?.param).toBe('max_tokens')
    expect(chatRequestProblem([1])?.param).toBeNull()
  })
})

describe('chat streams', () => {
  it('send a role chunk, one chunk per word, a finish chunk, and optionally usage', () => {
    const plan = planChat(ask('Hi'), { chunks: 5 })
    const { chunks, contentStart, contentEnd } = chatCompletionStream(plan, CREATED, true)
    expect(chunks).toHaveLength(1 + 5 + 1 + 1)
    expect([contentStart, contentEnd]).toEqual([1, 6])
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null })
    const text = chunks
      .slice(contentStart, contentEnd)
      .map((c) => c.choices[0]!.delta.content)
      .join('')
    expect(text).toBe(plan.choices[0]!.content)
    expect(chunks[6]!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' })
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: plan.usage })
    expect(chunks.every((c) => c.id === plan.id && c.object === 'chat.completion.chunk')).toBe(true)
  })

  it('are framed as canonical JSON, byte for byte', () => {
    const tools = [{ type: 'function', function: { name: 'lookup' } }]
    for (const body of [ask('Hi', { n: 2 }), ask('x', { tools, tool_choice: 'required' })]) {
      for (const includeUsage of [false, true]) {
        const { frames } = chatStreamFrames(planChat(body), CREATED, includeUsage)
        expect(frames.at(-1)).toBe('data: [DONE]\n\n')
        for (const frame of frames.slice(0, -1)) {
          expect(`data: ${JSON.stringify(JSON.parse(frame.slice(6, -2)))}\n\n`).toBe(frame)
        }
      }
    }
    const plan = planChat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { chunks: 2 })
    expect(chatStreamFrames(plan, 1, false).frames[1]).toBe(
      'data: {"id":"chatcmpl-a77aa0044996c260","object":"chat.completion.chunk","created":1,"model":"m",' +
        '"system_fingerprint":"fp_af63e04c86","choices":[{"index":0,"delta":{"content":"River"},' +
        '"logprobs":null,"finish_reason":null}]}\n\n',
    )
  })

  it('carry no usage field without include_usage', () => {
    const { chunks } = chatCompletionStream(planChat(ask('Hi')), CREATED, false)
    expect(chunks.every((c) => !('usage' in c))).toBe(true)
  })

  it('split tool-call arguments over several indexed chunks', () => {
    const tools = [{ type: 'function', function: { name: 'lookup' } }]
    const plan = planChat(ask('x', { tools, tool_choice: 'required' }))
    const { chunks, contentStart, contentEnd } = chatCompletionStream(plan, CREATED, false)
    expect(contentEnd - contentStart).toBeGreaterThan(1)
    const head = chunks[0]!.choices[0]!.delta.tool_calls![0]!
    expect(head).toMatchObject({ index: 0, type: 'function', function: { name: 'lookup', arguments: '' } })
    const args = chunks
      .slice(contentStart, contentEnd)
      .map((c) => c.choices[0]!.delta.tool_calls![0]!.function.arguments)
      .join('')
    expect(args).toBe(plan.choices[0]!.toolCall!.function.arguments)
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls')
  })

  it('interleave n choices', () => {
    const plan = planChat(ask('Hi', { n: 2 }), { chunks: 3 })
    const { chunks, contentStart, contentEnd } = chatCompletionStream(plan, CREATED, false)
    const order = chunks.slice(contentStart, contentEnd).map((c) => c.choices[0]!.index)
    expect(order).toEqual([0, 1, 0, 1, 0, 1])
  })
})

describe('embeddings', () => {
  it('are unit-length, 1536 floats by default, and deterministic per input', () => {
    const a = embeddingList({ model: 'e', input: ['alpha', 'beta'] })
    expect(a.data.map((d) => d.index)).toEqual([0, 1])
    const [first, second] = a.data.map((d) => d.embedding as number[])
    expect(first).toHaveLength(1536)
    expect(norm(first!)).toBeCloseTo(1, 10)
    expect(first).not.toEqual(second)
    // The same input embeds the same whatever else is in the batch.
    expect(embeddingList({ model: 'e', input: 'beta' }).data[0]!.embedding).toEqual(second)
    expect(a.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 }) // ceil(5 / 4) + ceil(4 / 4)
  })

  it('honour dimensions and token-array inputs', () => {
    const list = embeddingList({ model: 'e', input: [[1, 2, 3], [4]], dimensions: 8 })
    expect(list.data).toHaveLength(2)
    expect((list.data[0]!.embedding as number[]).length).toBe(8)
    expect(norm(list.data[1]!.embedding as number[])).toBeCloseTo(1, 10)
    expect(list.usage.prompt_tokens).toBe(4)
    expect(embeddingInputs([1, 2])).toEqual([[1, 2]])
    expect(embeddingInputs([])).toBeNull()
    expect(embeddingInputs([1, 'a'])).toBeNull()
  })

  it('encode base64 as little-endian float32 of the same vector', () => {
    const floats = embeddingList({ model: 'e', input: 'x', dimensions: 64 }).data[0]!.embedding as number[]
    const encoded = embeddingList({ model: 'e', input: 'x', dimensions: 64, encoding_format: 'base64' })
      .data[0]!.embedding as string
    const decoded = decodeFloat32(encoded)
    expect(decoded).toHaveLength(64)
    for (const [i, v] of decoded.entries()) expect(v).toBeCloseTo(floats[i]!, 6)
    expect(float32Base64([1])).toBe('AACAPw==')
  })

  it('base64 matches the platform encoder for every padding length', () => {
    for (const text of ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', '\u00ff\u0000\u0080']) {
      const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0))
      expect(base64Encode(bytes)).toBe(btoa(text))
    }
  })

  it('validate input, dimensions and encoding_format', () => {
    expect(embeddingsRequestProblem({ model: 'e', input: 'x' })).toBeNull()
    expect(embeddingsRequestProblem({ model: 'e' })?.param).toBe('input')
    expect(embeddingsRequestProblem({ model: 'e', input: 'x', dimensions: 0 })?.param).toBe('dimensions')
    expect(embeddingsRequestProblem({ model: 'e', input: 'x', encoding_format: 'hex' })?.param).toBe(
      'encoding_format',
    )
    expect(embeddingsRequestProblem({ input: 'x' }, 'deployment')).toBeNull()
  })
})

describe('behaviour patches', () => {
  it('accept known keys and reject unknown ones by name', () => {
    expect(parseBehaviourPatch({ latency_ms: 5, status: null })).toEqual({
      ok: true,
      patch: { latency_ms: 5, status: null },
    })
    const unknown = parseBehaviourPatch({ latency: 5 })
    expect(unknown.ok).toBe(false)
    expect(!unknown.ok && unknown.error).toContain('"latency"')
    expect(!unknown.ok && unknown.key).toBe('latency')
    const range = parseBehaviourPatch({ error_rate: 2 })
    expect(!range.ok && range.error).toContain('error_rate')
    expect(parseBehaviourPatch([]).ok).toBe(false)
    expect(Object.keys(defaultBehaviour)).toHaveLength(8)
  })
})
