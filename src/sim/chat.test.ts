import { describe, expect, it } from 'vitest'
import { chatCompletion, chatPromptTokens, chatRequestProblem, planChat } from './chat.js'
import type { JsonObject } from './wire.js'

const ask = (content: string, extra: JsonObject = {}): JsonObject => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
})

const CREATED = 1_750_000_000

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
