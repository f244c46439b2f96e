import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  canonicalForm,
  FINGERPRINT_VERSION,
  type FingerprintInput,
  fingerprint,
  fingerprintWithCanonical,
} from './fingerprint.js'

type Body = Record<string, unknown>

const input = (body: Body, header: Partial<FingerprintInput> = {}): FingerprintInput => ({
  op: 'chat',
  project: 'proj_a',
  keyVersion: 1,
  model: 'gpt-4o-mini',
  targets: ['openai/gpt-4o-mini'],
  body,
  ...header,
})
const key = (body: Body, header?: Partial<FingerprintInput>) => fingerprint(input(body, header))
const bodyOf = (canonical: string) => canonical.slice(canonical.indexOf('\nbody=') + 6)
const hello = (extra: Body = {}): Body => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
})
/** SHA-256 by another implementation than the one under test (node:crypto instead of Web Crypto). */
const sha256 = (text: string) => 'v1:' + createHash('sha256').update(text, 'utf8').digest('hex')

describe('the key', () => {
  it('is v1: and 64 lowercase hex digits: the SHA-256 of the UTF-8 canonical form', async () => {
    const { key, canonical } = await fingerprintWithCanonical(input(hello()))
    expect(FINGERPRINT_VERSION).toBe(1)
    expect(key).toMatch(/^v1:[0-9a-f]{64}$/)
    expect(key).toBe(sha256(canonical))
    expect(canonical).toBe(canonicalForm(input(hello())))
    expect(await fingerprint(input(hello()))).toBe(key)
  })

  it('is what the doc comment and docs/cache-key.md show for their example', async () => {
    const example = input(
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { project: 'p', model: 'm', targets: ['openai/m'] },
    )
    expect(canonicalForm(example)).toBe(
      'meridian-cache/v1\nop="chat"\nproject="p"\nkv=1\nmodel="m"\ntargets=["openai/m"]\n' +
        'body={"messages":[{"content":"hi","role":"user"}]}',
    )
    expect(await fingerprint(example)).toBe(
      'v1:5107a0fe005860e96e127a218798c6063fcdfa8d65e78f96d60b6e28979b7882',
    )
  })
})

/** A copy of `value` whose objects at `depth` (counting objects only) list their keys in reverse. */
function reverseKeysAt(value: unknown, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reverseKeysAt(v, depth))
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value)
  if (depth === 0) entries.reverse()
  return Object.fromEntries(entries.map(([k, v]) => [k, reverseKeysAt(v, depth - 1)]))
}

describe('order', () => {
  const deep: Body = {
    model: 'gpt-4o-mini',
    temperature: 0.5,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Hi', cache: { kind: 'ephemeral', ttl: 5 } }] },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'answer',
        schema: {
          type: 'object',
          properties: { b: { type: 'string', maxLength: 9 }, a: { type: 'number' } },
        },
      },
    },
  }

  it('of object keys does not matter, at every depth', async () => {
    const want = await key(deep)
    for (let depth = 0; depth <= 5; depth++) {
      const reordered = reverseKeysAt(deep, depth) as Body
      // The reordering really happened at this depth, or the assertion below would prove nothing.
      expect(JSON.stringify(reordered), `depth ${depth}`).not.toBe(JSON.stringify(deep))
      expect(await key(reordered), `depth ${depth}`).toBe(want)
    }
  })

  it('of array elements matters: messages, nested arrays, stop sequences, targets', async () => {
    const system = { role: 'system', content: 'Be brief.' }
    const user = { role: 'user', content: 'Hello' }
    expect(await key({ messages: [system, user] })).not.toBe(await key({ messages: [user, system] }))
    expect(await key({ x_schema: { required: ['a', 'b'] } })).not.toBe(
      await key({ x_schema: { required: ['b', 'a'] } }),
    )
    expect(await key(hello({ stop: ['a', 'b'] }))).not.toBe(await key(hello({ stop: ['b', 'a'] })))
    expect(await key(hello(), { targets: ['a/x', 'b/y'] })).not.toBe(
      await key(hello(), { targets: ['b/y', 'a/x'] }),
    )
  })

  it('sorts keys by UTF-16 code units, not by code points or numeric value', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+E000; '50256' sorts before '9'.
    const body = JSON.parse('{"x":{"\\ue000":1,"😀":2,"b":3,"B":4,"":5},"logit_bias":{"9":1,"50256":-100}}')
    expect(bodyOf(canonicalForm(input(body)))).toBe(
      '{"logit_bias":{"50256":-100,"9":1},"x":{"":5,"B":4,"b":3,"😀":2,"\ue000":1}}',
    )
  })
})

describe('numbers', () => {
  const parsed = (temperature: string) =>
    JSON.parse(`{"messages":[],"temperature":${temperature},"x":[${temperature}]}`)

  it('are compared as values: 1, 1.0, 1e0 and 10E-1; 100, 1e2 and 100.0; 0, -0 and -0.0', async () => {
    for (const group of [
      ['1', '1.0', '1e0', '10E-1', '1.000'],
      ['100', '1e2', '1E+2', '100.0'],
      ['0', '-0', '-0.0', '0e5'],
    ]) {
      const keys = await Promise.all(group.map((text) => key(parsed(text))))
      expect(new Set(keys).size, group.join(' ')).toBe(1)
      expect(bodyOf(canonicalForm(input(parsed(group[1]!))))).toBe(
        `{"messages":[],"temperature":${group[0]},"x":[${group[0]}]}`,
      )
    }
  })

  it('that differ stay distinct: 0.1+0.2 vs 0.3, 1 vs the next double, 0 vs 5e-324', async () => {
    for (const [a, b] of [
      ['0.30000000000000004', '0.3'],
      ['1', '1.0000000000000002'],
      ['0', '5e-324'],
      ['1e21', '1e20'],
    ] as const) {
      expect(await key(parsed(a)), `${a} vs ${b}`).not.toBe(await key(parsed(b)))
    }
    expect(0.1 + 0.2).not.toBe(0.3)
    expect(await key({ temperature: 0.1 + 0.2 })).toBe(
      await key(JSON.parse('{"temperature":0.30000000000000004}')),
    )
  })

  it('use ECMAScript Number::toString forms', () => {
    const canonical = canonicalForm(input({ x: [1e21, 1e20, 1e-7, 1e-6, 1.5e300, -2.5, 5e-324] }))
    expect(bodyOf(canonical)).toBe('{"x":[1e+21,100000000000000000000,1e-7,0.000001,1.5e+300,-2.5,5e-324]}')
  })
})

describe('ignored fields', () => {
  const ignored: Array<[string, unknown]> = [
    ['model', 'gpt-4o'],
    ['stream', true],
    ['stream_options', { include_usage: true }],
    ['user', 'end-user-42'],
    ['safety_identifier', 'hash-42'],
    ['metadata', { team: 'search' }],
    ['store', true],
    ['service_tier', 'flex'],
    ['prompt_cache_key', 'pck-1'],
  ]

  it.each(ignored)('%s does not change the key', async (field, value) => {
    expect(await key(hello({ [field]: value }))).toBe(await key(hello()))
  })

  it('are ignored only at the top level', async () => {
    for (const [field, value] of ignored) {
      const nested = { messages: [{ role: 'user', content: 'Hello', [field]: value }] }
      expect(await key(nested), field).not.toBe(await key({ messages: [{ role: 'user', content: 'Hello' }] }))
    }
  })

  it('a top-level null is the same as absent; a nested null is kept', async () => {
    for (const field of ['temperature', 'tools', 'stop', 'response_format', 'x_new_param']) {
      expect(await key(hello({ [field]: null })), field).toBe(await key(hello()))
    }
    const withNull = { messages: [{ role: 'assistant', content: null, tool_calls: [] }] }
    const without = { messages: [{ role: 'assistant', tool_calls: [] }] }
    expect(await key(withNull)).not.toBe(await key(without))
    expect(await key({ x: [null] })).not.toBe(await key({ x: [] }))
  })
})

describe('included fields', () => {
  const included: Array<[string, unknown, unknown]> = [
    ['messages', [{ role: 'user', content: 'Bye' }], [{ role: 'user', content: 'Hi' }]],
    [
      'tools',
      [{ type: 'function', function: { name: 'a' } }],
      [{ type: 'function', function: { name: 'b' } }],
    ],
    ['tool_choice', 'auto', 'required'],
    ['response_format', { type: 'json_object' }, { type: 'text' }],
    ['temperature', 0.2, 0.7],
    ['top_p', 0.9, 0.5],
    ['seed', 1, 2],
    ['stop', ['END'], ['STOP']],
    ['max_tokens', 16, 32],
    ['max_completion_tokens', 16, 32],
    ['n', 2, 3],
    ['logit_bias', { '50256': -100 }, { '50256': 100 }],
    ['presence_penalty', 0.5, -0.5],
    ['frequency_penalty', 0.5, -0.5],
    ['logprobs', true, false],
    ['top_logprobs', 2, 3],
    ['parallel_tool_calls', false, true],
    ['reasoning_effort', 'low', 'high'],
    ['modalities', ['text'], ['text', 'audio']],
    ['audio', { voice: 'alloy', format: 'wav' }, { voice: 'echo', format: 'wav' }],
    ['prediction', { type: 'content', content: 'a' }, { type: 'content', content: 'b' }],
    ['web_search_options', { search_context_size: 'low' }, { search_context_size: 'high' }],
    ['x_new_param', { mode: 'fast' }, { mode: 'slow' }],
  ]

  it.each(included)('%s changes the key, and so does its value', async (field, a, b) => {
    const base = await key(hello())
    const withA = await key(hello({ [field]: a }))
    expect(withA).not.toBe(base)
    expect(await key(hello({ [field]: b }))).not.toBe(withA)
  })

  it('defaults are not folded: temperature 1 is not the same as absent', async () => {
    expect(await key(hello({ temperature: 1 }))).not.toBe(await key(hello()))
    expect(await key(hello({ n: 1 }))).not.toBe(await key(hello()))
  })

  it('a top-level stop string equals the one-element array, and nothing else', async () => {
    expect(await key(hello({ stop: 'END' }))).toBe(await key(hello({ stop: ['END'] })))
    expect(await key(hello({ stop: 'END' }))).not.toBe(await key(hello({ stop: ['END', 'x'] })))
    expect(await key(hello({ stop: [] }))).not.toBe(await key(hello()))
    expect(await key({ x_new_param: { stop: 'END' } })).not.toBe(
      await key({ x_new_param: { stop: ['END'] } }),
    )
  })

  it('content is taken as written: not its one-part array form; no trimming, case or Unicode folding', async () => {
    const content = (c: unknown) => key({ messages: [{ role: 'user', content: c }] })
    expect(await content('Hello')).not.toBe(await content([{ type: 'text', text: 'Hello' }]))
    expect(await content('Hello')).not.toBe(await content(' Hello'))
    expect(await content('Hello')).not.toBe(await content('hello'))
    expect(await content('caf\u00e9')).not.toBe(await content('cafe\u0301'))
  })
})

describe('the header', () => {
  it('binds the project, key version, model, targets and op', async () => {
    const base = await key(hello())
    for (const header of [
      { project: 'proj_b' },
      { keyVersion: 2 },
      { model: 'gpt-4o' },
      { targets: ['azure/gpt-4o-mini'] },
      { targets: ['openai/gpt-4o-mini', 'azure/gpt-4o-mini'] },
      { targets: [] },
      { op: 'embeddings' as const },
    ]) {
      expect(await key(hello(), header), JSON.stringify(header)).not.toBe(base)
    }
  })

  it('cannot be forged by separators in the values', async () => {
    // Two naive headers: raw values with targets joined by commas, and values quoted without escaping.
    const raw = (i: FingerprintInput) =>
      `project=${i.project}\nkv=${i.keyVersion}\nmodel=${i.model}\ntargets=${i.targets.join(',')}`
    const quoted = (i: FingerprintInput) =>
      `project="${i.project}"\nkv=${i.keyVersion}\nmodel="${i.model}"\ntargets=["${i.targets.join('","')}"]`
    const pairs: Array<[typeof raw, Partial<FingerprintInput>, Partial<FingerprintInput>]> = [
      [raw, { project: 'a\nkv=1\nmodel=b', model: 'c' }, { project: 'a', model: 'b\nkv=1\nmodel=c' }],
      [raw, { targets: ['openai/a,openai/b'] }, { targets: ['openai/a', 'openai/b'] }],
      [quoted, { project: 'a"\nkv=1\nmodel="b', model: 'c' }, { project: 'a', model: 'b"\nkv=1\nmodel="c' }],
      [quoted, { targets: ['openai/a","openai/b'] }, { targets: ['openai/a', 'openai/b'] }],
    ]
    for (const [naive, a, b] of pairs) {
      const [ia, ib] = [input(hello(), a), input(hello(), b)]
      expect(naive(ia)).toBe(naive(ib))
      expect(await fingerprint(ia), JSON.stringify(a)).not.toBe(await fingerprint(ib))
    }
  })

  it('reads back: every header value is one JSON text on its own line', () => {
    for (const project of ['a\nb', 'kv=2', '"', '\\', '\u0000', 'équipe', '\ud800', '']) {
      const i = input(hello(), { project, model: `m\n${project}`, targets: [project, 'x/y'] })
      const lines = canonicalForm(i).split('\n')
      expect(lines).toHaveLength(7)
      expect(lines[0]).toBe('meridian-cache/v1')
      expect(JSON.parse(lines[1]!.slice('op='.length))).toBe('chat')
      expect(JSON.parse(lines[2]!.slice('project='.length))).toBe(project)
      expect(JSON.parse(lines[3]!.slice('kv='.length))).toBe(1)
      expect(JSON.parse(lines[4]!.slice('model='.length))).toBe(`m\n${project}`)
      expect(JSON.parse(lines[5]!.slice('targets='.length))).toEqual([project, 'x/y'])
      expect(lines[6]!.startsWith('body={')).toBe(true)
    }
  })
})

interface Vector {
  name: string
  input: FingerprintInput
  canonical: string
  key: string
}

describe('the test vectors (test/fixtures/cache-key-vectors.json)', () => {
  const text = readFileSync(join(import.meta.dirname, '../../test/fixtures/cache-key-vectors.json'), 'utf8')
  // JSON.parse, not an import: a bundler may turn the file into an object literal, where "__proto__" sets
  // the prototype instead of making a key.
  const vectors = JSON.parse(text) as Vector[]

  it('are at least 25, with unique names', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(25)
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length)
  })

  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    expect(canonicalForm(vector.input)).toBe(vector.canonical)
    expect(await fingerprint(vector.input)).toBe(vector.key)
    expect(sha256(vector.canonical)).toBe(vector.key)
  })

  it('share a key exactly where the name says so', () => {
    const byName = new Map(vectors.map((v) => [v.name, v.key]))
    let same = 0
    for (const v of vectors) {
      const other = /\(same key as "(.+)"\)$/.exec(v.name)?.[1]
      if (other === undefined) continue
      same++
      expect(byName.get(other), v.name).toBe(v.key)
    }
    expect(same).toBeGreaterThanOrEqual(5)
    expect(new Set(vectors.map((v) => v.key)).size).toBe(vectors.length - same)
  })
})

describe('any value', () => {
  it('nested 100,000 deep is written, not a stack overflow', () => {
    const depth = 100_000
    const arrays = JSON.parse('['.repeat(depth) + ']'.repeat(depth))
    expect(bodyOf(canonicalForm(input({ x: arrays })))).toBe(
      '{"x":' + '['.repeat(depth) + ']'.repeat(depth) + '}',
    )
    let objects: unknown = 1
    for (let i = 0; i < depth; i++) objects = { a: objects }
    expect(bodyOf(canonicalForm(input({ x: objects })))).toBe(
      '{"x":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}',
    )
  })

  it('lone surrogates are escaped, so distinct ones never collapse into U+FFFD', async () => {
    const canonical = canonicalForm(input({ x: '\ud800|\udfff|\ud83d\ude00' }))
    expect(bodyOf(canonical)).toBe('{"x":"\\ud800|\\udfff|😀"}')
    expect(new TextDecoder().decode(new TextEncoder().encode(canonical))).toBe(canonical)
    expect(await key({ x: '\ud800' })).not.toBe(await key({ x: '\ud801' }))
    expect(await key({ x: '\ud800' })).not.toBe(await key({ x: '\ufffd' }))
  })

  it('"__proto__" from JSON.parse is an ordinary key', async () => {
    const body = JSON.parse('{"__proto__":{"a":1},"x":{"__proto__":[1]}}')
    expect(bodyOf(canonicalForm(input(body)))).toBe('{"__proto__":{"a":1},"x":{"__proto__":[1]}}')
  })

  it('values JSON cannot hold are written as JSON.stringify writes them', async () => {
    expect(await key({ x: { a: 1, b: undefined } })).toBe(await key({ x: { a: 1 } }))
    expect(await key({ x: [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY] })).toBe(
      await key({ x: [null, null, null, null] }),
    )
    expect(await key(hello({ temperature: undefined }))).toBe(await key(hello()))
    expect(bodyOf(canonicalForm(input({ x: 12n })))).toBe('{"x":12}')
  })

  it('a cycle throws a TypeError; the same object twice is fine', () => {
    const shared = { role: 'user', content: 'Hi' }
    expect(bodyOf(canonicalForm(input({ messages: [shared, shared] })))).toBe(
      '{"messages":[{"content":"Hi","role":"user"},{"content":"Hi","role":"user"}]}',
    )
    const cyclic: Body = { a: [] }
    ;(cyclic['a'] as unknown[]).push(cyclic)
    expect(() => canonicalForm(input(cyclic))).toThrow(TypeError)
  })

  it('leaves the input untouched', () => {
    const body = hello({ stop: 'END', stream: true, temperature: null })
    const before = JSON.stringify(body)
    canonicalForm(input(body))
    expect(JSON.stringify(body)).toBe(before)
  })
})

/** mulberry32: a seeded PRNG, so a failing case can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
  return { int, pick }
}

type Rng = ReturnType<typeof prng>
const KEYS = [
  'a',
  'b',
  'B',
  'aa',
  '',
  '9',
  '10',
  'é',
  'e\u0301',
  '😀',
  '\ue000',
  '__proto__',
  'role',
  'stop',
  'x y',
]
const STRINGS = [
  '',
  'Hello',
  'hello ',
  'caf\u00e9',
  'cafe\u0301',
  '😀',
  '\ud800',
  '\n\t"\\',
  '\u0000',
  '中文',
]
const NUMBERS = [0, -0, 1, -1, 0.1, 0.1 + 0.2, 0.3, 1e21, 1e-7, 5e-324, 2 ** 53 + 2, 123.456]

/** Sets a key even when it is "__proto__" (plain assignment would set the prototype). */
function put(object: Body, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

function randomValue(r: Rng, depth: number): unknown {
  switch (r.int(depth >= 4 ? 4 : 6)) {
    case 0:
      return r.pick([null, true, false])
    case 1:
      return r.pick(NUMBERS)
    case 2:
    case 3:
      return r.pick(STRINGS)
    case 4:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1))
    default: {
      const object: Body = {}
      for (let i = r.int(6); i > 0; i--) put(object, r.pick(KEYS), randomValue(r, depth + 1))
      return object
    }
  }
}

/** A deep copy whose objects get their keys inserted in a random order. */
function shuffled(r: Rng, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(r, v))
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value)
  for (let i = entries.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[entries[i], entries[j]] = [entries[j]!, entries[i]!]
  }
  const copy: Body = {}
  for (const [k, v] of entries) put(copy, k, shuffled(r, v))
  return copy
}

describe('property: 300 random bodies (seed 20240611)', () => {
  it('shuffling object keys never changes the key; changing the project always does', async () => {
    const r = prng(20240611)
    let reordered = 0
    for (let i = 0; i < 300; i++) {
      const body: Body = { messages: randomValue(r, 1), x: randomValue(r, 0) }
      for (let n = r.int(4); n > 0; n--) put(body, r.pick(KEYS), randomValue(r, 1))
      const copy = shuffled(r, body) as Body
      if (JSON.stringify(copy) !== JSON.stringify(body)) reordered++
      const project = `p${r.int(1000)}`
      const want = await key(body, { project })
      expect(await key(copy, { project }), `case ${i}`).toBe(want)
      expect(
        await key(body, { project: project + r.pick(['_', '\n', '"', '0', ' ']) }),
        `case ${i}`,
      ).not.toBe(want)
    }
    // Most cases really did reorder something, so the first assertion was tested.
    expect(reordered).toBeGreaterThan(150)
  })
})
