/** The classifier's signals, one bit each, in the order of the weight table's columns. */
export const SIGNALS = [
  'code_block',
  'code_lines',
  'code_words',
  'tech_words',
  'code_tokens',
  'code_tools',
  'code_system',
  'math',
  'logic',
  'quantity',
  'optimize',
  'constraints',
  'planning',
  'numbers',
  'list',
  'medium',
  'long',
  'very_long',
  'documents',
  'synthesis',
  'research',
  'multi_turn',
  'tools',
  'images',
  'structured_output',
  'short',
  'transform',
] as const

export type Signal = (typeof SIGNALS)[number]

/** The bit of a signal in a classification's `signals`. */
export function bit(name: Signal): number {
  return 1 << SIGNALS.indexOf(name)
}

/** `code_block,math,…`: the signals set, for `x-meridian-route-reason`. */
export function signalNames(signals: number): string {
  let out = ''
  for (let i = 0; i < SIGNALS.length; i++) {
    if ((signals & (1 << i)) !== 0) out = out === '' ? SIGNALS[i]! : `${out},${SIGNALS[i]}`
  }
  return out
}
