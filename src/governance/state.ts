import type { LimitSet } from '../config/schema.js'
import type { Principal } from '../pipeline/auth.js'
import type { Provider } from '../providers/provider.js'
import type { Budget } from './budgets.js'
import { type CompiledPolicy, compilePolicy, modelMatcher, OPEN_POLICY } from './policy.js'
import type { SecretBox } from './secrets.js'
import type { GovernanceSnapshot, KeyRecord, ProjectRecord } from './store.js'

export interface Account {
  key: KeyState | undefined
  project: ProjectState
}

export interface KeyState {
  record: KeyRecord
  /** The key's own model restriction. */
  models: ((model: string) => boolean) | undefined
  budgets: readonly Budget[]
  limits: LimitSet | null
  /** Reused for every request with this key: auth allocates nothing. */
  principal: Principal
}

export interface ProjectState {
  id: string
  record: ProjectRecord | undefined
  policy: CompiledPolicy
  budgets: readonly Budget[]
  limits: LimitSet | null
  /**
   * Bring your own key: provider id → that provider built with the project's own key. Undefined when the
   * project brought none (it uses the gateway's keys); otherwise its requests reach these providers only.
   */
  providers: ReadonlyMap<string, Provider> | undefined
  logBodies: boolean
}

/** The in-memory form of a snapshot: what the hot path reads, rebuilt whenever the version moves. */
export interface GovernanceState {
  version: number
  keysByHash: ReadonlyMap<string, KeyState>
  keysById: ReadonlyMap<string, KeyState>
  projects: ReadonlyMap<string, ProjectState>
}

/** A provider of the config, rebuilt with another key; undefined for a provider id the config lacks. */
export type ProviderWithKey = (providerId: string, apiKey: string) => Provider | undefined

export interface StateOptions {
  /** Opens sealed provider keys; without it, projects' own keys cannot be used (and a project with some is refused). */
  box: SecretBox | undefined
  providerWithKey: ProviderWithKey
  /** Told about a provider key that could not be opened (a wrong MERIDIAN_ENCRYPTION_KEY). */
  onUnreadable?: (projectId: string, provider: string, reason: string) => void
}

/** A project with no record (no policy, no budget): `default` without auth, or before its record exists. */
export function bareProject(id: string): ProjectState {
  return {
    id,
    record: undefined,
    policy: OPEN_POLICY,
    budgets: [],
    limits: null,
    providers: undefined,
    logBodies: false,
  }
}

/** Builds the hot path's maps from a snapshot; opens every project's sealed provider keys. */
export async function buildState(
  snapshot: GovernanceSnapshot,
  options: StateOptions,
): Promise<GovernanceState> {
  const budgetsOf = new Map<string, Budget[]>()
  for (const b of snapshot.budgets) {
    const key = `${b.scope}:${b.scopeId}`
    const list = budgetsOf.get(key) ?? []
    list.push({
      id: b.id,
      scope: b.scope,
      scopeId: b.scopeId,
      period: b.period,
      limit: b.limit,
      warnAt: b.warnAt,
    })
    budgetsOf.set(key, list)
  }

  const byok = new Map<string, Map<string, Provider>>()
  for (const pk of snapshot.providerKeys) {
    const providers = byok.get(pk.projectId) ?? new Map<string, Provider>()
    byok.set(pk.projectId, providers)
    if (options.box === undefined) {
      options.onUnreadable?.(pk.projectId, pk.provider, 'MERIDIAN_ENCRYPTION_KEY is not set')
      continue
    }
    let apiKey: string
    try {
      apiKey = await options.box.open(pk.ciphertext)
    } catch {
      options.onUnreadable?.(pk.projectId, pk.provider, 'it does not open with MERIDIAN_ENCRYPTION_KEY')
      continue
    }
    const provider = options.providerWithKey(pk.provider, apiKey)
    if (provider === undefined) {
      options.onUnreadable?.(pk.projectId, pk.provider, `provider "${pk.provider}" is not configured`)
      continue
    }
    providers.set(pk.provider, provider)
  }

  const projects = new Map<string, ProjectState>()
  for (const p of snapshot.projects) {
    projects.set(p.id, {
      id: p.id,
      record: p,
      policy: compilePolicy(p.policy),
      budgets: budgetsOf.get(`project:${p.id}`) ?? [],
      limits: p.limits,
      // A project that brought keys is held to them, even if one of them could not be opened.
      providers: byok.get(p.id),
      logBodies: p.logBodies,
    })
  }

  const keysByHash = new Map<string, KeyState>()
  const keysById = new Map<string, KeyState>()
  for (const k of snapshot.keys) {
    const project = projects.get(k.projectId) ?? bareProject(k.projectId)
    const state = keyState(k, project, budgetsOf.get(`key:${k.id}`) ?? [])
    keysByHash.set(k.hash, state)
    keysById.set(k.id, state)
  }
  return { version: snapshot.version, keysByHash, keysById, projects }
}

export function keyState(record: KeyRecord, project: ProjectState, budgets: readonly Budget[]): KeyState {
  const state: KeyState = {
    record,
    models: record.models === null ? undefined : modelMatcher(record.models),
    budgets,
    limits: record.limits,
    principal: { project: record.projectId, keyId: record.id },
  }
  state.principal.account = { key: state, project }
  return state
}
