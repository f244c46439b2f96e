import { describe, expect, it } from 'vitest'
import { STORABLE_FINISH, storableCompletion } from './storable.js'

/** A chat completion whose choices finished with the given reasons (a choice per reason). */
const completion = (...reasons: unknown[]) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: reasons.map((finish_reason, index) => ({
      index,
      message: { role: 'assistant', content: 'Hi' },
      finish_reason,
    })),
  })

describe('storableCompletion', () => {
  it.each(['stop', 'length', 'tool_calls', 'function_call'])(
    'stores an answer that finished with %s',
    (reason) => {
      expect(storableCompletion(completion(reason))).toBe(true)
    },
  )

  it('stores several choices when every one finished well', () => {
    expect(storableCompletion(completion('stop', 'length', 'tool_calls'))).toBe(true)
  })

  it('STORABLE_FINISH lists exactly the reasons above', () => {
    expect([...STORABLE_FINISH].sort()).toEqual(['function_call', 'length', 'stop', 'tool_calls'])
  })

  it('does not store content_filter, alone or in any one choice', () => {
    expect(storableCompletion(completion('content_filter'))).toBe(false)
    expect(storableCompletion(completion('stop', 'content_filter'))).toBe(false)
    expect(storableCompletion(completion('content_filter', 'stop'))).toBe(false)
  })

  it('does not store a null, missing or unknown finish_reason', () => {
    expect(storableCompletion(completion(null))).toBe(false)
    expect(storableCompletion(completion('stop', null))).toBe(false)
    expect(storableCompletion(JSON.stringify({ choices: [{ index: 0, message: { content: 'Hi' } }] }))).toBe(
      false,
    )
    expect(storableCompletion(completion('STOP'))).toBe(false)
    expect(storableCompletion(completion('eos'))).toBe(false)
    expect(storableCompletion(completion(['stop']))).toBe(false)
  })

  it('does not store an answer with empty choices, no choices, or choices that are not objects', () => {
    expect(storableCompletion(completion())).toBe(false)
    expect(storableCompletion(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion' }))).toBe(false)
    expect(storableCompletion(JSON.stringify({ choices: { 0: { finish_reason: 'stop' } } }))).toBe(false)
    expect(storableCompletion(JSON.stringify({ choices: [null] }))).toBe(false)
    expect(storableCompletion(JSON.stringify({ choices: ['stop'] }))).toBe(false)
  })

  it('does not store text that is not JSON, or JSON that is not an object', () => {
    expect(storableCompletion('')).toBe(false)
    expect(storableCompletion('{"choices":[{"finish_reason":"stop"}]')).toBe(false)
    expect(storableCompletion('data: {"choices":[]}')).toBe(false)
    expect(storableCompletion('null')).toBe(false)
    expect(storableCompletion('[]')).toBe(false)
    expect(storableCompletion('"stop"')).toBe(false)
    expect(storableCompletion('42')).toBe(false)
  })
})
