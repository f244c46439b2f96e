import { LABELS, type Label } from './labels.js'
import { documentLines, emptyScan, scan } from './scan.js'
import { bit, SIGNALS, type Signal } from './signals.js'
import { WEIGHTS } from './weights.js'

export { SIGNALS, type Signal, signalNames } from './signals.js'

/** Bumped whenever a rule or a weight changes what a request is labelled; `x-meridian-route-reason` names it. */
export const CLASSIFIER_VERSION = 1

/** Characters of prompt text from which a request counts as medium, long and very long context. */
const MEDIUM_CHARS = 2_500
const LONG_CHARS = 6_000
const VERY_LONG_CHARS = 20_000
/** How much of the ask is read: its start and its end, never the middle of a long one. */
const HEAD = 1_500
const TAIL = 600
/** How much of any message is searched for code fences and document starts. */
const SCAN_LIMIT = 65_536
/** How much of each earlier turn is read for code. */
const HISTORY_HEAD = 600
/** How much of the system prompt is read for a coding assistant's. */
const SYSTEM_HEAD = 600

export interface Classification {
  label: Label
  /** A bit per entry of SIGNALS. */
  signals: number
  /** Characters of text in the messages. */
  chars: number
  /** User turns. */
  turns: number
}

interface Message {
  role?: unknown
  content?: unknown
}

/**
 * Labels a chat request by the task it asks for: cheap signals from its messages, tools and options (no model
 * call, no tokenizer, a few regular expressions over bounded windows of text), weighed by a fixed table.
 * Deterministic: the same request always gets the same label.
 *
 * @example classify({ messages: [{ role: 'user', content: 'Prove that √2 is irrational.' }] }).label // 'reasoning'
 */
export function classify(body: {
  messages?: unknown
  tools?: unknown
  response_format?: unknown
}): Classification {
  const c = signalsOf(body)
  return { label: decide(c.signals), signals: c.signals, chars: c.chars, turns: c.turns }
}

/** Tools whose names say a coding agent calls them. */
const CODE_TOOL =
  /file|code|test|repo|git|exec|shell|command|lint|compile|sql|terminal|patch|diff|build|deploy/i

const CODE_WORDS = bit('code_words')
const CODE_SHAPES = bit('code_lines') | bit('code_tokens')

// Scratch space for one classification at a time (classify is synchronous), so the hot path allocates little.
const ask = emptyScan()
const other = emptyScan()

/** The signals of a request, before weighing (the weight fitting script reads them too). */
export function signalsOf(body: { messages?: unknown; tools?: unknown; response_format?: unknown }): {
  signals: number
  chars: number
  turns: number
} {
  const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : []
  let signals = 0
  let chars = 0
  let turns = 0
  let images = 0
  let docs = 0
  let askText = ''
  let askAt = -1
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    const role = message.role
    let text = ''
    const content = message.content
    if (typeof content === 'string') text = content
    else if (Array.isArray(content)) {
      for (const part of content as { type?: unknown; text?: unknown }[]) {
        if (typeof part.text === 'string') text = text === '' ? part.text : `${text}\n${part.text}`
        else if (part.type === 'image_url' || part.type === 'input_image' || part.type === 'image') images++
      }
    }
    chars += text.length
    if (text.length === 0) continue
    if (role === 'system' || role === 'developer') {
      if (i === 0) {
        other.bits = 0
        scan(text, 0, Math.min(text.length, SYSTEM_HEAD), other)
        if ((other.bits & CODE_WORDS) !== 0) signals |= bit('code_system')
      }
      continue
    }
    if (role === 'user') {
      turns++
      askText = text
      askAt = i
    }
    // Past the first 64 KB a message's length says what matters; reading on would only cost time.
    const head = text.length > SCAN_LIMIT ? text.slice(0, SCAN_LIMIT) : text
    if (head.includes('```')) signals |= bit('code_block')
    if (text.length > 1_000 && docs < 2) docs += documentLines(head, 2 - docs)
  }
  // Earlier turns count for code: a follow-up such as "now add tests" belongs to the code conversation.
  other.bits = 0
  for (let i = Math.max(0, messages.length - 4); i < messages.length; i++) {
    const { role, content } = messages[i]!
    if (i !== askAt && typeof content === 'string' && role !== 'system' && role !== 'developer') {
      scan(content, 0, Math.min(content.length, HISTORY_HEAD), other)
    }
  }
  signals |= other.bits & CODE_SHAPES
  if (chars >= MEDIUM_CHARS) signals |= bit('medium')
  if (chars >= LONG_CHARS) signals |= bit('long')
  if (chars >= VERY_LONG_CHARS) signals |= bit('very_long')
  if (docs >= 2) signals |= bit('documents')
  if (turns >= 3) signals |= bit('multi_turn')
  if (images > 0) signals |= bit('images')
  if (askText.length < 160 && chars < 400) signals |= bit('short')
  const format = body.response_format as { type?: unknown } | undefined
  if (format?.type === 'json_schema' || format?.type === 'json_object') signals |= bit('structured_output')
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    signals |= bit('tools')
    for (const tool of body.tools as { function?: { name?: unknown } }[]) {
      const name = tool.function?.name
      if (typeof name === 'string' && CODE_TOOL.test(name)) signals |= bit('code_tools')
    }
  }
  if (askText !== '') {
    ask.bits = 0
    ask.numbers = 0
    ask.listItems = 0
    if (askText.length <= HEAD + TAIL) scan(askText, 0, askText.length, ask)
    else {
      scan(askText, 0, HEAD, ask)
      scan(askText, askText.length - TAIL, askText.length, ask)
    }
    signals |= ask.bits
    if (ask.numbers >= 4) signals |= bit('numbers')
    if (ask.listItems >= 3) signals |= bit('list')
  }
  return { signals, chars, turns }
}

/** A weight per signal and a bias, per label; an absent weight is 0. */
export type Weights = Record<Label, Partial<Record<Signal | 'bias', number>>>

/** Weights as rows of numbers in SIGNALS order, the bias last: the form the hot path reads. */
function rows(weights: Weights): Float64Array[] {
  return LABELS.map((label) => {
    const row = new Float64Array(SIGNALS.length + 1)
    SIGNALS.forEach((signal, i) => {
      row[i] = weights[label][signal] ?? 0
    })
    row[SIGNALS.length] = weights[label].bias ?? 0
    return row
  })
}

const TABLE = rows(WEIGHTS)

function argmax(table: readonly Float64Array[], signals: number): Label {
  let best = 0
  let bestScore = -Infinity
  for (let l = 0; l < table.length; l++) {
    const row = table[l]!
    let score = row[SIGNALS.length]!
    for (let i = 0; i < SIGNALS.length; i++) if ((signals & (1 << i)) !== 0) score += row[i]!
    if (score > bestScore) {
      bestScore = score
      best = l
    }
  }
  return LABELS[best]!
}

/** The label whose weighted signals score highest (ties go to the earlier label). */
export function decide(signals: number): Label {
  return argmax(TABLE, signals)
}

/** `decide` with other weights (for fitting them). */
export function decideWith(weights: Weights): (signals: number) => Label {
  const table = rows(weights)
  return (signals) => argmax(table, signals)
}
