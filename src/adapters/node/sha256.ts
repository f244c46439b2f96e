import { createHash } from 'node:crypto'

/** node:crypto's synchronous SHA-256, hex: the cache key's and the gateway keys' hash on Node. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex')
