import { describe, expect, it } from 'vitest'
import { StreamAssembler } from '../../cache/assemble.js'
import { GatewayError } from '../../core/errors.js'
import { chatCompletion, planChat } from '../../sim/chat.js'
import { chatCompletionStream } from '../../sim/chat-stream.js'
import { chatToMessage, messageIdFor } from './from-openai.js'
import { messagesRequestSchema } from './schemas.js'
import { MessagesStreamTranslator } from './stream.js'
import { messagesToChat } from './to-openai.js'

type Json = Record<string, unknown>

const MODEL = 'claude-x'
const ID = 'chatcmpl-s1'

/** An OpenAI chunk as a provider sends it; `delta: null` is the usage chunk (no choices). */
function chunk(delta: Json | null, finish: string | null = null, usage: Json | null = null): string {
  const choices = delta === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }]
  return JSON.stringify({
    id: ID,
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-x',
    choices,
    usage,
  })
}

const USAGE = { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 }

/** Every frame a translator sends for these chunks, `push` by `push`, then `end`. */
function translate(chunks: string[]): { pushes: string[][]; end: string[]; frames: string[] } {
  const translator = new MessagesStreamTranslator(MODEL, messageIdFor(ID))
  const pushes = chunks.map((c) => translator.push(c))
  const end = translator.end()
  return { pushes, end, frames: [...pushes.flat(), ...end] }
}

const sse = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
const zeros = {
  input_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: 0,
}
const start = (usage: Json = zeros) =>
  sse('message_start', {
    message: {
      id: 'msg_s1',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  })
const blockStart = (index: number, content_block: Json) =>
  sse('content_block_start', { index, content_block })
const textDelta = (index: number, text: string) =>
  sse('content_block_delta', { index, delta: { type: 'text_delta', text } })
const jsonDelta = (index: number, partial_json: string) =>
  sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } })
const blockStop = (index: number) => sse('content_block_stop', { index })
const messageDelta = (stop_reason: string, usage: Json) =>
  sse('message_delta', { delta: { stop_reason, stop_sequence: null }, usage })
const stop = sse('message_stop', {})

/**
 * A consumer that reads the frames as Anthropic's SDKs do: it dispatches on the `event:` line, parses the
 * `data:` line, and accumulates the message as the TypeScript SDK's MessageStream does (message_start gives
 * the skeleton, content_block_start appends a block, deltas extend the block at their index, tool input is the
 * parsed concatenation of the input_json_delta pieces, message_delta sets stop_reason and usage fields that are
 * not null). Stricter than the SDK: anything out of the documented order fails the test.
 */
function accumulate(frames: string[]): Json {
  let message: Json | undefined
  let open: number | undefined
  let delta = false
  let stopped = false
  const json = new Map<number, string>()
  for (const text of frames) {
    const match = /^event: ([a-z_]+)\ndata: ([^\n]+)\n\n$/.exec(text)
    if (match === null)
      throw new Error(`not one SSE frame with an event and a data line: ${JSON.stringify(text)}`)
    const event = match[1]!
    const data = JSON.parse(match[2]!) as Json
    if (data.type !== event) throw new Error(`event ${event} carries data of type ${String(data.type)}`)
    if (stopped) throw new Error(`${event} after message_stop`)
    if (event === 'ping') continue
    if (event === 'error') throw new Error(`stream error: ${match[2]}`)
    if (event === 'message_start') {
      if (message !== undefined) throw new Error('a second message_start')
      message = structuredClone(data.message) as Json
      expect(message.content).toEqual([])
      continue
    }
    if (message === undefined) throw new Error(`${event} before message_start`)
    const content = message.content as Json[]
    const index = data.index as number
    switch (event) {
      case 'content_block_start':
        if (open !== undefined) throw new Error(`block ${index} started while block ${open} is open`)
        if (delta) throw new Error('content_block_start after message_delta')
        if (index !== content.length) throw new Error(`block ${index} started, ${content.length} expected`)
        content.push(structuredClone(data.content_block) as Json)
        open = index
        break
      case 'content_block_delta': {
        if (index !== open) throw new Error(`a delta for block ${index}, which is not open`)
        const block = content[index]!
        const change = data.delta as Json
        if (change.type === 'text_delta' && block.type === 'text') block.text = `${block.text}${change.text}`
        else if (change.type === 'input_json_delta' && block.type === 'tool_use')
          json.set(index, (json.get(index) ?? '') + String(change.partial_json))
        else throw new Error(`a ${String(change.type)} for a ${String(block.type)} block`)
        break
      }
      case 'content_block_stop': {
        if (index !== open) throw new Error(`block ${index} stopped, but it is not open`)
        const buffer = json.get(index)
        if (buffer !== undefined) content[index]!.input = JSON.parse(buffer)
        open = undefined
        break
      }
      case 'message_delta': {
        if (open !== undefined) throw new Error(`message_delta while block ${open} is open`)
        if (delta) throw new Error('a second message_delta')
        delta = true
        const change = data.delta as Json
        message.stop_reason = change.stop_reason
        message.stop_sequence = change.stop_sequence
        const usage = data.usage as Json
        const total = message.usage as Json
        if (typeof usage.output_tokens !== 'number')
          throw new Error('message_delta without usage.output_tokens')
        for (const [key, value] of Object.entries(usage)) if (value != null) total[key] = value
        break
      }
      case 'message_stop':
        if (!delta) throw new Error('message_stop before message_delta')
        stopped = true
        break
      default:
        throw new Error(`unknown event ${event}`)
    }
  }
  if (!stopped) throw new Error('the stream ended without message_stop')
  return message!
}

/** The same chunks folded into the non-streamed completion (as the cache does), then translated. */
function viaCompletion(chunks: string[]): Json {
  const assembler = new StreamAssembler()
  for (const c of chunks) assembler.push(c)
  const completion = assembler.result()
  if (completion === undefined) throw new Error('the chunks do not make a completion')
  return JSON.parse(chatToMessage(completion, MODEL)) as Json
}

const textChunks = [
  chunk({ role: 'assistant', content: '', refusal: null }),
  chunk({ content: 'Hel' }),
  chunk({ content: 'lo' }),
  chunk({}, 'stop'),
  chunk(null, null, USAGE),
]

const toolChunks = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Let me check.' }),
  chunk({
    tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: ':"Oslo"}' } }] }),
  chunk({
    tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } }],
  }),
  chunk({}, 'tool_calls'),
  chunk(null, null, {
    prompt_tokens: 40,
    completion_tokens: 9,
    total_tokens: 49,
    prompt_tokens_details: { cached_tokens: 32 },
  }),
]

describe('MessagesStreamTranslator', () => {
  it('streams text as Anthropic does, frame by frame', () => {
    const { pushes, end } = translate(textChunks)
    expect(pushes).toEqual([
      [start()],
      [blockStart(0, { type: 'text', text: '' }), textDelta(0, 'Hel')],
      [textDelta(0, 'lo')],
      [],
      [],
    ])
    expect(end).toEqual([
      blockStop(0),
      messageDelta('end_turn', {
        input_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 2,
      }),
      stop,
    ])
  })

  it('frames each event with its event line, byte for byte', () => {
    expect(translate(textChunks).frames[1]).toBe(
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    )
    expect(translate(textChunks).end[2]).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n')
  })

  it('streams tool calls as tool_use blocks with their arguments in pieces, closing each block before the next', () => {
    expect(translate(toolChunks).frames).toEqual([
      start(),
      blockStart(0, { type: 'text', text: '' }),
      textDelta(0, 'Let me check.'),
      blockStop(0),
      blockStart(1, { type: 'tool_use', id: 'call_1', name: 'weather', input: {} }),
      jsonDelta(1, '{"city"'),
      jsonDelta(1, ':"Oslo"}'),
      blockStop(1),
      blockStart(2, { type: 'tool_use', id: 'call_2', name: 'time', input: {} }),
      jsonDelta(2, '{}'),
      blockStop(2),
      messageDelta('tool_use', {
        input_tokens: 8,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 32,
        output_tokens: 9,
      }),
      stop,
    ])
  })

  it('gives a tool call without an id the id chatToMessage gives it', () => {
    const calls = [{ index: 0, type: 'function', function: { name: 'f', arguments: '{}' } }]
    const streamed = accumulate(translate([chunk({ tool_calls: calls }, 'tool_calls')]).frames)
    const completion = JSON.stringify({
      id: ID,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, tool_calls: calls },
          finish_reason: 'tool_calls',
        },
      ],
    })
    expect(streamed.content).toEqual([{ type: 'tool_use', id: 'toolu_s1_0', name: 'f', input: {} }])
    expect(streamed).toEqual(JSON.parse(chatToMessage(completion, MODEL)))
  })

  it('reports zero usage when the upstream sent none', () => {
    const { frames } = translate(textChunks.slice(0, -1))
    expect(frames.at(-2)).toBe(messageDelta('end_turn', zeros))
  })

  it('takes usage into message_start when the first chunk has it', () => {
    const { frames } = translate([chunk({ content: 'x' }, null, USAGE), chunk({}, 'stop')])
    expect(frames[0]).toBe(
      start({
        input_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 2,
      }),
    )
  })

  it('maps the finish reason', () => {
    const reason = (chunks: string[]) => (accumulate(translate(chunks).frames).stop_reason as string) ?? null
    expect(reason([chunk({ content: 'x' }, 'length')])).toBe('max_tokens')
    expect(reason([chunk({ content: 'x' }, 'content_filter')])).toBe('refusal')
    expect(reason([chunk({ content: 'x' })])).toBe('end_turn')
    expect(
      reason([
        chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] }, 'stop'),
      ]),
    ).toBe('tool_use')
  })

  it('streams a refusal as text with stop_reason refusal', () => {
    const message = accumulate(translate([chunk({ refusal: 'No.' }), chunk({}, 'stop')]).frames)
    expect(message.content).toEqual([{ type: 'text', text: 'No.' }])
    expect(message.stop_reason).toBe('refusal')
  })

  it('still sends a whole message for an empty stream', () => {
    expect(translate([]).frames).toEqual([start(), messageDelta('end_turn', zeros), stop])
    expect(translate([chunk({ role: 'assistant', content: '' }), chunk({}, 'stop')]).frames).toEqual([
      start(),
      messageDelta('end_turn', zeros),
      stop,
    ])
  })

  it('sends an error as event: error, after which nothing follows', () => {
    const translator = new MessagesStreamTranslator(MODEL, 'msg_1')
    translator.push(chunk({ content: 'x' }))
    expect(translator.error({ type: 'api_error', message: 'upstream failed' })).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"upstream failed"}}\n\n',
    )
    expect(translator.push(chunk({ content: 'y' }))).toEqual([])
    expect(translator.end()).toEqual([])
  })

  it('rejects a chunk that is not JSON as an invalid upstream response', () => {
    const translator = new MessagesStreamTranslator(MODEL, 'msg_1')
    expect(() => translator.push('{"choices":')).toThrow(GatewayError)
  })
})

describe('what an SDK accumulates from the stream', () => {
  it('is the message chatToMessage makes of the same answer unstreamed', () => {
    for (const chunks of [textChunks, toolChunks, textChunks.slice(0, -1)]) {
      const streamed = accumulate(translate(chunks).frames)
      expect(streamed).toEqual(viaCompletion(chunks))
    }
    expect(accumulate(translate(toolChunks).frames)).toMatchObject({
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 8, cache_read_input_tokens: 32, output_tokens: 9 },
    })
  })

  const weather = {
    name: 'weather',
    input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
  }
  const requests: Record<string, Json & { stop: string }> = {
    text: { stop: 'end_turn', messages: [{ role: 'user', content: 'Tell me about Oslo.' }] },
    'text cut by max_tokens': {
      stop: 'max_tokens',
      max_tokens: 3,
      messages: [{ role: 'user', content: 'Tell me more.' }],
    },
    'a forced tool': { stop: 'tool_use', tools: [weather], tool_choice: { type: 'tool', name: 'weather' } },
    'any tool': {
      stop: 'tool_use',
      tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
    },
    'a conversation with tool results': {
      stop: 'end_turn',
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'rain' }] },
      ],
    },
  }

  // The simulated upstream renders one planned answer both ways, as a provider would answer the same request.
  for (const [name, { stop: reason, ...fields }] of Object.entries(requests)) {
    it(`matches for ${name}, through the simulated upstream`, () => {
      const req = messagesRequestSchema.parse({
        model: MODEL,
        max_tokens: 200,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
        ...fields,
      })
      const plan = planChat(messagesToChat(req).body, { model: 'gpt-x' })
      const unary = JSON.parse(chatToMessage(JSON.stringify(chatCompletion(plan, 1)), MODEL)) as Json
      const translator = new MessagesStreamTranslator(MODEL, messageIdFor(plan.id))
      const frames: string[] = []
      for (const c of chatCompletionStream(plan, 1, true).chunks)
        frames.push(...translator.push(JSON.stringify(c)))
      frames.push(...translator.end())
      expect(accumulate(frames)).toEqual(unary)
      expect((unary.content as Json[]).length).toBeGreaterThan(0)
      expect(unary.stop_reason).toBe(reason)
    })
  }
})
