import { z } from 'zod'
import { PERIODS } from '../governance/budgets.js'
import { policySchema } from '../governance/policy.js'
import { PRESET_NAMES, PRESETS } from '../providers/openai-compatible/presets.js'
import { BUCKETS } from '../routing/catalog-data.js'
import { LABELS, MODES } from '../routing/labels.js'
import { routingProblems } from '../routing/table.js'
import { DURATION_PATTERN, parseDuration } from './duration.js'
import { parseSize, SIZE_PATTERN } from './size.js'

const size = z
  .union([
    z.number().int().positive(),
    z.string().regex(SIZE_PATTERN, 'expected a size such as 512KB or 10MB'),
  ])
  .transform(parseSize)

const bytes = z
  .union([z.number().int().nonnegative(), z.string().regex(SIZE_PATTERN, 'expected a size such as 64MB')])
  .transform(parseSize)

/** A duration (`30s`, `10m`, `1d`; a bare number is seconds), as milliseconds. */
const duration = z
  .union([
    z.number().nonnegative(),
    z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 10m or 1d'),
  ])
  .transform(parseDuration)

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"')

export const serverSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Address to listen on. Without gateway keys only a loopback address is allowed.'),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8787)
      .describe('Port to listen on (0 picks a free one).'),
    max_body: size
      .prefault('10MB')
      .describe('Largest request body accepted, e.g. 512KB or 10MB (binary units); larger ones get 413.'),
  })
  .describe('Where the gateway listens and what it accepts.')

export const logSchema = z
  .strictObject({
    level: z
      .enum(['debug', 'info', 'warn', 'error', 'silent'])
      .default('info')
      .describe('Least severe level written.'),
    requests: z
      .boolean()
      .default(true)
      .describe('One JSON line per request, at info level (never bodies or keys).'),
  })
  .describe('Logs: JSON lines on stdout (warnings and errors on stderr).')

export const providerSchema = z
  .strictObject({
    id: id.describe('Name the models refer to.'),
    type: z
      .enum(['openai', 'anthropic', 'gemini'])
      .describe(
        "Provider family: `openai` is every OpenAI-compatible API; `anthropic` Anthropic's Messages API; `gemini` Google's Generative Language API.",
      ),
    preset: z
      .enum(PRESET_NAMES)
      .optional()
      .describe('Which OpenAI-compatible API: sets the default base_url, auth header and parameter names.'),
    base_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("API root including its version path, e.g. http://127.0.0.1:9100/v1. Default: the preset's."),
    api_key: z
      .string()
      .optional()
      .describe('The provider key, usually `${ENV_VAR}`. Never logged, scrubbed from errors.'),
    api_version: z.string().optional().describe("Azure OpenAI's api-version query parameter (azure only)."),
    anthropic_version: z
      .string()
      .optional()
      .describe('The `anthropic-version` header (anthropic only; default 2023-06-01).'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe("Extra headers sent upstream (e.g. OpenRouter's HTTP-Referer)."),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .default(120_000)
      .describe(
        'Longest wait for the response head, and longest silence inside a stream; then 504 (or a stream error).',
      ),
  })
  .describe('An upstream API and its credentials.')

export const targetSchema = z.strictObject({
  provider: z.string().optional().describe('A provider id (with `model`; or `use` instead).'),
  model: z
    .string()
    .min(1)
    .optional()
    .describe('The model name the provider knows (the deployment name on Azure).'),
  use: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Instead of provider and model: another configured model, whose own strategy and targets stand here as one target (strategies nest).',
    ),
  weight: z
    .number()
    .positive()
    .default(1)
    .describe('Its share of traffic under `strategy: loadbalance` (relative to the other targets).'),
  timeouts: z
    .strictObject({
      connect: duration.optional().describe('Longest wait for a new connection (default 10s).'),
      ttfb: duration
        .optional()
        .describe(
          "Longest wait for its answer to start (a stream: its first content); then the next candidate. Default: the provider's timeout_ms.",
        ),
      total: duration
        .optional()
        .describe('Longest a whole answer may take, stream included (default: no limit).'),
    })
    .optional()
    .describe('Per-target timeouts; a timeout is a retryable failure that counts against the target.'),
})

const cacheMode = z
  .enum(['off', 'deterministic', 'always'])
  .describe(
    '`off`; `deterministic`: only requests with temperature 0 or a seed; `always`: every chat request.',
  )

export const cacheRuleSchema = z
  .strictObject({
    mode: cacheMode.optional(),
    ttl: duration.optional().describe('How long its answers are kept, below `cache.ttl.max`.'),
  })
  .describe('Cache policy for one project or one model (unset fields fall back to `cache`).')

export const cacheSchema = z
  .strictObject({
    source: z
      .string()
      .regex(
        /^(memory|sqlite:.+|rediss?:\/\/.+)$/,
        'expected memory, sqlite:<path> or redis://host:port[/db]',
      )
      .default('sqlite:./.meridian/cache.db')
      .describe(
        'The source of truth: `redis://host:port[/db]` at scale, `sqlite:<path>` embedded, `memory` for tests.',
      ),
    replica: z
      .strictObject({
        max_bytes: bytes
          .prefault('64MB')
          .describe(
            'Memory the in-process replica may hold (least recently read goes first); 0 turns it off.',
          ),
      })
      .prefault({})
      .describe('The in-process replica read before the source of truth.'),
    ttl: z
      .strictObject({
        default: duration
          .prefault('1d')
          .describe('How long an answer is kept unless a rule or request says.'),
        max: duration
          .prefault('30d')
          .describe('The longest any rule or `x-meridian-cache-ttl` may ask for (longer is capped).'),
      })
      .prefault({}),
    mode: cacheMode.default('deterministic'),
    coalesce: z
      .boolean()
      .default(true)
      .describe('Identical cacheable requests in flight together make one upstream call.'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe('A source-of-truth read slower than this is skipped (the request goes upstream).'),
    projects: z
      .record(id, cacheRuleSchema)
      .default({})
      .describe("Per-project rules; a project's `off` wins over any model rule."),
  })
  .describe('The exact-response cache (see docs/cache.md).')

export const adminSchema = z
  .strictObject({
    token: z
      .string()
      .min(16, 'an admin token needs at least 16 characters')
      .optional()
      .describe('Bearer token for /admin routes, usually `${ENV_VAR}`. Without it they answer 404.'),
  })
  .describe('The admin API.')

export const edgeSchema = z
  .strictObject({
    secret: z
      .string()
      .min(32, 'the edge secret needs at least 32 characters (openssl rand -hex 32)')
      .optional()
      .describe(
        "The secret shared with the edge (its EDGE_SECRET), usually `${EDGE_SECRET}`: it signs the edge's assertions and guards the /internal routes. Without it there is no edge.",
      ),
    replicate: z
      .array(z.url({ protocol: /^https?$/ }))
      .default([])
      .describe(
        "Edge workers to push new cache entries, key changes and the edge's config to (their /internal/replicate route), fire-and-forget.",
      ),
    kv_api: z
      .strictObject({
        account_id: z.string().min(1),
        cache_namespace: z.string().min(1).describe('The KV namespace id of the edge cache (binding CACHE).'),
        token: z
          .string()
          .min(1)
          .describe('A Cloudflare API token allowed to write it, usually `${CF_API_TOKEN}`.'),
        base_url: z
          .url()
          .default('https://api.cloudflare.com/client/v4')
          .describe('The Cloudflare API (tests point it elsewhere).'),
      })
      .optional()
      .describe("Also write new cache entries straight into the edge's KV through Cloudflare's REST API."),
  })
  .describe('The edge tier on Cloudflare Workers (see docs/deploy-edge.md).')

const usd = z.number().nonnegative()

export const priceSchema = z.strictObject({
  input: usd.describe('Prompt tokens.'),
  output: usd.describe('Completion tokens.'),
  cached_input: usd.optional().describe("Prompt tokens read from a provider's prompt cache."),
  cache_write: usd.optional().describe("Prompt tokens written to a provider's prompt cache."),
})

export const modelSchema = z
  .strictObject({
    name: z.string().min(1).describe('The model name clients send (and GET /v1/models lists).'),
    default_max_tokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'max_tokens sent to providers that require one (anthropic) when the client sets none (default 4096).',
      ),
    cache: cacheRuleSchema.optional(),
    strategy: z
      .enum(['fallback', 'loadbalance'])
      .default('fallback')
      .describe(
        '`fallback`: targets in order, the next when one fails; `loadbalance`: spread by weight (the rest stand by).',
      ),
    hedge: z
      .boolean()
      .optional()
      .describe('Hedge its requests (see `router.hedge`); auto-routing turns it on for sport. Default off.'),
    bucket: z
      .enum(BUCKETS)
      .optional()
      .describe(
        "Its capability bucket, for auto-routing's quality floor and fallbacks. Default: the catalog's, by this name or its first target's model.",
      ),
    price: priceSchema
      .optional()
      .describe(
        "USD per million tokens, for every target. Default: the catalog's, by each target's model, else by this name.",
      ),
    max_output_tokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "The longest answer its targets give, reserved by budgets for a request without max_tokens. Default: the catalog's, else `budgets.default_max_output`.",
      ),
    targets: z
      .array(targetSchema)
      .min(1)
      .describe(
        'Tried in order: a later target answers when an earlier one fails with a retryable error before answering.',
      ),
  })
  .describe('A model clients may ask for.')

const mode = z.enum(MODES)

/** Cells of the routing table: mode → task type → model name. */
const routingTable = z
  .partialRecord(mode, z.partialRecord(z.enum(LABELS), z.string().min(1)))
  .describe(
    'Cells replacing the shipped table: mode → task type → a model name (configured, or known to the catalog).',
  )

export const routingSchema = z
  .strictObject({
    default_mode: mode.default('balanced').describe('The mode of `model: "auto"` without `x-meridian-mode`.'),
    table: routingTable.default({}),
    reference: z
      .partialRecord(z.enum(LABELS), z.string().min(1))
      .default({})
      .describe(
        "The model each task type's savings are measured against. Default: sport's choice for the task type.",
      ),
    projects: z
      .record(
        id,
        z.strictObject({
          default_mode: mode.optional(),
          table: routingTable.optional(),
        }),
      )
      .default({})
      .describe("Per-project default modes and table cells (over the deployment's own)."),
  })
  .describe('Auto-routing: `model: "auto"` picks a model per request (see docs/auto-routing.md).')

export const routerSchema = z
  .strictObject({
    retries: z
      .strictObject({
        attempts: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(3)
          .describe('Upstream calls a request may make at most, fallbacks and retries together.'),
        backoff: duration
          .prefault('100ms')
          .describe('The first retry of a target waits this long (doubling, with jitter).'),
        backoff_max: duration.prefault('2s').describe('The longest wait between retries.'),
        retry_after_max: duration
          .prefault('10s')
          .describe(
            'The longest `Retry-After` honoured by waiting; a longer one moves on to another target.',
          ),
      })
      .prefault({})
      .describe(
        'Retries on 408, 409, 429, 5xx and network errors, never after the first byte reached the client.',
      ),
    health: z
      .strictObject({
        store: z
          .string()
          .regex(/^(memory|rediss?:\/\/.+)$/, 'expected memory or redis://host:port[/db]')
          .default('memory')
          .describe('`memory` (this instance) or `redis://…`: every instance learns of an outage together.'),
        window: duration.prefault('60s').describe('The rolling window of outcomes a target is judged on.'),
        min_requests: z.number().int().min(1).default(5).describe('Outcomes in the window before it judges.'),
        error_rate: z
          .number()
          .gt(0)
          .max(1)
          .default(0.5)
          .describe('Share of failed outcomes in the window that takes a target down.'),
        slow_factor: z
          .number()
          .gt(1)
          .default(3)
          .describe('Time to first byte this many times its usual marks a target degraded (less traffic).'),
        cooldown: duration.prefault('30s').describe('How long a down target is skipped before it is probed.'),
        probe_every: z
          .number()
          .int()
          .min(1)
          .default(10)
          .describe('While probing, one request in this many is sent to the target.'),
      })
      .prefault({})
      .describe('The health gate: targets judged by error rate and latency over a rolling window.'),
    failover: z
      .boolean()
      .default(true)
      .describe(
        "When a model's targets all fail or are down, fall back to a model of the same capability bucket on another provider.",
      ),
    hedge: z
      .strictObject({
        after: z
          .union([z.literal('p90'), duration])
          .default('p90')
          .describe(
            "Send the hedge when no first byte came by then: a duration, or `p90` of the target's time to first byte.",
          ),
        min: duration.prefault('50ms').describe('The shortest hedge delay (`p90` never goes below it).'),
        default: duration
          .prefault('1s')
          .describe('The hedge delay of `p90` before the target has any history.'),
      })
      .prefault({})
      .describe('Hedged requests: a second attempt on the best alternative; the first to answer wins.'),
    stream: z
      .strictObject({
        stall: duration
          .prefault('30s')
          .describe(
            'A stream silent this long is cut: before its first content it fails over, after it ends with an error event.',
          ),
      })
      .prefault({}),
  })
  .describe(
    'How requests reach upstreams: retries, the health gate, failover, hedging (see docs/routing.md).',
  )

const limitCount = z.number().int().positive()

const limitValues = {
  rpm: limitCount.optional().describe('Requests per sliding minute.'),
  tpm: limitCount
    .optional()
    .describe('Tokens per sliding minute: estimated prompt + max output reserved, settled to actual usage.'),
  concurrent: limitCount.optional().describe('Requests in flight at once.'),
}

export const limitSetSchema = z
  .strictObject({
    ...limitValues,
    models: z
      .record(z.string().min(1), z.strictObject(limitValues))
      .optional()
      .describe('Limits per model name, within this key or project (each model counted on its own).'),
  })
  .describe('Rate limits; an absent one is unlimited.')

export const limitsSchema = z
  .strictObject({
    store: z
      .string()
      .regex(/^(memory|rediss?:\/\/.+)$/, 'expected memory or redis://host:port[/db]')
      .default('memory')
      .describe(
        'Where the counters live: `memory` (one instance) or `redis://…` (shared by every instance).',
      ),
    on_store_error: z
      .enum(['open', 'closed'])
      .default('open')
      .describe('When the store cannot answer: `open` admits the request, `closed` answers 503.'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .default(250)
      .describe(
        'A store check slower than this counts as a store error. Checks of a burst queue in Redis (~0.1 ms each), so this must cover the largest burst expected.',
      ),
    default_output_tokens: limitCount
      .default(1024)
      .describe('Output tokens a `tpm` check reserves for a request that sets no max_tokens.'),
    lease: duration
      .prefault('10m')
      .describe('How long a concurrency slot is held at most, should an instance die mid-request.'),
    prefetch: duration
      .prefault('250ms')
      .describe(
        'Redis store: how long request slots, tokens and concurrency leases taken ahead serve requests yet to come, so most checks need no round trip (docs/limits.md); 0 takes none ahead.',
      ),
    projects: z
      .record(id, limitSetSchema)
      .default({})
      .describe('Limits per project (every key of it together).'),
  })
  .describe('Rate limits (see docs/limits.md); per key in `keys[].limits`, per project here.')

export const budgetSchema = z
  .strictObject({
    usd: z.number().positive().describe('What may be spent in a period, in USD.'),
    period: z
      .enum(PERIODS)
      .default('month')
      .describe('`day` or `month` (UTC, reset at its start), or `total`.'),
    warn_at: z
      .number()
      .gt(0)
      .max(1)
      .default(0.8)
      .describe(
        'Past this share, responses carry `x-meridian-budget-warning` (and the crossing is audited).',
      ),
  })
  .describe(
    'A spending limit that is never overshot: the largest cost of a request is reserved before it runs.',
  )

export const keySchema = z
  .strictObject({
    key: z
      .string()
      .min(8, 'a gateway key needs at least 8 characters')
      .describe('The key clients send as a bearer token, usually `${ENV_VAR}`. Stored only as its SHA-256.'),
    project: id.default('default').describe('The project its requests are accounted to.'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"')
      .optional()
      .describe(
        "A name safe to log (the key itself never is): the key's id in the ledger, the admin API and its rate-limit windows. Without one the id is `static-<its place in this list>`, so give keys names.",
      ),
    models: z
      .array(z.string().min(1))
      .optional()
      .describe('Only these models (`prefix*` matches a prefix), within what the project allows.'),
    budget: budgetSchema.optional(),
    limits: limitSetSchema.optional(),
  })
  .describe('A gateway key declared here: upserted into the database at start.')

export const projectSchema = policySchema
  .extend({
    id: id.describe('The id keys and the ledger name it by.'),
    name: z.string().optional().describe('A name for people.'),
    budget: budgetSchema.optional(),
    log_bodies: z
      .boolean()
      .default(false)
      .describe('Keep prompts and responses in the ledger (off: only counts, costs and attribution).'),
  })
  .describe(
    'A project declared here: upserted into the database at start (these fields overwrite what the admin API set).',
  )

export const storageSchema = z
  .strictObject({
    database: z
      .string()
      .regex(/^(memory|sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:<path>, postgres://… or memory')
      .default('sqlite:./.meridian/meridian.db')
      .describe(
        'Where projects, keys, budgets, the ledger and the audit log live: `sqlite:<path>` embedded, `postgres://…[?schema=name]` at scale, `memory` for tests.',
      ),
    refresh: duration
      .prefault('1s')
      .describe('How often each instance checks whether keys, projects or budgets changed elsewhere.'),
  })
  .describe('The governance database (see docs/governance.md).')

export const budgetsSchema = z
  .strictObject({
    store: z
      .string()
      .regex(/^(database|rediss?:\/\/.+)$/, 'expected database or redis://host:port[/db]')
      .default('database')
      .describe(
        'Where spend counters live: `database` (a transaction per reservation) or `redis://…` (one Lua script, for many instances).',
      ),
    default_max_output: limitCount
      .default(4096)
      .describe(
        'For a model whose longest answer is unknown: a budgeted request without max_tokens is sent with this one, and reserved for it.',
      ),
    prompt_margin: z
      .number()
      .min(1)
      .max(3)
      .default(1.25)
      .describe(
        "Prompt tokens are counted with OpenAI's tokenizer; other providers' count more for some texts, so a reservation counts this many times more.",
      ),
    reservation_ttl: duration
      .prefault('30m')
      .describe(
        'A reservation not settled by then (its instance died) is settled at its full amount: longer than any request runs.',
      ),
  })
  .describe('Budgets (see docs/governance.md): per project and per key, in the database.')

export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    log: logSchema.prefault({}),
    providers: z.array(providerSchema).default([]),
    models: z.array(modelSchema).default([]),
    keys: z
      .array(keySchema)
      .default([])
      .describe(
        'Gateway keys upserted at start (more are made with the admin API). With none anywhere, the gateway serves without auth, and only on loopback.',
      ),
    projects: z
      .array(projectSchema)
      .default([])
      .describe('Projects upserted at start, with their policies and budgets.'),
    storage: storageSchema.prefault({}),
    budgets: budgetsSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    cache: cacheSchema.prefault({}),
    admin: adminSchema.prefault({}),
    edge: edgeSchema.prefault({}),
    routing: routingSchema.prefault({}),
    router: routerSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const problem = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message })
    const providers = new Set<string>()
    config.providers.forEach((provider, i) => {
      if (providers.has(provider.id))
        problem(['providers', i, 'id'], `duplicate provider id "${provider.id}"`)
      providers.add(provider.id)
      if (provider.type !== 'openai') {
        if (provider.preset !== undefined)
          problem(['providers', i, 'preset'], 'presets are for type openai only')
        if (!provider.api_key && !provider.base_url) {
          problem(['providers', i, 'api_key'], `type ${provider.type} needs an api_key`)
        }
        return
      }
      if (provider.anthropic_version !== undefined) {
        problem(['providers', i, 'anthropic_version'], 'anthropic_version is for type anthropic only')
      }
      const preset = PRESETS[provider.preset ?? 'openai']
      if (!provider.base_url && !('baseUrl' in preset)) {
        problem(['providers', i, 'base_url'], `preset "${provider.preset}" needs a base_url`)
      }
      if ('deploymentPaths' in preset && !provider.api_version) {
        problem(['providers', i, 'api_version'], 'azure needs an api_version (e.g. 2024-10-21)')
      }
      // A named hosted preset always needs a key; a bare base_url may be a local server that needs none.
      if (preset.keyRequired && !provider.api_key && (provider.preset !== undefined || !provider.base_url)) {
        problem(['providers', i, 'api_key'], `preset "${provider.preset ?? 'openai'}" needs an api_key`)
      }
    })
    const names = new Set<string>()
    config.models.forEach((model, i) => {
      if (names.has(model.name)) problem(['models', i, 'name'], `duplicate model name "${model.name}"`)
      names.add(model.name)
      model.targets.forEach((target, j) => {
        const at = ['models', i, 'targets', j]
        if (target.use !== undefined) {
          if (target.provider !== undefined || target.model !== undefined) {
            problem([...at, 'use'], 'a target is either provider and model, or use')
          }
          return
        }
        if (target.provider === undefined || target.model === undefined) {
          problem(at, 'a target needs provider and model (or use: <model name>)')
        } else if (!providers.has(target.provider)) {
          problem([...at, 'provider'], `unknown provider "${target.provider}"`)
        }
      })
    })
    for (const { path, message } of useProblems(config.models)) problem(path, message)
    const { ttl } = config.cache
    if (ttl.default > ttl.max) problem(['cache', 'ttl', 'default'], 'longer than cache.ttl.max')
    for (const { path, message } of routingProblems(config as Config)) problem(path, message)
    const keys = new Set<string>()
    const keyNames = new Set<string>()
    config.keys.forEach((key, i) => {
      if (keys.has(key.key)) problem(['keys', i, 'key'], 'duplicate key')
      keys.add(key.key)
      if (key.name !== undefined) {
        if (keyNames.has(key.name)) problem(['keys', i, 'name'], `duplicate key name "${key.name}"`)
        keyNames.add(key.name)
      }
    })
    const projects = new Set<string>()
    config.projects.forEach((project, i) => {
      if (projects.has(project.id)) problem(['projects', i, 'id'], `duplicate project id "${project.id}"`)
      projects.add(project.id)
      for (const [label, model] of Object.entries(project.force ?? {})) {
        if (!names.has(model)) problem(['projects', i, 'force', label], `unknown model "${model}"`)
      }
    })
  })

/** `use` targets that name no model, or that loop back to the model using them. */
function useProblems(
  models: readonly z.output<typeof modelSchema>[],
): { path: (string | number)[]; message: string }[] {
  const byName = new Map(models.map((m) => [m.name, m]))
  const problems: { path: (string | number)[]; message: string }[] = []
  const reaches = (from: string, to: string, seen: Set<string>): boolean => {
    if (from === to) return true
    if (seen.has(from)) return false
    seen.add(from)
    return (byName.get(from)?.targets ?? []).some((t) => t.use !== undefined && reaches(t.use, to, seen))
  }
  models.forEach((model, i) => {
    model.targets.forEach((target, j) => {
      if (target.use === undefined) return
      const path = ['models', i, 'targets', j, 'use']
      if (!byName.has(target.use)) problems.push({ path, message: `unknown model "${target.use}"` })
      else if (reaches(target.use, model.name, new Set())) {
        problems.push({ path, message: `"${target.use}" leads back to "${model.name}": a loop` })
      }
    })
  })
  return problems
}

/** The validated configuration, with every default filled in. */
export type Config = z.output<typeof configSchema>
export type ConfigInput = z.input<typeof configSchema>
export type ProviderConfig = Config['providers'][number]
export type ModelConfig = Config['models'][number]
export type CacheConfig = Config['cache']
export type LimitsConfig = Config['limits']
export type LimitSet = z.output<typeof limitSetSchema>
export type CacheRule = z.output<typeof cacheRuleSchema>
export type RoutingConfig = z.output<typeof routingSchema>
export type RouterConfig = z.output<typeof routerSchema>
export type PriceConfig = z.output<typeof priceSchema>
export type ProjectConfig = z.output<typeof projectSchema>
export type EdgeConfigSection = z.output<typeof edgeSchema>
export type BudgetConfig = z.output<typeof budgetSchema>
