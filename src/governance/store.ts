/**
 * What governance needs from its database: the records admins manage, the ledger and the audit log. One
 * implementation over Kysely (`storage/sql`) serves SQLite, Postgres and D1; the adapter picks the dialect.
 */
import type { LimitSet } from '../config/schema.js'
import type { LedgerTable } from '../storage/sql/schema.js'
import type { Budget } from './budgets.js'
import type { Policy } from './policy.js'

/** Where a record came from: declared in the config file (upserted at start), or made through the admin API. */
export type Source = 'config' | 'admin'

export interface ProjectRecord {
  id: string
  name: string | null
  policy: Policy
  limits: LimitSet | null
  /** Prompts and responses are kept in the ledger. */
  logBodies: boolean
  source: Source
  createdAt: number
  updatedAt: number
}

export interface KeyRecord {
  id: string
  projectId: string
  name: string | null
  prefix: string
  hash: string
  /** The models this key may use (patterns as in policies); null: any the project allows. */
  models: string[] | null
  limits: LimitSet | null
  source: Source
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
}

export interface ProviderKeyRecord {
  id: string
  projectId: string
  provider: string
  /** Sealed with the encryption key (see `secrets.ts`). */
  ciphertext: string
  last4: string
  createdAt: number
}

export interface BudgetRecord extends Budget {
  source: Source
  createdAt: number
  updatedAt: number
}

export interface AuditEvent {
  id: string
  ts: number
  actor: string
  action: string
  project: string | null
  target: string | null
  reason: string | null
  details: Record<string, unknown> | null
}

/** One ledger row as written: the table's columns, and the request's tags. */
export interface LedgerEntry extends LedgerTable {
  tags: Readonly<Record<string, string>> | undefined
}

/** Everything the hot path keeps in memory, loaded at start and again whenever `version` moves. */
export interface GovernanceSnapshot {
  version: number
  projects: ProjectRecord[]
  keys: KeyRecord[]
  providerKeys: ProviderKeyRecord[]
  budgets: BudgetRecord[]
}

export const USAGE_GROUPS = ['project', 'key', 'model', 'tag', 'day'] as const
export type UsageGroup = (typeof USAGE_GROUPS)[number]

export interface UsageQuery {
  by: UsageGroup
  /** With `by: tag`: the tag key whose values group the rows (requests without it form one group, null). */
  tag?: string
  project?: string
  key?: string
  /** Epoch ms, inclusive / exclusive. */
  from?: number
  to?: number
}

export interface UsageRow {
  /** The group's value (a project, key id, model, tag value, or `YYYY-MM-DD`); null for none. */
  group: string | null
  /** Client requests (extra attempts are not requests, but their cost counts). */
  requests: number
  tokens_in: number
  tokens_out: number
  cost_nusd: number
  saved_nusd: number
}

export interface AuditQuery {
  project?: string
  action?: string
  /** Epoch ms: events before this one (for paging back). */
  before?: number
  limit: number
}

export interface LedgerQuery {
  requestId?: string
  project?: string
  from?: number
  limit: number
}

/** Every admin write bumps the version and writes its audit event in the same transaction. */
export interface GovernanceStore {
  version(): Promise<number>
  snapshot(): Promise<GovernanceSnapshot>
  /** One key by hash, straight from the database (a key made on another instance a moment ago). */
  keyByHash(hash: string): Promise<KeyRecord | undefined>

  getProject(id: string): Promise<ProjectRecord | undefined>
  listProjects(): Promise<ProjectRecord[]>
  putProject(project: ProjectRecord, audit: AuditEvent): Promise<void>
  /** Removes a project with its keys, provider keys and budgets (the ledger keeps its rows). */
  deleteProject(id: string, audit: AuditEvent): Promise<boolean>

  getKey(id: string): Promise<KeyRecord | undefined>
  listKeys(projectId?: string): Promise<KeyRecord[]>
  /** Inserts, or updates the key with the same id (or, for config keys, the same hash). */
  putKey(key: KeyRecord, audit: AuditEvent): Promise<void>

  listProviderKeys(projectId: string): Promise<ProviderKeyRecord[]>
  /** Inserts, or replaces the project's key for that provider. */
  putProviderKey(key: ProviderKeyRecord, audit: AuditEvent): Promise<void>
  deleteProviderKey(projectId: string, provider: string, audit: AuditEvent): Promise<boolean>

  getBudget(id: string): Promise<BudgetRecord | undefined>
  listBudgets(scope?: { scope: 'project' | 'key'; scopeId: string }): Promise<BudgetRecord[]>
  putBudget(budget: BudgetRecord, audit: AuditEvent): Promise<void>
  deleteBudget(id: string, audit: AuditEvent): Promise<boolean>

  /** Idempotent by row id: a row written twice (a retried batch, an edge record sent again) is kept once. */
  writeLedger(rows: readonly LedgerEntry[]): Promise<void>
  writeAudit(events: readonly AuditEvent[]): Promise<void>

  usage(query: UsageQuery): Promise<UsageRow[]>
  auditLog(query: AuditQuery): Promise<AuditEvent[]>
  ledger(query: LedgerQuery): Promise<(LedgerTable & { tags: Record<string, string> })[]>
  /** nano-USD the ledger records for a project's or key's requests since `since` (epoch ms). */
  spendSince(scope: 'project' | 'key', scopeId: string, since: number): Promise<number>

  /** Reachable (for `GET /ready`). */
  ping(): Promise<void>
  close(): Promise<void>
}
