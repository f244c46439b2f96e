import { GatewayError } from '../core/errors.js'
import type { ReplicaKey } from '../governance/governance.js'
import { sha256Hex } from '../governance/keys.js'
import { type CompiledPolicy, compilePolicy, modelMatcher } from '../governance/policy.js'

/** The edge's key replica (KV): entries the origin pushed, and answers it read through and cached. */
export interface KeyReplicaStore {
  /** The entry, `absent` for a key known not to exist (cached briefly), undefined when the replica has no word. */
  get(hash: string): Promise<ReplicaKey | 'absent' | undefined>
  put(hash: string, value: ReplicaKey | 'absent'): Promise<void>
}

/** A key the edge accepted, with what checking it against policy needs, compiled once. */
export interface EdgeKey {
  entry: ReplicaKey
  policy: CompiledPolicy
  models: ((model: string) => boolean) | undefined
}

export interface EdgeKeysOptions {
  replica: KeyReplicaStore
  /** The origin's answer for a hash (`/internal/keys/{hash}`): undefined when it does not know the key. */
  lookup(hash: string): Promise<ReplicaKey | undefined>
  now(): number
  /** How long an isolate trusts what it read before reading the replica again (default 10 s). */
  memoryMs?: number
}

type Known = { key: EdgeKey; until: number } | { absent: true; until: number }

/** An isolate remembers this many answers at most (oldest first out). */
const MEMORY_ENTRIES = 10_000

/**
 * Authenticates at the edge: a key's SHA-256 → this isolate's memory → the KV replica the origin writes → the
 * origin itself (read through, and the answer written back to KV, a "no such key" too, briefly). A bad key
 * is refused here; only its first sight costs an origin lookup, after which every PoP's KV remembers it.
 */
export class EdgeKeys {
  readonly #memory = new Map<string, Known>()
  readonly #options: EdgeKeysOptions

  constructor(options: EdgeKeysOptions) {
    this.#options = options
  }

  /**
   * The key for a presented token, or a 401 (unknown, revoked, expired). `background` receives writes back to
   * the replica. An origin that cannot be asked about a key the replica does not know is a 503.
   */
  async resolve(token: string, background: (work: Promise<unknown>) => void): Promise<EdgeKey> {
    const hash = await sha256Hex(token)
    const now = this.#options.now()
    let known = this.#memory.get(hash)
    if (known === undefined || known.until <= now) {
      known = await this.#read(hash, now, background)
      if (this.#memory.size >= MEMORY_ENTRIES) this.#memory.delete(this.#memory.keys().next().value!)
      this.#memory.set(hash, known)
    }
    if ('absent' in known) throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'invalid gateway key')
    const { revokedAt, expiresAt } = known.key.entry
    const at = this.#options.now()
    if (revokedAt !== null && revokedAt <= at) {
      throw new GatewayError(
        'MERIDIAN_UNAUTHORIZED',
        `this gateway key was revoked on ${new Date(revokedAt).toISOString()}`,
      )
    }
    if (expiresAt !== null && expiresAt <= at) {
      throw new GatewayError(
        'MERIDIAN_UNAUTHORIZED',
        `this gateway key expired on ${new Date(expiresAt).toISOString()}`,
      )
    }
    return known.key
  }

  async #read(hash: string, now: number, background: (work: Promise<unknown>) => void): Promise<Known> {
    const until = now + (this.#options.memoryMs ?? 10_000)
    let found = await this.#options.replica.get(hash).catch(() => undefined)
    if (found === undefined) {
      let answer: ReplicaKey | undefined
      try {
        answer = await this.#options.lookup(hash)
      } catch {
        throw new GatewayError(
          'MERIDIAN_NOT_READY',
          'the gateway key cannot be checked right now; retry shortly',
          {
            headers: { 'retry-after': '1' },
          },
        )
      }
      found = answer ?? 'absent'
      background(this.#options.replica.put(hash, found).catch(() => {}))
    }
    return found === 'absent' ? { absent: true, until } : { key: edgeKey(found), until }
  }
}

function edgeKey(entry: ReplicaKey): EdgeKey {
  return {
    entry,
    policy: compilePolicy(entry.policy),
    models: entry.models === null ? undefined : modelMatcher(entry.models),
  }
}
