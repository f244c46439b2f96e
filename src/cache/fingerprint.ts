/**
 * The exact-response cache key. Two requests share a key exactly when their canonical forms are equal; the
 * rules live in docs/cache-key.md and test/fixtures/cache-key-vectors.json pins them byte for byte, so the
 * Workers tier and the origin always agree. Runtime-agnostic: Web Crypto only, no node:*.
 *
 * Cost (Node 20, shared 2-vCPU AMD EPYC, best of 15 runs; a throwaway tsx script, not in bench/): for a 0.8 kB
 * chat request (system + user message, one tool with a JSON schema, six parameters) canonicalForm takes ≈ 7 µs
 * (JSON.stringify of the same body ≈ 2.5 µs) and fingerprint 30 to 60 µs. The digest dominates: Node runs
 * crypto.subtle.digest on its thread pool (≈ 25 to 70 µs per call here, against ≈ 4 µs for node:crypto's
 * synchronous hash). For a 33 kB, 60-message conversation: ≈ 90 µs and ≈ 160 µs.
 */

/** Bump when any rule below changes: the old keys then simply stop matching (no wrong hits, only misses). */
export const FINGERPRINT_VERSION = 1

/** The per-project key generation the origin and the edge both key with (one until something can bump it). */
export const CACHE_KEY_VERSION = 1

/** What the key is computed from. */
export interface FingerprintInput {
  /** Tenant: the project id. Always part of the key, so no entry is ever shared across projects. */
  project: string
  /**
   * A per-project cache generation ("key version"): bumping it invalidates every entry of the project.
   * Default 1 by the caller.
   */
  keyVersion: number
  /** The resolved model name the client asked for (after alias resolution). */
  model: string
  /**
   * The target group that will answer: list of `provider/model` labels in order,
   * e.g. ['openai/gpt-4o-mini'].
   */
  targets: readonly string[]
  /** The operation: 'chat' (later maybe 'embeddings'). */
  op: 'chat' | 'embeddings'
  /** The client's request body as parsed JSON (the object, not text). */
  body: Record<string, unknown>
}

/**
 * Top-level body fields left out of the key. None of them changes what the model answers; each one's reason
 * is in docs/cache-key.md. Everything else is in, known or not, so a new OpenAI parameter can only cost a
 * miss, never cause a wrong hit.
 */
const IGNORED: ReadonlySet<string> = new Set([
  'model',
  'stream',
  'stream_options',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'service_tier',
  'prompt_cache_key',
])

const PREFIX = `v${FINGERPRINT_VERSION}:`
const HEADER = `meridian-cache/v${FINGERPRINT_VERSION}\nop=`
const ENCODER = new TextEncoder()
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * The canonical text the key hashes. Pure, synchronous; never throws for a JSON value, however deep.
 *
 * @example
 * canonicalForm({ op: 'chat', project: 'p', keyVersion: 1, model: 'm', targets: ['openai/m'],
 *   body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true } })
 * // 'meridian-cache/v1\nop="chat"\nproject="p"\nkv=1\nmodel="m"\ntargets=["openai/m"]\n' +
 * // 'body={"messages":[{"content":"hi","role":"user"}]}'
 */
export function canonicalForm(input: FingerprintInput): string {
  return (
    HEADER +
    JSON.stringify(input.op) +
    '\nproject=' +
    JSON.stringify(input.project) +
    '\nkv=' +
    writeValue(input.keyVersion) +
    '\nmodel=' +
    JSON.stringify(input.model) +
    '\ntargets=' +
    writeValue(input.targets) +
    '\nbody=' +
    writeBody(input.body)
  )
}

/**
 * The key: `v1:` + lowercase hex SHA-256 (Web Crypto) of the UTF-8 canonical form.
 *
 * @example await fingerprint(input) // for canonicalForm's example: 'v1:5107a0fe005860e96e127a21…' (67 chars)
 */
export async function fingerprint(input: FingerprintInput): Promise<string> {
  return (await fingerprintWithCanonical(input)).key
}

/** Same, returning both (for debugging/x-meridian-cache-key). */
export async function fingerprintWithCanonical(
  input: FingerprintInput,
): Promise<{ key: string; canonical: string }> {
  const canonical = canonicalForm(input)
  return { key: keyOf(await webCryptoSha256Hex(canonical)), canonical }
}

/** SHA-256 of a text's UTF-8 bytes as lowercase hex; a runtime may supply a synchronous one (node:crypto). */
export type Sha256Hex = (text: string) => string | Promise<string>

/** The portable SHA-256: Web Crypto, on Node and Workers alike. */
export async function webCryptoSha256Hex(text: string): Promise<string> {
  // Every string went through JSON.stringify, which escapes lone surrogates, so the text is well-formed
  // UTF-16 and TextEncoder never substitutes U+FFFD (two different texts cannot encode to the same bytes).
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', ENCODER.encode(text)))
  let hex = ''
  for (const byte of digest) hex += HEX[byte]
  return hex
}

/** The key for a canonical form's SHA-256 hex digest. */
export function keyOf(hex: string): string {
  return PREFIX + hex
}

/** The top level is the only place with rules beyond plain canonical JSON: the deny-list, nulls and `stop`. */
function writeBody(body: Record<string, unknown>): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return writeValue(body)
  const keys: string[] = []
  const values: unknown[] = []
  for (const key of Object.keys(body).sort()) {
    const value = body[key]
    // OpenAI reads an explicit top-level null as "use the default", the same as leaving the field out.
    if (IGNORED.has(key) || value === null || omitted(value)) continue
    keys.push(key)
    values.push(key === 'stop' && typeof value === 'string' ? [value] : value)
  }
  return drain('{', [{ values, keys, container: body, index: 0 }], new Set([body]))
}

/** An open array or object whose members are being written. */
interface Frame {
  /** The array, or the object's values in sorted-key order (members holding undefined already dropped). */
  readonly values: unknown[]
  /** The object's keys, sorted and matching `values`; undefined for an array. */
  readonly keys: string[] | undefined
  readonly container: object
  index: number
}

/** Canonical JSON (RFC 8785 style) of any value. */
function writeValue(root: unknown): string {
  if (typeof root !== 'object' || root === null) return writeScalar(root)
  const stack: Frame[] = []
  const open = new Set<object>()
  return drain(enter(root, stack, open), stack, open)
}

/**
 * Writes the open containers on the stack to the end. An explicit stack instead of recursion, so a body
 * nested 100,000 deep is a long string, not a stack overflow. `open` holds the containers on the stack:
 * parsed JSON has no cycles, but a caller's object might, and throwing beats looping until out of memory.
 */
function drain(out: string, stack: Frame[], open: Set<object>): string {
  for (;;) {
    const top = stack[stack.length - 1]
    if (top === undefined) return out
    const { values, keys, index } = top
    if (index === values.length) {
      out += keys === undefined ? ']' : '}'
      open.delete(top.container)
      stack.pop()
      continue
    }
    top.index = index + 1
    if (index > 0) out += ','
    if (keys !== undefined) out += JSON.stringify(keys[index]) + ':'
    const value = values[index]
    out += typeof value === 'object' && value !== null ? enter(value, stack, open) : writeScalar(value)
  }
}

/** Pushes a frame for an array or object and returns its opening bracket. */
function enter(container: object, stack: Frame[], open: Set<object>): string {
  if (open.has(container)) throw new TypeError('canonicalForm: the body contains a cycle')
  open.add(container)
  if (Array.isArray(container)) {
    stack.push({ values: container, keys: undefined, container, index: 0 })
    return '['
  }
  const object = container as Record<string, unknown>
  const all = Object.keys(object).sort()
  const keys: string[] = []
  const values: unknown[] = []
  for (const key of all) {
    const value = object[key]
    if (omitted(value)) continue
    keys.push(key)
    values.push(value)
  }
  stack.push({ values, keys, container, index: 0 })
  return '{'
}

/** Values JSON cannot hold in an object member; JSON.stringify drops such members, and so do we. */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol'
}

function writeScalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // ECMAScript Number::toString is RFC 8785's number form: shortest round trip, and -0 prints as 0.
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return value.toString()
    default:
      // null, and (inside an array, as JSON.stringify does) undefined, functions and symbols.
      return 'null'
  }
}
