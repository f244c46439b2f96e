/**
 * The governance database's tables, as Kysely sees them. One schema for every dialect (SQLite embedded,
 * Postgres at scale, D1 at the edge): times are epoch milliseconds, money is integer nano-USD (1e-9 USD, so
 * sums are exact and a $5 budget is 5e9), booleans are 0/1 and structured values are JSON text.
 */
/** A bigint column: a JS number both ways (the Postgres adapter parses int8 and numeric into numbers). */
type Int = number

export interface ProjectsTable {
  id: string
  name: string | null
  /** JSON: the project's `Policy`. */
  policy: string
  /** JSON: rate limits (`LimitSet`), or null. */
  limits: string | null
  /** 1: prompts and responses are kept in the ledger. */
  log_bodies: number
  /** `config` (declared in the config file, upserted at start) or `admin`. */
  source: string
  created_at: Int
  updated_at: Int
}

export interface ApiKeysTable {
  id: string
  project_id: string
  name: string | null
  /** The first characters of the key, shown to tell keys apart (never enough to use it). */
  prefix: string
  /** SHA-256 of the whole key, hex: the only form the key is kept in. */
  hash: string
  /** JSON array of the model names this key may use, or null for any the project allows. */
  models: string | null
  /** JSON: rate limits (`LimitSet`), or null. */
  limits: string | null
  source: string
  created_at: Int
  expires_at: Int | null
  revoked_at: Int | null
}

export interface ProviderKeysTable {
  id: string
  project_id: string
  /** The provider id of the config this key replaces the gateway's own key for. */
  provider: string
  /** AES-256-GCM: base64 of iv (12 bytes) ‖ ciphertext ‖ tag. */
  ciphertext: string
  /** The key's last four characters, the only part ever shown. */
  last4: string
  created_at: Int
}

export interface BudgetsTable {
  id: string
  /** `project` or `key`. */
  scope: string
  scope_id: string
  /** `day`, `month` (UTC) or `total`. */
  period: string
  limit_nusd: Int
  warn_at: number
  source: string
  created_at: Int
  updated_at: Int
}

export interface BudgetUsageTable {
  budget_id: string
  /** The period's start (epoch ms, UTC); 0 for `total`. */
  period_start: Int
  spent_nusd: Int
  reserved_nusd: Int
  /** 1 once the warning threshold was crossed in this period (the audit event is written once). */
  warned: number
}

export interface BudgetReservationsTable {
  /** The request's ledger id: reserving and settling are idempotent by it. */
  id: string
  /** JSON: `[[budget_id, period_start], …]`. */
  charges: string
  amount_nusd: Int
  created_at: Int
}

export interface LedgerTable {
  /** Unique per row: the request's own id, or `<id>#<n>` for its extra upstream attempts. */
  id: string
  /** The `x-request-id` the client saw. */
  request_id: string
  /** For an extra attempt: the id of the request it was made for. */
  parent_id: string | null
  ts: Int
  /** `origin` or `edge`: which tier served it. */
  tier: string
  project: string
  key_id: string | null
  session: string | null
  /** `chat`, `embeddings`, `messages`, `count_tokens`. */
  route: string
  model_requested: string | null
  model_served: string | null
  /** `provider/model` that answered (or was tried, for an attempt). */
  target: string | null
  /** 0 for the request's row; 1, 2, … for its extra attempts. */
  attempt: number
  status: number
  error: string | null
  stream: number
  /** `hit`, `miss`, `bypass`, `coalesced`, or null where no cache applies. */
  cache: string | null
  cache_layer: string | null
  tokens_in: number | null
  tokens_out: number | null
  tokens_cached: number | null
  cost_nusd: Int | null
  saved_nusd: Int | null
  /** Auto-routing: what the same tokens would have cost on the reference model. */
  reference_nusd: Int | null
  /** 1 when the tokens were estimated (the provider reported no usage). */
  estimated: number
  latency_ms: number
  upstream_ms: number
  /** A policy that changed the request (a forced model), as `rule: from -> to`. */
  override: string | null
  /** Only for projects that opt in (`log_bodies`). */
  prompt: string | null
  response: string | null
}

/** The ledger's columns, in table order (a compile-time check below keeps the list complete). */
export const LEDGER_COLUMNS = [
  'id',
  'request_id',
  'parent_id',
  'ts',
  'tier',
  'project',
  'key_id',
  'session',
  'route',
  'model_requested',
  'model_served',
  'target',
  'attempt',
  'status',
  'error',
  'stream',
  'cache',
  'cache_layer',
  'tokens_in',
  'tokens_out',
  'tokens_cached',
  'cost_nusd',
  'saved_nusd',
  'reference_nusd',
  'estimated',
  'latency_ms',
  'upstream_ms',
  'override',
  'prompt',
  'response',
] as const satisfies readonly (keyof LedgerTable)[]

type Unlisted = Exclude<keyof LedgerTable, (typeof LEDGER_COLUMNS)[number]>
/** Fails to compile when a ledger column is missing from LEDGER_COLUMNS. */
export const LEDGER_COLUMNS_COMPLETE: [Unlisted] extends [never] ? true : Unlisted = true

export interface LedgerTagsTable {
  ledger_id: string
  key: string
  value: string
}

export interface AuditTable {
  /** Time-ordered: `<ts, zero-padded>-<random>`. */
  id: string
  ts: Int
  /** `admin`, `admin:<name>`, `config`, `gateway`. */
  actor: string
  /** e.g. `key.create`, `policy.update`, `request.denied`, `budget.warning`, `policy.override`. */
  action: string
  project: string | null
  /** What it acted on: a key id, a budget id, a request id. */
  target: string | null
  reason: string | null
  /** JSON. */
  details: string | null
}

/** One row: the version every instance polls to learn that governance data changed. */
export interface MetaTable {
  key: string
  value: Int
}

export interface Database {
  projects: ProjectsTable
  api_keys: ApiKeysTable
  provider_keys: ProviderKeysTable
  budgets: BudgetsTable
  budget_usage: BudgetUsageTable
  budget_reservations: BudgetReservationsTable
  ledger: LedgerTable
  ledger_tags: LedgerTagsTable
  audit: AuditTable
  meridian_meta: MetaTable
}
