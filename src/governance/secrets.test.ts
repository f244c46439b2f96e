import { describe, expect, it } from 'vitest'
import { parseEncryptionKey, secretBox } from './secrets.js'

const HEX = 'a'.repeat(64)

describe('secretBox', () => {
  it('seals and opens, with a fresh iv each time', async () => {
    const box = await secretBox(parseEncryptionKey(HEX))
    const a = await box.seal('sk-project-secret-1234')
    const b = await box.seal('sk-project-secret-1234')
    expect(a).not.toBe(b)
    expect(a).not.toContain('sk-project')
    expect(await box.open(a)).toBe('sk-project-secret-1234')
  })

  it('refuses to open with another key, or a tampered box', async () => {
    const sealed = await (await secretBox(parseEncryptionKey(HEX))).seal('secret')
    const other = await secretBox(parseEncryptionKey('b'.repeat(64)))
    await expect(other.open(sealed)).rejects.toThrow()
    const bytes = atob(sealed)
    const flipped = btoa(bytes.slice(0, -1) + String.fromCharCode(bytes.charCodeAt(bytes.length - 1) ^ 1))
    await expect((await secretBox(parseEncryptionKey(HEX))).open(flipped)).rejects.toThrow()
  })

  it('takes 32 bytes as hex or base64, and says what is wrong otherwise', () => {
    expect(parseEncryptionKey(HEX)).toHaveLength(32)
    expect(parseEncryptionKey(btoa('x'.repeat(32)))).toHaveLength(32)
    expect(() => parseEncryptionKey('abcd')).toThrow(/32 bytes/)
    expect(() => parseEncryptionKey('not base64 at all!!')).toThrow(/32 bytes/)
  })
})
