import { describe, expect, it } from 'vitest'
import { planChat } from './chat.js'
import { chatCompletionStream, chatStreamFrames } from './chat-stream.js'
import type { JsonObject } from './wire.js'

const ask = (content: string, extra: JsonObject = {}): JsonObject => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
})

const CREATED = 1_750_000_000

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
