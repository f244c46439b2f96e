import { z } from 'zod'
import { limitSetSchema } from '../../config/schema.js'
import { PERIODS } from '../../governance/budgets.js'
import { policySchema } from '../../governance/policy.js'
import type { BudgetRecord, KeyRecord, ProjectRecord, ProviderKeyRecord } from '../../governance/store.js'

/** The admin API's wire shapes: snake_case, times as ISO 8601, money in USD. */

export const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use letters, digits, ".", "_" and "-"')
const time = z.string().describe('ISO 8601')
const nullableTime = time.nullable()

export const idParams = z.object({ id })

export const projectSchema = z
  .object({
    id,
    name: z.string().nullable(),
    policy: policySchema,
    limits: limitSetSchema.nullable(),
    log_bodies: z.boolean(),
    source: z
      .enum(['config', 'admin'])
      .describe('`config`: declared in the config file (upserted at start).'),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Project' })

export const keySchema = z
  .object({
    id: z.string(),
    project: z.string(),
    name: z.string().nullable(),
    prefix: z
      .string()
      .describe('The start of the key, to tell keys apart; the key itself is never shown again.'),
    models: z.array(z.string()).nullable(),
    limits: limitSetSchema.nullable(),
    status: z.enum(['active', 'revoked', 'expired']),
    source: z.enum(['config', 'admin']),
    created_at: time,
    expires_at: nullableTime,
    revoked_at: nullableTime,
  })
  .meta({ id: 'Key' })

export const createdKeySchema = keySchema
  .extend({
    key: z.string().describe('The key: shown once, here, and never again (only its hash is stored).'),
  })
  .meta({ id: 'CreatedKey' })

export const providerKeySchema = z
  .object({
    id: z.string(),
    project: z.string(),
    provider: z.string(),
    last4: z.string().describe('The last four characters: all that is ever shown of the key.'),
    created_at: time,
  })
  .meta({ id: 'ProviderKey' })

export const budgetSchema = z
  .object({
    id: z.string(),
    scope: z.enum(['project', 'key']),
    scope_id: z.string(),
    period: z.enum(PERIODS),
    usd: z.number(),
    warn_at: z.number(),
    source: z.enum(['config', 'admin']),
    created_at: time,
    updated_at: time,
    period_start: nullableTime.describe('The current period (null for `total`).'),
    resets_at: nullableTime,
    spent_usd: z.number(),
    reserved_usd: z.number().describe('Held by requests in flight.'),
  })
  .meta({ id: 'Budget' })

const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

export function projectOut(p: ProjectRecord): z.output<typeof projectSchema> {
  return {
    id: p.id,
    name: p.name,
    policy: p.policy,
    limits: p.limits,
    log_bodies: p.logBodies,
    source: p.source,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
  }
}

export function keyOut(k: KeyRecord, now: number): z.output<typeof keySchema> {
  const status =
    k.revokedAt !== null && k.revokedAt <= now
      ? 'revoked'
      : k.expiresAt !== null && k.expiresAt <= now
        ? 'expired'
        : 'active'
  return {
    id: k.id,
    project: k.projectId,
    name: k.name,
    prefix: k.prefix,
    models: k.models,
    limits: k.limits,
    status,
    source: k.source,
    created_at: iso(k.createdAt),
    expires_at: isoOrNull(k.expiresAt),
    revoked_at: isoOrNull(k.revokedAt),
  }
}

export function providerKeyOut(k: ProviderKeyRecord): z.output<typeof providerKeySchema> {
  return {
    id: k.id,
    project: k.projectId,
    provider: k.provider,
    last4: k.last4,
    created_at: iso(k.createdAt),
  }
}

export function budgetOut(
  b: BudgetRecord,
  usage: { spent: number; reserved: number; start: number; ends: number },
): z.output<typeof budgetSchema> {
  return {
    id: b.id,
    scope: b.scope,
    scope_id: b.scopeId,
    period: b.period,
    usd: b.limit / 1e9,
    warn_at: b.warnAt,
    source: b.source,
    created_at: iso(b.createdAt),
    updated_at: iso(b.updatedAt),
    period_start: b.period === 'total' ? null : iso(usage.start),
    resets_at: Number.isFinite(usage.ends) ? iso(usage.ends) : null,
    spent_usd: usage.spent / 1e9,
    reserved_usd: usage.reserved / 1e9,
  }
}

/** A point in time given as ISO 8601 (`2026-12-01`, `2026-12-01T10:00:00Z`), as epoch ms. */
export const instant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date or time')
  .transform((s) => Date.parse(s))
