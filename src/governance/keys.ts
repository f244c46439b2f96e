/**
 * Gateway API keys: made from 32 random bytes, shown once, kept only as their SHA-256 and a short prefix.
 * Web Crypto only, so the edge hashes a presented key the same way the origin stored it.
 */

import { webCryptoSha256Hex } from '../cache/fingerprint.js'

/** A synchronous SHA-256 (hex) where the runtime has one (node:crypto); Web Crypto's is async. */
export type Sha256Hex = (text: string) => string

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const KEY_PREFIX = 'mk-'
/** How much of a key is kept to tell keys apart in listings: `mk-` and six characters. */
const SHOWN = KEY_PREFIX.length + 6

/** `length` characters of base62, uniformly (rejection sampling: 62 does not divide 256). */
export function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2))
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62]
    }
  }
  return out
}

/** A new gateway key, `mk-` and 43 base62 characters (256 bits), and the id it is known by. */
export function newKey(): { id: string; key: string; prefix: string } {
  const key = KEY_PREFIX + randomBase62(43)
  return { id: `key_${randomBase62(16)}`, key, prefix: key.slice(0, SHOWN) }
}

/** The part of a key shown in listings and logs. */
export function keyPrefix(key: string): string {
  return key.slice(0, Math.min(SHOWN, Math.max(3, key.length - 4)))
}

/** SHA-256 of a key, hex, with Web Crypto (the cache key's own). */
export const sha256Hex = webCryptoSha256Hex

/** The hash a key is stored and looked up by: synchronous when the runtime gives a sync hash. */
export function hashKey(key: string, sync: Sha256Hex | undefined): string | Promise<string> {
  return sync === undefined ? sha256Hex(key) : sync(key)
}

/** A new id for anything else (`prefix_` and 16 base62 characters). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(16)}`
}
