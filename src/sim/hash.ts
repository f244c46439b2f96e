// Hashing, seeded randomness and token estimates: what makes the simulator's answers deterministic, so the
// same request always yields the same bytes. Pure and runtime-agnostic: no node:*, no Buffer.

import type { JsonObject } from './wire.js'

/** A 64-bit hash as two unsigned 32-bit halves (bigint would be slower on this hot path). */
export interface Hash64 {
  hi: number
  lo: number
}

/**
 * FNV-1a 64 over the string's UTF-16 code units (equal to byte-wise FNV-1a for ASCII).
 *
 * @example fnv1a64('a') // { hi: 0xaf63dc4c, lo: 0x8601ec8c }
 */
export function fnv1a64(text: string): Hash64 {
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0
    // The prime is 2^40 + 0x1b3: multiply each half by 0x1b3, carry the low half's overflow, and add the
    // low half shifted by 40 (that is, by 8 into the high half). Every intermediate stays below 2^53.
    const low = lo * 0x1b3
    hi = (hi * 0x1b3 + Math.floor(low / 0x1_0000_0000) + (lo << 8)) >>> 0
    lo = low >>> 0
  }
  return { hi, lo }
}

/** Eight lowercase hex digits of an unsigned 32-bit value, for ids and fingerprints. */
export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}

/** sfc32: small, fast and good enough to pick words; seeded from a hash and a salt (the choice index). */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: Hash64, salt = 0) {
    this.a = seed.hi
    this.b = seed.lo
    this.c = (salt * 0x9e3779b9) >>> 0
    this.d = 1
    for (let i = 0; i < 12; i++) this.next()
  }

  /** The next unsigned 32-bit value. */
  next(): number {
    let t = (this.a + this.b) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.d = (this.d + 1) | 0
    t = (t + this.d) | 0
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** An integer in [0, n). The modulo bias is irrelevant for n this small. */
  below(n: number): number {
    return this.next() % n
  }

  /** A float in [0, 1). */
  unit(): number {
    return this.next() / 0x1_0000_0000
  }
}

/**
 * The hash that identifies a request's meaning: the body without `stream` and `stream_options`, so a
 * streamed and a non-streamed request get the same answer.
 */
export function requestHash(body: JsonObject, model: string): Hash64 {
  let semantic = body
  if ('stream' in body || 'stream_options' in body) {
    const { stream: _stream, stream_options: _streamOptions, ...rest } = body
    semantic = rest
  }
  return fnv1a64(`${model}\u0000${JSON.stringify(semantic)}`)
}

/** The usual estimate of ~4 characters a token; exact tokenisation is not the point of a simulator. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}
