import type { Config } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import type { Account } from '../governance/state.js'

/** Who is calling: the project a request is accounted to and the key it used. */
export interface Principal {
  project: string
  /** A name for the key that is safe to log (never the key itself). */
  keyId: string
  /** Governance's view of the key and its project, when governance is on. */
  account?: Account
}

/** Resolves a presented gateway key; a store-backed resolver may answer asynchronously. */
export type KeyResolver = (token: string) => Principal | undefined | Promise<Principal | undefined>

const ANONYMOUS: Principal = { project: 'default', keyId: 'none' }

/** A static key's id: its name, or its place in the config (give keys names to keep ids stable). */
export function keyIdOf(key: Config['keys'][number], index: number): string {
  return key.name ?? `static-${index}`
}

/** Static keys from the config. With none configured, auth is off and every request is the default project. */
export function staticKeys(keys: Config['keys']): KeyResolver | undefined {
  if (keys.length === 0) return undefined
  const byKey = new Map<string, Principal>()
  keys.forEach((k, i) => {
    byKey.set(k.key, { project: k.project, keyId: keyIdOf(k, i) })
  })
  return (token) => byKey.get(token)
}

/** The bearer token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(headers: Headers): string | undefined {
  const value = headers.get('authorization')
  if (value === null || value.length < 8 || value.slice(0, 7).toLowerCase() !== 'bearer ') return undefined
  const token = value.slice(7).trim()
  return token === '' ? undefined : token
}

/**
 * Checks the caller's gateway key. Returns synchronously when the resolver does (static keys),
 * so the common path allocates no promise.
 */
export function authenticate(
  resolve: KeyResolver | undefined,
  headers: Headers,
): Principal | Promise<Principal> {
  if (resolve === undefined) return ANONYMOUS
  // Anthropic's clients send their key in x-api-key; everyone else as a bearer token.
  const token = bearerToken(headers) ?? (headers.get('x-api-key')?.trim() || undefined)
  if (token === undefined) {
    throw new GatewayError(
      'MERIDIAN_UNAUTHORIZED',
      'missing gateway key: send it as "Authorization: Bearer <key>" (or in x-api-key)',
    )
  }
  const found = resolve(token)
  if (found instanceof Promise) return found.then(orReject)
  return orReject(found)
}

function orReject(found: Principal | undefined): Principal {
  if (found === undefined) throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'invalid gateway key')
  return found
}
