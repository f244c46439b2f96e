import { describe, expect, it } from 'vitest'
import { classify, signalNames, signalsOf } from './classify.js'
import { emptyScan, scan } from './scan.js'
import { bit } from './signals.js'

const user = (content: unknown) => ({ messages: [{ role: 'user', content }] })
const signals = (text: string) => {
  const out = emptyScan()
  scan(text, 0, text.length, out)
  return signalNames(out.bits).split(',')
}

describe('scan', () => {
  it('finds words, phrases, stems and CJK terms, whatever their case', () => {
    expect(signals('Please DEBUG this')).toContain('code_words')
    expect(signals('Explain it step-by-step')).toContain('logic')
    expect(signals('¿Cuántos caminos hay?')).toContain('quantity')
    expect(signals('Calculez la moyenne')).toContain('quantity') // the stem calcul*
    expect(signals('请证明这个定理')).toContain('logic')
    expect(signals('この関数の意味は？')).toContain('code_words')
  })

  it('does not match inside other words', () => {
    expect(signals('We want to improve the tone')).not.toContain('logic') // improve is not prove
    expect(signals('A proofread, please')).not.toContain('logic')
  })

  it('sees code shapes: identifiers, calls, file names, SQL in capitals, code lines', () => {
    expect(signals('rename getUserName')).toContain('code_tokens')
    expect(signals('what does max_retries do')).toContain('code_tokens')
    expect(signals('call init() first')).toContain('code_tokens')
    expect(signals('edit app.py')).toContain('code_tokens')
    expect(signals('SELECT name FROM users')).toContain('code_tokens')
    expect(signals('x = 1;\ny = 2;')).toContain('code_lines')
    expect(signals('def main():\n  pass')).toContain('code_lines')
    expect(signals('Def Leppard is a band')).not.toContain('code_lines')
  })

  it('tells arithmetic from dates and ranges', () => {
    expect(signals('what is 17 * 23')).toContain('math')
    expect(signals('12 + 30 = ?')).toContain('math')
    expect(signals('between 3-4 pm on 14/03/2024')).not.toContain('math')
    expect(signals('is x² positive')).toContain('math')
  })

  it('counts numbers and list items', () => {
    const out = emptyScan()
    const text = 'Items:\n- 3 apples\n- 4.5 kg flour\n1. mix\n2) bake at 180'
    scan(text, 0, text.length, out)
    expect(out.numbers).toBe(5)
    expect(out.listItems).toBe(4)
  })
})

describe('classify', () => {
  it('labels plain examples of each task type', () => {
    expect(classify(user('What is the capital of Australia?')).label).toBe('simple')
    expect(classify(user('Translate "good morning" into Italian.')).label).toBe('simple')
    expect(classify(user('Why does my Python function raise a KeyError when the dict is empty?')).label).toBe(
      'code',
    )
    expect(classify(user('Prove that the square root of 2 is irrational.')).label).toBe('reasoning')
    expect(
      classify(user('How many ways can 5 people sit at a round table? Show your reasoning step by step.'))
        .label,
    ).toBe('reasoning')
  })

  it('reads images, tools, response formats and earlier turns', () => {
    const found = signalsOf({
      messages: [
        { role: 'system', content: 'You are a senior software engineer reviewing code.' },
        { role: 'user', content: 'const total = items.reduce((a, b) => a + b, 0);' },
        { role: 'assistant', content: 'That sums the items.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'now this one' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
      tools: [{ type: 'function', function: { name: 'read_file' } }],
      response_format: { type: 'json_object' },
    })
    for (const name of [
      'code_system',
      'code_lines',
      'images',
      'code_tools',
      'tools',
      'structured_output',
    ] as const) {
      expect(found.signals & bit(name), name).not.toBe(0)
    }
    expect(found.turns).toBe(2)
  })

  it('counts long context and documents, reading only the start and end of a very long ask', () => {
    const doc = (n: number) => `Document ${n}\n${'A paragraph of findings about the market. '.repeat(80)}\n`
    const found = classify(user(`Compare these reports.\n${doc(1)}${doc(2)}${doc(3)}`))
    expect(signalNames(found.signals)).toMatch(/documents.*synthesis/)
    expect(found.label).toBe('complex')
    // A megabyte of text costs what its head and tail cost.
    const huge = classify(user(`Summarise this.\n${'word '.repeat(200_000)}`))
    expect(huge.chars).toBe(1_000_016)
    expect(huge.signals & bit('very_long')).not.toBe(0)
  })

  it('is deterministic and survives shapes it does not expect', () => {
    const body = user('Write a SQL query that counts orders per day.')
    expect(classify(body)).toEqual(classify(structuredClone(body)))
    expect(classify({}).label).toBeDefined()
    expect(
      classify({
        messages: [
          { role: 'user', content: null },
          { role: 'user', content: [{}] },
        ],
      }).turns,
    ).toBe(0)
    expect(classify({ messages: 'nope', tools: 'x' } as never).chars).toBe(0)
  })
})
