import type { BudgetConfig, Config, LimitSet, ProjectConfig } from '../config/schema.js'
import { keyIdOf } from '../pipeline/auth.js'
import { auditEvent } from './governance.js'
import { hashKey, keyPrefix, type Sha256Hex } from './keys.js'
import { toNanos } from './money.js'
import type { Policy } from './policy.js'
import type { BudgetRecord, GovernanceStore, KeyRecord, ProjectRecord } from './store.js'

/** What bootstrapping changed, for the start-up log. */
export interface BootstrapReport {
  projects: number
  keys: number
  budgets: number
  revoked: number
}

/**
 * Upserts what the config declares (projects with their policies and budgets, keys, `limits.projects`) into
 * the database, so the config and the admin API meet in one place. Only what changed is written (each change
 * audited with actor `config`); a key the config no longer declares is revoked, a budget it no longer
 * declares is deleted. Records made with the admin API are never touched.
 */
export async function bootstrap(
  store: GovernanceStore,
  config: Config,
  now: number,
  sha256?: Sha256Hex,
): Promise<BootstrapReport> {
  const report: BootstrapReport = { projects: 0, keys: 0, budgets: 0, revoked: 0 }
  const audit = (
    action: string,
    project: string | null,
    target: string | null,
    details?: Record<string, unknown>,
  ) =>
    auditEvent(
      {
        actor: 'config',
        action,
        project,
        target,
        reason: 'declared in the config',
        details: details ?? null,
      },
      now,
    )
  const budgets: BudgetRecord[] = []
  const declared = new Map<string, ProjectConfig>(config.projects.map((p) => [p.id, p]))

  const projectIds = new Set<string>([
    ...config.projects.map((p) => p.id),
    ...config.keys.map((k) => k.project),
    ...Object.keys(config.limits.projects),
  ])
  for (const id of projectIds) {
    const existing = await store.getProject(id)
    const own = declared.get(id)
    const limits: LimitSet | null =
      config.limits.projects[id] ?? (own === undefined ? (existing?.limits ?? null) : null)
    const next: ProjectRecord = {
      id,
      name: own?.name ?? existing?.name ?? null,
      policy: own === undefined ? (existing?.policy ?? {}) : policyOf(own),
      limits,
      logBodies: own?.log_bodies ?? existing?.logBodies ?? false,
      source: own === undefined && existing !== undefined ? existing.source : 'config',
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    }
    if (own?.budget !== undefined)
      budgets.push(budgetRecord(`cfg-project-${id}`, 'project', id, own.budget, now))
    if (existing !== undefined && same(existing, next)) continue
    await store.putProject(next, audit(existing === undefined ? 'project.create' : 'project.update', id, id))
    report.projects++
  }

  const kept = new Set<string>()
  for (const [i, key] of config.keys.entries()) {
    const hash = await hashKey(key.key, sha256)
    // A key's id is fixed when it is first stored (renaming it in the config keeps the id).
    const existing = await store.keyByHash(hash)
    const id = existing?.id ?? keyIdOf(key, i)
    kept.add(id)
    const next: KeyRecord = {
      id,
      projectId: key.project,
      name: key.name ?? existing?.name ?? null,
      prefix: keyPrefix(key.key),
      hash,
      models: key.models ?? null,
      limits: key.limits ?? null,
      source: 'config',
      createdAt: existing?.createdAt ?? now,
      expiresAt: null,
      revokedAt: null,
    }
    if (key.budget !== undefined) budgets.push(budgetRecord(`cfg-key-${id}`, 'key', id, key.budget, now))
    if (existing !== undefined && same(existing, next)) continue
    await store.putKey(next, audit(existing === undefined ? 'key.create' : 'key.update', key.project, id))
    report.keys++
  }
  for (const key of await store.listKeys()) {
    if (key.source !== 'config' || kept.has(key.id) || key.revokedAt !== null) continue
    await store.putKey(
      { ...key, revokedAt: now },
      auditEvent(
        {
          actor: 'config',
          action: 'key.revoke',
          project: key.projectId,
          target: key.id,
          reason: 'no longer in the config',
          details: null,
        },
        now,
      ),
    )
    report.revoked++
  }

  const wanted = new Set(budgets.map((b) => b.id))
  for (const budget of budgets) {
    const existing = await store.getBudget(budget.id)
    const next = { ...budget, createdAt: existing?.createdAt ?? now }
    if (existing !== undefined && same(existing, next)) continue
    await store.putBudget(
      next,
      audit(existing === undefined ? 'budget.create' : 'budget.update', null, budget.id),
    )
    report.budgets++
  }
  for (const budget of await store.listBudgets()) {
    if (budget.source !== 'config' || wanted.has(budget.id)) continue
    await store.deleteBudget(
      budget.id,
      audit('budget.delete', null, budget.id, { reason: 'no longer in the config' }),
    )
    report.budgets++
  }
  return report
}

/** The policy fields of a declared project. */
export function policyOf(project: ProjectConfig): Policy {
  const policy: Policy = {}
  if (project.models !== undefined) policy.models = project.models
  if (project.deny_modes !== undefined) policy.deny_modes = project.deny_modes
  if (project.force !== undefined) policy.force = project.force
  if (project.max_input_tokens !== undefined) policy.max_input_tokens = project.max_input_tokens
  if (project.max_tokens !== undefined) policy.max_tokens = project.max_tokens
  return policy
}

function budgetRecord(
  id: string,
  scope: 'project' | 'key',
  scopeId: string,
  budget: BudgetConfig,
  now: number,
): BudgetRecord {
  return {
    id,
    scope,
    scopeId,
    period: budget.period,
    limit: toNanos(budget.usd),
    warnAt: budget.warn_at,
    source: 'config',
    createdAt: now,
    updatedAt: now,
  }
}

/** Equal but for the times they were written. */
function same<T extends { updatedAt?: number; createdAt: number }>(a: T, b: T): boolean {
  const strip = ({ updatedAt: _u, createdAt: _c, ...rest }: T) => rest
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b))
}
