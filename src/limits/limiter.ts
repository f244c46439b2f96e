import type { Config, LimitSet } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import { keyIdOf } from '../pipeline/auth.js'
import type { Decision, LimitRule, LimitState, LimitStore } from './store.js'

/** An admitted request's hold on its limits, settled once when it ends. */
export interface LimitGrant {
  rules: readonly LimitRule[]
  id: string
  reserved: number
  /** What the store said; its states feed the `x-ratelimit-*` headers. */
  decision: Decision
}

/** Counters since start, for `/admin/limits/stats`. */
export interface LimitStats {
  checks: number
  denied: { requests: number; tokens: number; concurrent: number }
  /** Checks or settlements the store failed (unreachable, slow). */
  store_errors: number
  /** Requests admitted unchecked because the store failed (`on_store_error: open`). */
  failed_open: number
  /** Requests refused with 503 because the store failed (`on_store_error: closed`). */
  failed_closed: number
}

export interface Limiter {
  readonly stats: LimitStats
  /**
   * Admits a request or throws its 429. Returns the grant to settle when the request ends, or undefined when
   * no limit applies (or the store failed open). Synchronous with an in-process store.
   */
  acquire(
    keyId: string | undefined,
    project: string,
    model: string,
    tokens: () => number,
  ): LimitGrant | undefined | Promise<LimitGrant | undefined>
  /**
   * `acquire` before the request's body is read, for a caller none of whose rules needs the body: none limits
   * tokens (the reservation is estimated from the body) and none is for one model (the body names it). False
   * when one does: then `acquire` once the model is known.
   */
  acquireEarly(
    keyId: string | undefined,
    project: string,
  ): LimitGrant | undefined | Promise<LimitGrant | undefined> | false
  /**
   * Releases the concurrency lease and settles the reservation to `used` tokens (undefined keeps it). A remote
   * store's settlement is returned, already caught, for a runtime that must keep it alive (`waitUntil`).
   */
  settle(grant: LimitGrant, used: number | undefined): Promise<void> | undefined
}

/** The rules of one key or project: its own, and one per model it limits. */
export interface ScopeRules {
  base: LimitRule | undefined
  models: Map<string, LimitRule>
}

/** Every key's and project's rules, by key id and project id. */
export interface LimitRules {
  keys: ReadonlyMap<string, ScopeRules>
  projects: ReadonlyMap<string, ScopeRules>
}

/** The rules of one key (`key:<id>`) or project (`project:<id>`) from its limit set. */
export function scopeRules(scope: string, set: LimitSet): ScopeRules {
  const rule = (name: string, s: Omit<LimitSet, 'models'>): LimitRule | undefined =>
    s.rpm || s.tpm || s.concurrent
      ? { scope: name, rpm: s.rpm, tpm: s.tpm, concurrent: s.concurrent }
      : undefined
  const models = new Map<string, LimitRule>()
  for (const [model, limits] of Object.entries(set.models ?? {})) {
    const r = rule(`${scope}|model:${model}`, limits)
    if (r) models.set(model, r)
  }
  return { base: rule(scope, set), models }
}

const DIMENSION_LABEL = {
  requests: 'requests per minute (RPM)',
  tokens: 'tokens per minute (TPM)',
  concurrent: 'concurrent requests',
} as const

export interface LimiterOptions {
  store: LimitStore
  /**
   * Where the rules come from, read on every request (so it must be cheap: a prebuilt map): governance's
   * keys and projects, the config's (`configRules`), or at the edge the keys' replica entries.
   */
  rules: () => LimitRules
  /** When the store fails: `open` admits the request unchecked, `closed` refuses it (503). */
  onStoreFailure: 'open' | 'closed'
  /** A failed store call, already counted; the caller decides how often to log. */
  onStoreError?: (err: unknown) => void
}

/** Every key's and project's rules from the config alone. */
export function configRules(config: Config): LimitRules {
  const keys = new Map<string, ScopeRules>()
  config.keys.forEach((key, i) => {
    const keyId = keyIdOf(key, i)
    if (key.limits) keys.set(keyId, scopeRules(`key:${keyId}`, key.limits))
  })
  const projects = new Map<string, ScopeRules>()
  for (const [project, set] of Object.entries(config.limits.projects)) {
    projects.set(project, scopeRules(`project:${project}`, set))
  }
  return { keys, projects }
}

/**
 * Per request it picks the rules that apply (the key's and the project's, and theirs for the model) and makes
 * one atomic store call. A request with no rule costs a few map lookups.
 */
export function createLimiter({ store, rules, onStoreFailure, onStoreError }: LimiterOptions): Limiter {
  const current = rules
  const failClosed = onStoreFailure === 'closed'
  const stats: LimitStats = {
    checks: 0,
    denied: { requests: 0, tokens: 0, concurrent: 0 },
    store_errors: 0,
    failed_open: 0,
    failed_closed: 0,
  }

  const storeFailed = (err: unknown): undefined => {
    stats.store_errors++
    onStoreError?.(err)
    if (!failClosed) {
      stats.failed_open++
      return undefined
    }
    stats.failed_closed++
    throw new GatewayError(
      'MERIDIAN_LIMITS_UNAVAILABLE',
      'rate limits cannot be checked right now; retry shortly',
      {
        headers: { 'retry-after': '1' },
      },
    )
  }

  const decide = (rules: LimitRule[], id: string, reserved: number, decision: Decision): LimitGrant => {
    if (decision.allowed) return { rules, id, reserved, decision }
    const denied = decision.denied!
    stats.denied[denied.dimension]++
    throw rateLimited(rules, reserved, decision)
  }

  const check = (
    rules: LimitRule[],
    reserved: number,
  ): LimitGrant | Promise<LimitGrant | undefined> | undefined => {
    stats.checks++
    const id = crypto.randomUUID()
    let result: Decision | Promise<Decision>
    try {
      result = store.acquire({ rules, id, tokens: reserved })
    } catch (err) {
      return storeFailed(err)
    }
    if (result instanceof Promise) {
      return result.then((decision) => decide(rules, id, reserved, decision), storeFailed)
    }
    return decide(rules, id, reserved, result)
  }

  return {
    stats,
    acquire(keyId, project, model, tokens) {
      const { keys, projects } = current()
      const rules: LimitRule[] = []
      const add = (scope: ScopeRules | undefined) => {
        if (scope === undefined) return
        if (scope.base) rules.push(scope.base)
        const perModel = scope.models.get(model)
        if (perModel) rules.push(perModel)
      }
      if (keyId !== undefined) add(keys.get(keyId))
      add(projects.get(project))
      if (rules.length === 0) return undefined
      return check(rules, rules.some((r) => r.tpm !== undefined) ? tokens() : 0)
    },
    acquireEarly(keyId, project) {
      const { keys, projects } = current()
      const key = keyId === undefined ? undefined : keys.get(keyId)
      const own = projects.get(project)
      if (needsBody(key) || needsBody(own)) return false
      const rules: LimitRule[] = []
      if (key?.base) rules.push(key.base)
      if (own?.base) rules.push(own.base)
      if (rules.length === 0) return undefined
      return check(rules, 0)
    },
    settle(grant, used) {
      // A request under `rpm` alone holds nothing to give back: its window entry simply ages out.
      if (!grant.rules.some((r) => r.concurrent !== undefined || r.tpm !== undefined)) return undefined
      const settled = {
        rules: grant.rules,
        id: grant.id,
        reserved: grant.reserved,
        used,
        ticket: grant.decision.ticket,
      }
      try {
        const done = store.settle(settled)
        if (done instanceof Promise) return done.catch(countError)
      } catch (err) {
        countError(err)
      }
      return undefined
    },
  }

  function countError(err: unknown) {
    stats.store_errors++
    onStoreError?.(err)
  }
}

/** Whether a scope's rules need the request's body: a token limit (its estimate) or a rule for one model. */
function needsBody(scope: ScopeRules | undefined): boolean {
  return scope !== undefined && (scope.models.size > 0 || scope.base?.tpm !== undefined)
}

/** The 429: OpenAI's wording and headers, naming the scope and dimension that had no room. */
function rateLimited(rules: LimitRule[], reserved: number, decision: Decision): GatewayError {
  const denied = decision.denied!
  const rule = rules.find((r) => r.scope === denied.scope)
  const limit =
    denied.dimension === 'requests' ? rule?.rpm : denied.dimension === 'tokens' ? rule?.tpm : rule?.concurrent
  const headers = rateLimitHeaders(decision)
  let message = `Rate limit reached for ${denied.scope} on ${DIMENSION_LABEL[denied.dimension]}: limit ${limit}`
  if (denied.retryAfterMs === undefined) {
    message += `, requested ${reserved}: this request alone is larger than the limit and can never be admitted.`
  } else {
    headers['retry-after'] = String(Math.max(1, Math.ceil(denied.retryAfterMs / 1000)))
    message += `. Please try again in ${formatReset(denied.retryAfterMs)}.`
  }
  return new GatewayError('MERIDIAN_RATE_LIMITED', message, { headers })
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, as OpenAI sends them. */
export function rateLimitHeaders(
  decision: Decision,
  into: Record<string, string> = {},
): Record<string, string> {
  const put = (kind: 'requests' | 'tokens', state: LimitState | undefined) => {
    if (state === undefined) return
    into[`x-ratelimit-limit-${kind}`] = String(state.limit)
    into[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, state.remaining))
    into[`x-ratelimit-reset-${kind}`] = formatReset(state.resetMs)
  }
  put('requests', decision.requests)
  put('tokens', decision.tokens)
  return into
}

/** OpenAI's duration style: `120ms`, `1.5s`, `6m0s`. */
export function formatReset(ms: number): string {
  const rounded = Math.max(0, Math.ceil(ms))
  if (rounded < 1000) return `${rounded}ms`
  const seconds = rounded / 1000
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`
  return `${Math.floor(seconds / 60)}m${Number((seconds % 60).toFixed(3))}s`
}
