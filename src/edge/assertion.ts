import { fromBase64, toBase64 } from '../governance/secrets.js'

/**
 * The edge assertion: what the edge already checked about a request it forwards (whose key, which project,
 * rate limits applied), signed with HMAC-SHA256 under the secret the edge and the origin share (EDGE_SECRET),
 * so the origin trusts it instead of authenticating and limiting again. It holds no key, only the key's id.
 */
export const ASSERTION_HEADER = 'x-meridian-edge-assertion'

/** How old an assertion may be when the origin reads it (clock skew and the edge→origin trip included). */
export const ASSERTION_MAX_AGE_MS = 60_000

export interface EdgeAssertion {
  /** The gateway key's id. */
  key: string
  project: string
  /** The request's id, as the client sees it. */
  request: string
  /** Epoch ms when the edge signed it. */
  at: number
  /** The edge applied the key's and project's rate limits: the origin does not count the request again. */
  limited: boolean
}

const encoder = new TextEncoder()

/** The HMAC key for `secret` (import once, sign and verify many times). */
export function assertionKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ])
}

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

function fromBase64url(text: string): Uint8Array {
  const padded = text.replaceAll('-', '+').replaceAll('_', '/')
  return fromBase64(padded + '='.repeat((4 - (padded.length % 4)) % 4))
}

/** `<payload>.<signature>`, both base64url. */
export async function signAssertion(key: CryptoKey, assertion: EdgeAssertion): Promise<string> {
  const payload = base64url(encoder.encode(JSON.stringify(assertion)))
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(payload)))
  return `${payload}.${base64url(signature)}`
}

/**
 * The assertion in `header` if its signature holds and it is fresh; undefined otherwise (a forged, altered,
 * stale or malformed assertion is no assertion).
 */
export async function verifyAssertion(
  key: CryptoKey,
  header: string,
  now: number,
): Promise<EdgeAssertion | undefined> {
  const dot = header.indexOf('.')
  if (dot <= 0) return undefined
  const payload = header.slice(0, dot)
  let signature: Uint8Array
  let assertion: EdgeAssertion
  try {
    signature = fromBase64url(header.slice(dot + 1))
    if (!(await crypto.subtle.verify('HMAC', key, signature as BufferSource, encoder.encode(payload))))
      return undefined
    assertion = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as EdgeAssertion
  } catch {
    return undefined
  }
  if (typeof assertion.at !== 'number' || Math.abs(now - assertion.at) > ASSERTION_MAX_AGE_MS)
    return undefined
  if (typeof assertion.key !== 'string' || typeof assertion.project !== 'string') return undefined
  return assertion
}

/** The header the edge and the origin authenticate their internal routes with (the shared secret itself). */
export const SECRET_HEADER = 'x-meridian-edge-secret'
