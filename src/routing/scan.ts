import {
  CODE_EXTENSIONS,
  CODE_LINE_STARTS,
  CODE_WORDS,
  CONSTRAINT_WORDS,
  DOC_LINE_STARTS,
  LOGIC_WORDS,
  OPTIMIZE_WORDS,
  PLANNING_WORDS,
  QUANTITY_WORDS,
  RESEARCH_WORDS,
  SQL_KEYWORDS,
  SYNTHESIS_WORDS,
  TECH_WORDS,
  TRANSFORM_WORDS,
} from './lexicon.js'
import { bit } from './signals.js'

/*
 * One pass over a window of text, no regular expressions and no allocation: words are hashed as they are read
 * (FNV-1a over lower-cased UTF-16 units) and looked up in an open-addressing table of the lexicon's words,
 * phrases (hashes of consecutive words), stems (hashes of a word's first n characters) and CJK terms (hashes
 * of the last 1 to 4 CJK characters). A hash collision with an unrelated word is about one in 2^32 / table
 * size; the table holds under two thousand entries.
 */

const CODE_TOKENS = bit('code_tokens')
const CODE_LINES = bit('code_lines')
const MATH = bit('math')
/** Flags above the signals' bits: a word that starts a phrase, two that start a three-word one, line starts. */
const PHRASE = 1 << 27
const PHRASE3 = 1 << 28
const LINE_CODE = 1 << 29
const LINE_DOC = 1 << 30
const SIGNAL_MASK = PHRASE - 1

const FNV = 0x811c9dc5 | 0
const STEM = 0x5bd1e995 | 0
const LINE = 0x27d4eb2f
const UPPER = 0x165667b1
const EXT = 0x9e3779b1 | 0
const CJK = 0x85ebca6b | 0
/** The first three characters of some stem: only then are a word's stems looked up. */
const STEM3 = 0x68e31da4

const fnv = (h: number, c: number) => Math.imul(h ^ c, 0x01000193)

/** Two hashes into one (a phrase's words, a word and its kind). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ (b >>> 15), 0x2c1b3c6d) ^ b
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39)
  return h ^ (h >>> 15)
}

function isCjk(c: number): boolean {
  return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af)
}

/** A letter's lower case: ASCII, Latin-1 and Latin Extended-A, Cyrillic; 0 for anything that is not a letter. */
function letter(c: number): number {
  if (c >= 97 && c <= 122) return c
  if (c >= 65 && c <= 90) return c + 32
  if (c < 0xc0) return 0
  if (c <= 0xde) return c === 0xd7 ? 0 : c + 32
  if (c <= 0x24f) return c === 0xf7 ? 0 : c
  if (c >= 0x410 && c <= 0x42f) return c + 32
  if (c >= 0x400 && c <= 0x40f) return c + 80
  if (c <= 0x4ff && c >= 0x430) return c
  return 0
}

class Table {
  readonly keys: Int32Array
  readonly values: Int32Array
  readonly mask: number
  constructor(size: number) {
    let capacity = 16
    while (capacity < size * 4) capacity *= 2
    this.keys = new Int32Array(capacity)
    this.values = new Int32Array(capacity)
    this.mask = capacity - 1
  }
  add(key: number, value: number): void {
    const k = key || 1
    let i = k & this.mask
    while (this.keys[i] !== 0 && this.keys[i] !== k) i = (i + 1) & this.mask
    this.keys[i] = k
    this.values[i]! |= value
  }
  get(key: number): number {
    const k = key || 1
    let i = k & this.mask
    for (;;) {
      const found = this.keys[i]!
      if (found === k) return this.values[i]!
      if (found === 0) return 0
      i = (i + 1) & this.mask
    }
  }
}

function wordHash(word: string): number {
  let h = FNV
  for (let i = 0; i < word.length; i++) h = fnv(h, word.charCodeAt(i))
  return h
}

function cjkHash(codes: readonly number[]): number {
  let h = CJK
  for (const c of codes) h = fnv(h, c)
  return h
}

const entries: [number, number][] = []
const stemLengths = new Set<number>()

function addTerm(term: string, value: number): void {
  if (isCjk(term.charCodeAt(0))) {
    entries.push([cjkHash([...term].map((ch) => ch.charCodeAt(0))), value])
    return
  }
  const stem = term.endsWith('*')
  const words = (stem ? term.slice(0, -1) : term).toLowerCase().split(/[\s.-]+/)
  if (stem) {
    const word = words[0]!
    if (word.length < 3) throw new Error(`stem "${term}" is shorter than 3 characters`)
    stemLengths.add(word.length)
    entries.push([mix(wordHash(word), STEM), value], [mix(wordHash(word.slice(0, 3)), STEM3), 1])
    return
  }
  const hashes = words.map(wordHash)
  if (hashes.length === 1) entries.push([hashes[0]!, value])
  else if (hashes.length === 2) entries.push([hashes[0]!, PHRASE], [mix(hashes[0]!, hashes[1]!), value])
  else {
    const pair = mix(hashes[0]!, hashes[1]!)
    entries.push([hashes[0]!, PHRASE], [pair, PHRASE3], [mix(pair, hashes[2]!), value])
  }
}

const groups: [readonly string[], number][] = [
  [CODE_WORDS, bit('code_words')],
  [TECH_WORDS, bit('tech_words')],
  [LOGIC_WORDS, bit('logic')],
  [QUANTITY_WORDS, bit('quantity')],
  [OPTIMIZE_WORDS, bit('optimize')],
  [CONSTRAINT_WORDS, bit('constraints')],
  [PLANNING_WORDS, bit('planning')],
  [SYNTHESIS_WORDS, bit('synthesis')],
  [RESEARCH_WORDS, bit('research')],
  [TRANSFORM_WORDS, bit('transform')],
]
for (const [terms, value] of groups) for (const term of terms) addTerm(term, value)
for (const w of CODE_LINE_STARTS) entries.push([mix(wordHash(w), LINE), LINE_CODE])
for (const w of DOC_LINE_STARTS) entries.push([mix(wordHash(w), LINE), LINE_DOC])
for (const w of SQL_KEYWORDS) entries.push([mix(wordHash(w), UPPER), CODE_TOKENS])
for (const w of CODE_EXTENSIONS) entries.push([mix(wordHash(w), EXT), CODE_TOKENS])
const table = new Table(entries.length)
for (const [key, value] of entries) table.add(key, value)
const STEM_LENGTHS = Int32Array.from([...stemLengths].sort((a, b) => a - b))
const MAX_STEM = STEM_LENGTHS[STEM_LENGTHS.length - 1] ?? 0

/** What one scan found; reused across scans (counts accumulate until reset). */
export interface ScanResult {
  bits: number
  numbers: number
  listItems: number
}

export function emptyScan(): ScanResult {
  return { bits: 0, numbers: 0, listItems: 0 }
}

/**
 * Lines of `text` that start a document (a heading, a rule, `Document 2`, `Transcript`, `From:`…), counted up
 * to `max`: one check per line, whatever the text's length.
 */
export function documentLines(text: string, max: number): number {
  let n = 0
  let at = 0
  while (at < text.length && n < max) {
    let i = at
    while (i < text.length && isSpace(text.charCodeAt(i))) i++
    const c = text.charCodeAt(i)
    const next = text.charCodeAt(i + 1)
    if (c === 35 && (next === 32 || next === 35)) n++
    else if ((c === 45 || c === 61) && next === c && text.charCodeAt(i + 2) === c) n++
    else {
      let h = FNV
      let j = i
      for (let l = letter(text.charCodeAt(j)); l !== 0 && j - i < 16; l = letter(text.charCodeAt(++j)))
        h = fnv(h, l)
      if (j > i && (table.get(mix(h, LINE)) & LINE_DOC) !== 0) n++
    }
    const eol = text.indexOf('\n', i)
    if (eol === -1) break
    at = eol + 1
  }
  return n
}

const prefix = new Int32Array(MAX_STEM + 1)

const isDigit = (c: number) => c >= 48 && c <= 57
const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 0xa0

/**
 * Scans `text[start, end)`, adding what it finds to `out`: lexicon signals of words, phrases, stems and CJK
 * terms; code shapes (identifiers in camelCase or snake_case, `name()`, file extensions, inline code, SQL in
 * capitals, lines that start with a code keyword or end in `;` or `{`); arithmetic between numbers; and counts
 * of numbers, list items and lines that start a document.
 */
export function scan(text: string, start: number, end: number, out: ScanResult): void {
  let bits = 0
  let h = FNV
  let len = 0
  let startsLower = false
  let upper = true
  let camel = false
  let dotBefore = false
  let p1 = 0 // the previous word, when it may start a phrase
  let pair = 0 // the previous two words, when they may start a three-word phrase
  let lineStart = true
  let firstWord = true
  let last = 10 // the last character that was not a space; a newline at first
  let numState = 0 // 1: after a number, 2: after a number and an operator
  let k1 = 0
  let k2 = 0
  let k3 = 0

  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    const l = letter(c)
    if (l !== 0 || ((c === 39 || c === 0x2019) && len > 0)) {
      if (len === 0) {
        h = FNV
        startsLower = c >= 97 && c <= 122
        upper = true
        camel = false
        const before = i > start ? text.charCodeAt(i - 1) : 32
        dotBefore = before === 46 && letter(text.charCodeAt(i - 2)) !== 0
        // 10x10, 3×4: a product or a grid.
        if (c === 120 && isDigit(before) && isDigit(text.charCodeAt(i + 1))) bits |= MATH
      } else if (c >= 65 && c <= 90) {
        const prev = text.charCodeAt(i - 1)
        if (prev >= 97 && prev <= 122 && len >= 2) camel = true
      }
      if (l !== c) upper = upper && c >= 65 && c <= 90
      else upper = false
      h = fnv(h, l === 0 ? 39 : l)
      len++
      if (len <= MAX_STEM) prefix[len] = h
      numState = 0
      lineStart = false
      last = c
      continue
    }
    if (len > 0) {
      let v = wordBits(h, len, firstWord && startsLower, upper, camel && startsLower, dotBefore)
      let nextPair = 0
      if (p1 !== 0) {
        const two = mix(p1, h)
        const found = table.get(two)
        v |= found
        if ((found & PHRASE3) !== 0) nextPair = two
      }
      if (pair !== 0) v |= table.get(mix(pair, h))
      bits |= v & SIGNAL_MASK
      p1 = (v & PHRASE) !== 0 ? h : 0
      pair = nextPair
      len = 0
      firstWord = false
    }
    if (c === 10) {
      if (last === 59 || last === 123) bits |= CODE_LINES
      lineStart = true
      firstWord = true
      last = 10
      numState = 0
      continue
    }
    if (isSpace(c)) continue
    if (isDigit(c)) {
      if (lineStart) {
        let j = i + 1
        while (j < end && isDigit(text.charCodeAt(j))) j++
        const after = text.charCodeAt(j)
        if ((after === 46 || after === 41) && isSpace(text.charCodeAt(j + 1))) out.listItems++
      }
      const prev = i > start ? text.charCodeAt(i - 1) : 32
      if (
        !isDigit(prev) &&
        !((prev === 46 || prev === 44 || prev === 58) && isDigit(text.charCodeAt(i - 2)))
      ) {
        out.numbers++
        if (numState === 2) bits |= MATH
      }
      numState = 1
    } else if (isCjk(c)) {
      let v = table.get(cjkHash1(c))
      if (k3 !== 0) {
        v |= table.get(fnv(cjkHash1(k3), c))
        if (k2 !== 0) {
          v |= table.get(fnv(fnv(cjkHash1(k2), k3), c))
          if (k1 !== 0) v |= table.get(fnv(fnv(fnv(cjkHash1(k1), k2), k3), c))
        }
      }
      bits |= v & SIGNAL_MASK
      k1 = k2
      k2 = k3
      k3 = c
      numState = 0
    } else {
      const next = text.charCodeAt(i + 1)
      switch (c) {
        case 42: // *
        case 0xd7: // ×
        case 0xf7: // ÷
        case 94: // ^
          if (lineStart && c === 42 && isSpace(next)) out.listItems++
          else if (numState === 1) numState = 2
          break
        case 43: // +
        case 45: // -
        case 47: // / (spaced: a date or a fraction is not arithmetic)
          if (lineStart) {
            if (c !== 47 && isSpace(next)) out.listItems++
          } else if (c === 45 && isSpace(text.charCodeAt(i - 1)) && (next === 45 || isFlag(text, i + 1))) {
            bits |= CODE_TOKENS // a command-line option: --force, -o eth0
          } else if (numState === 1 && isSpace(next) && isSpace(text.charCodeAt(i - 1))) numState = 2
          break
        case 0x2022: // •
          if (lineStart) out.listItems++
          break
        case 61: // =
          if (next === 62) bits |= CODE_LINES
          numState = 0
          break
        case 96: // `
          bits |= CODE_TOKENS
          break
        case 95: // _
          if (letter(text.charCodeAt(i - 1)) !== 0 && letter(next) !== 0) bits |= CODE_TOKENS
          break
        case 40: // (
          // name() or a method call, obj.name(…)
          if (letter(text.charCodeAt(i - 1)) !== 0 && (next === 41 || dotBefore)) bits |= CODE_TOKENS
          numState = 0
          break
        case 123: // {
          if (last === 41) bits |= CODE_LINES
          break
        case 125: // }
          if (lineStart) bits |= CODE_LINES
          break
        case 0x221a: // √
        case 0x3c0: // π
        case 0x2211: // ∑
        case 0x222b: // ∫
        case 0x2264: // ≤
        case 0x2265: // ≥
        case 0x2260: // ≠
        case 0x2248: // ≈
        case 0xb2: // ²
        case 0xb3: // ³
        case 0x221e: // ∞
          bits |= MATH
          break
        default:
          if (c !== 46 && c !== 44 && c !== 58) numState = 0
      }
      if (c !== 46 && c !== 44 && c !== 58 && !isCjk(c)) {
        k1 = 0
        k2 = 0
        k3 = 0
      }
    }
    lineStart = false
    last = c
  }
  if (len > 0) {
    let v = wordBits(h, len, firstWord && startsLower, upper, camel && startsLower, dotBefore)
    if (p1 !== 0) v |= table.get(mix(p1, h))
    if (pair !== 0) v |= table.get(mix(pair, h))
    bits |= v & SIGNAL_MASK
  }
  if (last === 59 || last === 123) bits |= CODE_LINES
  out.bits |= bits
}

/**
 * What a word that has just ended adds, apart from phrases: the lexicon's signals for it and its stems, and the
 * code shapes it has. Flags PHRASE when the word may start a phrase.
 */
function wordBits(h: number, len: number, lineStart: boolean, upper: boolean, camel: boolean, dot: boolean) {
  let v = table.get(h)
  if (len >= 3 && table.get(mix(prefix[3]!, STEM3)) !== 0) {
    for (let s = 0; s < STEM_LENGTHS.length; s++) {
      const n = STEM_LENGTHS[s]!
      if (n > len) break
      v |= table.get(mix(prefix[n]!, STEM)) & SIGNAL_MASK
    }
  }
  if (lineStart && (table.get(mix(h, LINE)) & LINE_CODE) !== 0) v |= CODE_LINES
  if (upper && len >= 3) v |= table.get(mix(h, UPPER))
  if (camel) v |= CODE_TOKENS
  if (dot) v |= table.get(mix(h, EXT))
  return v
}

/** A single-letter option after a dash: `-o eth0`, `-A`. */
function isFlag(text: string, at: number): boolean {
  const c = text.charCodeAt(at)
  return (
    ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) &&
    (isSpace(text.charCodeAt(at + 1)) || at + 1 >= text.length)
  )
}

function cjkHash1(c: number): number {
  return fnv(CJK, c)
}
