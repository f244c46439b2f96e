import type { LimitSet } from '../config/schema.js'
import type { Clock } from '../core/clock.js'
import { GatewayError } from '../core/errors.js'
import { type LimitRules, type ScopeRules, scopeRules } from '../limits/limiter.js'
import type { Principal } from '../pipeline/auth.js'
import type { Logger } from '../telemetry/logger.js'
import type { BudgetStore } from './budgets.js'
import { hashKey, newId, type Sha256Hex } from './keys.js'
import { LedgerWriter, type LedgerWriterOptions } from './ledger.js'
import type { Policy } from './policy.js'
import type { SecretBox } from './secrets.js'
import {
  bareProject,
  buildState,
  type GovernanceState,
  type KeyState,
  type ProjectState,
  type ProviderWithKey,
} from './state.js'
import type { AuditEvent, GovernanceStore } from './store.js'

/**
 * What an edge's key replica holds per key: enough to authenticate there, apply the project's policy and the
 * key's and project's rate limits. Never the key itself.
 */
export interface ReplicaKey {
  hash: string
  keyId: string
  project: string
  expiresAt: number | null
  revokedAt: number | null
  models: string[] | null
  policy: Policy
  limits: LimitSet | null
  projectLimits: LimitSet | null
}

/** A key's replica entry. */
export function replicaKeyOf(k: KeyState): ReplicaKey {
  const project = k.principal.account!.project
  return {
    hash: k.record.hash,
    keyId: k.record.id,
    project: k.record.projectId,
    expiresAt: k.record.expiresAt,
    revokedAt: k.record.revokedAt,
    models: k.record.models,
    policy: project.policy.source,
    limits: k.limits,
    projectLimits: project.limits,
  }
}

/** Where key changes are pushed (the edge's KV). Best effort: the edge reads through to the origin on a miss. */
export interface KeyReplica {
  push(changes: { put: ReplicaKey[]; remove: string[] }): Promise<void>
}

export interface GovernanceOptions {
  store: GovernanceStore
  budgets: BudgetStore
  clock: Clock
  logger: Logger
  /** A synchronous SHA-256 where the runtime has one; Web Crypto's otherwise. */
  sha256?: Sha256Hex
  /** Counts a text's tokens: a real tokenizer on Node; without one, about four characters a token. */
  countTokens?: (text: string) => number
  /** Opens projects' provider keys (from MERIDIAN_ENCRYPTION_KEY); without it they cannot be used. */
  box?: SecretBox
  providerWithKey: ProviderWithKey
  /** How often every instance checks whether governance data changed (ms). */
  refreshMs?: number
  /** Reservations older than this are settled at their full amount (an instance died mid-request). */
  reservationTtlMs?: number
  replica?: KeyReplica
  ledger?: Partial<Omit<LedgerWriterOptions, 'logger'>>
}

/** An unknown key triggers a version check at most this often: a flood of bad keys costs one query per window. */
const RECHECK_MS = 50
const EXPIRE_EVERY_MS = 60_000

/**
 * Governance at run time: the database's projects, keys, budgets and provider keys held in memory for the hot
 * path (reloaded when any instance changes them), key resolution, the ledger writer and the budget store.
 * The request stages that use it are in `pipeline/govern.ts`.
 */
export class Governance {
  readonly store: GovernanceStore
  readonly budgets: BudgetStore
  readonly ledger: LedgerWriter
  readonly box: SecretBox | undefined
  readonly clock: Clock
  readonly logger: Logger
  readonly countTokens: (text: string) => number
  #state: GovernanceState = {
    version: -1,
    keysByHash: new Map(),
    keysById: new Map(),
    projects: new Map(),
  }
  readonly #options: GovernanceOptions
  #checking: Promise<void> | undefined
  #checkedAt = Number.NEGATIVE_INFINITY
  #timers: ReturnType<typeof setInterval>[] = []
  #rules: { version: number; rules: LimitRules } | undefined
  /** Projects without a record, made once (every request of the default project without auth asks). */
  #bare = new Map<string, ProjectState>()

  constructor(options: GovernanceOptions) {
    this.#options = options
    this.store = options.store
    this.budgets = options.budgets
    this.box = options.box
    this.clock = options.clock
    this.logger = options.logger
    this.countTokens = options.countTokens ?? ((text) => Math.ceil(text.length / 4))
    this.ledger = new LedgerWriter({ store: options.store, logger: options.logger, ...options.ledger })
  }

  get state(): GovernanceState {
    return this.#state
  }

  /** Loads the first snapshot and starts polling for changes; call once before serving. */
  async start(): Promise<void> {
    await this.reload()
    const refreshMs = this.#options.refreshMs ?? 1000
    this.#timers.push(
      setInterval(
        () => void this.check().catch((err) => this.#warn('governance refresh failed', err)),
        refreshMs,
      ),
      setInterval(() => void this.#expire(), EXPIRE_EVERY_MS),
    )
  }

  /** Reloads if the version moved (another instance, or an admin write here). */
  check(): Promise<void> {
    if (this.#checking !== undefined) return this.#checking
    this.#checkedAt = this.clock.now()
    this.#checking = (async () => {
      try {
        const version = await this.store.version()
        if (version !== this.#state.version) await this.reload()
      } finally {
        this.#checking = undefined
      }
    })()
    return this.#checking
  }

  /** Loads the snapshot now and swaps it in; pushes key changes to the replica. */
  async reload(): Promise<void> {
    const snapshot = await this.store.snapshot()
    const next = await buildState(snapshot, {
      box: this.box,
      providerWithKey: this.#options.providerWithKey,
      onUnreadable: (project, provider, reason) =>
        this.logger.error(
          'a project provider key cannot be used; its requests to that provider are refused',
          {
            project,
            provider,
            reason,
          },
        ),
    })
    const previous = this.#state
    this.#state = next
    this.#pushReplica(previous, next)
  }

  /**
   * The rate-limit rules of every key and project with limits (config-declared ones included, since the config
   * is upserted into the database), rebuilt only when the state changes.
   */
  limitRules = (): LimitRules => {
    const state = this.#state
    if (this.#rules?.version === state.version) return this.#rules.rules
    const keys = new Map<string, ScopeRules>()
    for (const [id, key] of state.keysById) if (key.limits) keys.set(id, scopeRules(`key:${id}`, key.limits))
    const projects = new Map<string, ScopeRules>()
    for (const [id, project] of state.projects) {
      if (project.limits) projects.set(id, scopeRules(`project:${id}`, project.limits))
    }
    const rules = { keys, projects }
    this.#rules = { version: state.version, rules }
    return rules
  }

  /** The project's state; a bare one (no policy, no budget) for a project without a record. */
  project(id: string): ProjectState {
    const found = this.#state.projects.get(id)
    if (found !== undefined) return found
    let bare = this.#bare.get(id)
    if (bare === undefined) {
      bare = bareProject(id)
      if (this.#bare.size < 1000) this.#bare.set(id, bare)
    }
    return bare
  }

  /**
   * The gateway key resolver: synchronous for a key in memory (with a sync hash); a revoked or expired key is
   * a 401 that says so; an unknown key is looked for once more after a version check (a key made a moment ago
   * on another instance), throttled so a flood of bad keys costs one cheap query per 50 ms.
   */
  resolveKey = (token: string): Principal | undefined | Promise<Principal | undefined> => {
    const hash = hashKey(token, this.#options.sha256)
    if (typeof hash !== 'string') return hash.then((h) => this.#byHash(h))
    return this.#byHash(hash)
  }

  #byHash(hash: string): Principal | undefined | Promise<Principal | undefined> {
    const key = this.#state.keysByHash.get(hash)
    if (key !== undefined) return this.#usable(key)
    if (this.clock.now() - this.#checkedAt < RECHECK_MS) return undefined
    return this.check().then(
      () => {
        const found = this.#state.keysByHash.get(hash)
        return found === undefined ? undefined : this.#usable(found)
      },
      () => undefined,
    )
  }

  /** A key by its id (an edge assertion names it): its principal, or a 401 (unknown, revoked, expired). */
  principalById(id: string): Principal {
    const key = this.#state.keysById.get(id)
    if (key === undefined) throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'invalid gateway key')
    return this.#usable(key)
  }

  #usable(key: KeyState): Principal {
    const now = this.clock.epoch()
    const { revokedAt, expiresAt } = key.record
    if (revokedAt !== null && revokedAt <= now) this.#refuseKey(key, 'revoked', revokedAt)
    if (expiresAt !== null && expiresAt <= now) this.#refuseKey(key, 'expired', expiresAt)
    return key.principal
  }

  #refuseKey(key: KeyState, why: 'revoked' | 'expired', at: number): never {
    this.audit({
      actor: 'gateway',
      action: 'request.denied',
      project: key.record.projectId,
      target: key.record.id,
      reason: `key ${why}`,
      details: { at: new Date(at).toISOString() },
    })
    throw new GatewayError(
      'MERIDIAN_UNAUTHORIZED',
      `this gateway key was ${why} on ${new Date(at).toISOString()}`,
    )
  }

  /** Queues an audit event (written with the next ledger batch). */
  audit(event: Omit<AuditEvent, 'id' | 'ts'>): void {
    this.ledger.audit(auditEvent(event, this.clock.epoch()))
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    await this.ledger.close()
  }

  async #expire(): Promise<void> {
    const ttl = this.#options.reservationTtlMs ?? 30 * 60_000
    try {
      const expired = await this.budgets.expire(this.clock.epoch() - ttl)
      if (expired > 0) this.logger.warn('stale budget reservations settled at their full amount', { expired })
    } catch (err) {
      this.#warn('budget reservations could not be expired', err)
    }
  }

  #pushReplica(previous: GovernanceState, next: GovernanceState): void {
    const replica = this.#options.replica
    if (replica === undefined) return
    const put: ReplicaKey[] = []
    const remove: string[] = []
    const entry = replicaKeyOf
    for (const [hash, key] of next.keysByHash) {
      const old = previous.keysByHash.get(hash)
      const now = entry(key)
      if (old === undefined || JSON.stringify(entry(old)) !== JSON.stringify(now)) put.push(now)
    }
    for (const hash of previous.keysByHash.keys()) if (!next.keysByHash.has(hash)) remove.push(hash)
    if (put.length === 0 && remove.length === 0) return
    replica.push({ put, remove }).catch((err) => this.#warn('key replica push failed', err))
  }

  #warn(message: string, err: unknown): void {
    this.logger.warn(message, { error: err instanceof Error ? err.message : String(err) })
  }
}

/** An audit event with its time-ordered id. */
export function auditEvent(event: Omit<AuditEvent, 'id' | 'ts'>, now: number): AuditEvent {
  return { id: `${String(now).padStart(15, '0')}-${newId('a').slice(2)}`, ts: now, ...event }
}
