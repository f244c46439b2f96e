import { z } from 'zod'
import { GatewayError } from '../../core/errors.js'
import { toUsd } from '../../governance/money.js'
import { USAGE_GROUPS, type UsageRow } from '../../governance/store.js'
import { adminRoute } from './route.js'
import { id, instant } from './schemas.js'

const usageRow = z.object({
  group: z
    .string()
    .nullable()
    .describe('The project, key id, model, tag value or day; null: none (e.g. untagged).'),
  requests: z.number(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  cost_usd: z.number(),
  saved_usd: z.number(),
})

const usageSchema = z
  .object({
    by: z.enum(USAGE_GROUPS),
    tag: z.string().nullable(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    rows: z.array(usageRow),
    total: usageRow.omit({ group: true }),
  })
  .meta({ id: 'Usage' })

const auditSchema = z
  .object({
    id: z.string(),
    ts: z.string(),
    actor: z.string(),
    action: z.string(),
    project: z.string().nullable(),
    target: z.string().nullable(),
    reason: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEvent' })

const limit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback).describe(`At most ${max}.`)

function usageJson(row: UsageRow) {
  return {
    group: row.group,
    requests: row.requests,
    tokens_in: row.tokens_in,
    tokens_out: row.tokens_out,
    cost_usd: toUsd(row.cost_nusd),
    saved_usd: toUsd(row.saved_nusd),
  }
}

/** A CSV field: quoted when it holds a comma, quote or newline; a leading =+-@ is defused for spreadsheets. */
function field(value: unknown): string {
  if (value === null || value === undefined) return ''
  let text = String(value)
  if (/^[=+\-@]/.test(text) && typeof value === 'string') text = `'${text}`
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export const reportRoutes = [
  adminRoute({
    method: 'get',
    path: '/admin/usage',
    summary: 'Usage and cost grouped by project, key, model, tag or day (`format=csv` for a CSV file)',
    tag: 'usage',
    query: z.object({
      by: z.enum(USAGE_GROUPS).default('project'),
      tag: z.string().min(1).max(64).optional().describe('With `by=tag`: the tag key (e.g. feature).'),
      project: id.optional(),
      key: id.optional(),
      from: instant.optional(),
      to: instant.optional(),
      format: z.enum(['json', 'csv']).default('json'),
    }),
    response: { status: 200, schema: usageSchema, description: 'Rows by group, and their total', csv: true },
    async handle({ gov, query }) {
      if (query.by === 'tag' && query.tag === undefined) {
        throw new GatewayError('MERIDIAN_INVALID_REQUEST', 'by=tag needs tag=<key> (e.g. tag=feature)', {
          param: 'tag',
        })
      }
      // Flushed first, so a report includes every request answered before it was asked for.
      await gov.ledger.flush().catch(() => {})
      const rows = await gov.store.usage(query)
      const total = rows.reduce(
        (t, r) => ({
          requests: t.requests + r.requests,
          tokens_in: t.tokens_in + r.tokens_in,
          tokens_out: t.tokens_out + r.tokens_out,
          cost_nusd: t.cost_nusd + r.cost_nusd,
          saved_nusd: t.saved_nusd + r.saved_nusd,
        }),
        { requests: 0, tokens_in: 0, tokens_out: 0, cost_nusd: 0, saved_nusd: 0 },
      )
      if (query.format === 'csv') {
        const head = [
          query.by === 'tag' ? `tag:${query.tag}` : query.by,
          'requests',
          'tokens_in',
          'tokens_out',
          'cost_usd',
          'saved_usd',
        ]
        const lines = [head.join(',')]
        for (const r of rows.map(usageJson)) {
          lines.push(
            [r.group, r.requests, r.tokens_in, r.tokens_out, r.cost_usd, r.saved_usd].map(field).join(','),
          )
        }
        return { csv: `${lines.join('\n')}\n`, filename: `meridian-usage-by-${query.by}.csv` }
      }
      const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
      const { group: _group, ...totals } = usageJson({ group: null, ...total })
      return {
        json: {
          by: query.by,
          tag: query.tag ?? null,
          from: iso(query.from),
          to: iso(query.to),
          rows: rows.map(usageJson),
          total: totals,
        },
      }
    },
  }),

  adminRoute({
    method: 'get',
    path: '/admin/audit',
    summary:
      'The audit log, newest first: admin changes with their actor, denials, overrides, budget warnings',
    tag: 'audit',
    query: z.object({
      project: id.optional(),
      action: z.string().max(64).optional(),
      before: instant.optional().describe('Events before this time (to page back).'),
      limit: limit(1000, 100),
    }),
    response: { status: 200, schema: z.object({ data: z.array(auditSchema) }), description: 'Events' },
    async handle({ gov, query }) {
      await gov.ledger.flush().catch(() => {})
      const events = await gov.store.auditLog(query)
      return { json: { data: events.map((e) => ({ ...e, ts: new Date(e.ts).toISOString() })) } }
    },
  }),

  adminRoute({
    method: 'get',
    path: '/admin/ledger',
    summary: 'Ledger rows: one per request, and one per extra upstream attempt (linked by parent_id)',
    tag: 'usage',
    query: z.object({
      request_id: z.string().max(128).optional(),
      project: id.optional(),
      from: instant.optional(),
      limit: limit(10_000, 100),
    }),
    response: {
      status: 200,
      schema: z.object({ data: z.array(z.record(z.string(), z.unknown())) }),
      description: 'Rows, oldest first (costs in nano-USD: `cost_nusd`)',
    },
    async handle({ gov, query }) {
      await gov.ledger.flush().catch(() => {})
      const { request_id: requestId, ...rest } = query
      return { json: { data: await gov.store.ledger({ ...rest, requestId }) } }
    },
  }),
]
