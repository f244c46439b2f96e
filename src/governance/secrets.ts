/**
 * Provider keys a project brings are stored encrypted with AES-256-GCM (Web Crypto). The encryption key comes
 * from the environment (`MERIDIAN_ENCRYPTION_KEY`: 32 bytes as 64 hex characters or base64), never from the
 * database, so a stolen database holds no usable provider key.
 */

const IV_BYTES = 12

/** A sealed secret's form in the database: base64 of iv ‖ ciphertext ‖ tag. */
export interface SecretBox {
  seal(plaintext: string): Promise<string>
  open(sealed: string): Promise<string>
}

/** The 32 bytes of an encryption key given as 64 hex characters or as base64; throws naming what is wrong. */
export function parseEncryptionKey(text: string): Uint8Array {
  const trimmed = text.trim()
  let bytes: Uint8Array
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    bytes = new Uint8Array(32)
    for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(trimmed.slice(i * 2, i * 2 + 2), 16)
  } else {
    try {
      bytes = fromBase64(trimmed)
    } catch {
      throw new Error('MERIDIAN_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64')
    }
  }
  if (bytes.length !== 32) {
    throw new Error(`MERIDIAN_ENCRYPTION_KEY must be 32 bytes (it is ${bytes.length}): openssl rand -hex 32`)
  }
  return bytes
}

/** Seals and opens with one AES-256-GCM key. */
export async function secretBox(raw: Uint8Array): Promise<SecretBox> {
  const key = await crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ])
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  return {
    async seal(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, encoder.encode(plaintext)),
      )
      const out = new Uint8Array(IV_BYTES + sealed.length)
      out.set(iv)
      out.set(sealed, IV_BYTES)
      return toBase64(out)
    },
    async open(sealed) {
      const bytes = fromBase64(sealed)
      const iv = bytes.slice(0, IV_BYTES)
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, bytes.slice(IV_BYTES))
      return decoder.decode(plain)
    },
  }
}

export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
