import { z } from 'zod'
import { DURATION_PATTERN, parseDuration } from '../../config/duration.js'
import { limitSetSchema } from '../../config/schema.js'
import { GatewayError } from '../../core/errors.js'
import { auditEvent, type Governance } from '../../governance/governance.js'
import { hashKey, newKey } from '../../governance/keys.js'
import type { KeyRecord } from '../../governance/store.js'
import { projectOr404 } from './projects.js'
import { adminRoute } from './route.js'
import { createdKeySchema, id, idParams, instant, keyOut, keySchema } from './schemas.js'

async function keyOr404(gov: Governance, keyId: string): Promise<KeyRecord> {
  const key = await gov.store.getKey(keyId)
  if (key === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', `key "${keyId}" does not exist`)
  return key
}

const models = z
  .array(
    z
      .string()
      .min(1)
      .regex(/^[^*]+\*?$|^\*$/, 'a model name, or a prefix ending in *'),
  )
  .nullable()
  .describe('Only these models (`prefix*` matches a prefix), within what the project allows; null: any.')

const expiresIn = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as 12h or 30d')
  .transform(parseDuration)

export const keyRoutes = [
  adminRoute({
    method: 'get',
    path: '/admin/keys',
    summary: 'List gateway keys (never the keys themselves)',
    tag: 'keys',
    query: z.object({ project: id.optional() }),
    response: {
      status: 200,
      schema: z.object({ data: z.array(keySchema) }),
      description: 'Keys, oldest first',
    },
    async handle({ gov, query }) {
      const now = gov.clock.epoch()
      return { json: { data: (await gov.store.listKeys(query.project)).map((k) => keyOut(k, now)) } }
    },
  }),

  adminRoute({
    method: 'post',
    path: '/admin/keys',
    summary: 'Create a gateway key: the answer is the only time the key is shown',
    tag: 'keys',
    body: z.object({
      project: id,
      name: z.string().max(128).optional(),
      models: models.optional(),
      limits: limitSetSchema.optional(),
      expires_at: instant.optional().describe('When it stops working (ISO 8601).'),
      expires_in: expiresIn.optional().describe('Or: how long it works, e.g. 30d.'),
    }),
    response: { status: 201, schema: createdKeySchema, description: 'The key, shown once' },
    async handle({ gov, body, actor }) {
      await projectOr404(gov, body.project)
      const now = gov.clock.epoch()
      const made = newKey()
      const expiresAt = body.expires_at ?? (body.expires_in === undefined ? null : now + body.expires_in)
      if (expiresAt !== null && expiresAt <= now) {
        throw new GatewayError('MERIDIAN_INVALID_REQUEST', 'expires_at is in the past', {
          param: 'expires_at',
        })
      }
      const record: KeyRecord = {
        id: made.id,
        projectId: body.project,
        name: body.name ?? null,
        prefix: made.prefix,
        hash: await hashKey(made.key, undefined),
        models: body.models ?? null,
        limits: body.limits ?? null,
        source: 'admin',
        createdAt: now,
        expiresAt,
        revokedAt: null,
      }
      await gov.store.putKey(
        record,
        auditEvent(
          {
            actor,
            action: 'key.create',
            project: record.projectId,
            target: record.id,
            reason: null,
            details: { name: record.name, models: record.models, expires_at: expiresAt },
          },
          now,
        ),
      )
      await gov.reload()
      return { status: 201, json: { ...keyOut(record, now), key: made.key } }
    },
  }),

  adminRoute({
    method: 'get',
    path: '/admin/keys/{id}',
    summary: 'Get a gateway key',
    tag: 'keys',
    params: idParams,
    response: { status: 200, schema: keySchema, description: 'The key (never the key itself)' },
    async handle({ gov, params }) {
      return { json: keyOut(await keyOr404(gov, params.id), gov.clock.epoch()) }
    },
  }),

  adminRoute({
    method: 'patch',
    path: '/admin/keys/{id}',
    summary: "Change a key's name, models, rate limits or expiry",
    tag: 'keys',
    params: idParams,
    body: z.object({
      name: z.string().max(128).nullable().optional(),
      models: models.optional(),
      limits: limitSetSchema.nullable().optional(),
      expires_at: instant.nullable().optional(),
    }),
    response: { status: 200, schema: keySchema, description: 'The key as changed' },
    async handle({ gov, params, body, actor }) {
      const current = await keyOr404(gov, params.id)
      const now = gov.clock.epoch()
      const next: KeyRecord = {
        ...current,
        name: body.name === undefined ? current.name : body.name,
        models: body.models === undefined ? current.models : body.models,
        limits: body.limits === undefined ? current.limits : body.limits,
        expiresAt: body.expires_at === undefined ? current.expiresAt : body.expires_at,
      }
      await gov.store.putKey(
        next,
        auditEvent(
          {
            actor,
            action: 'key.update',
            project: next.projectId,
            target: next.id,
            reason: null,
            details: body,
          },
          now,
        ),
      )
      await gov.reload()
      return { json: keyOut(next, now) }
    },
  }),

  adminRoute({
    method: 'post',
    path: '/admin/keys/{id}/revoke',
    summary: 'Revoke a key: refused at once by this instance, within `storage.refresh` by the others',
    tag: 'keys',
    params: idParams,
    body: z.object({ reason: z.string().max(500).optional() }).optional(),
    response: { status: 200, schema: keySchema, description: 'The revoked key' },
    async handle({ gov, params, body, actor }) {
      const current = await keyOr404(gov, params.id)
      const now = gov.clock.epoch()
      const next = { ...current, revokedAt: current.revokedAt ?? now }
      await gov.store.putKey(
        next,
        auditEvent(
          {
            actor,
            action: 'key.revoke',
            project: next.projectId,
            target: next.id,
            reason: body?.reason ?? null,
            details: null,
          },
          now,
        ),
      )
      await gov.reload()
      return { json: keyOut(next, now) }
    },
  }),
]
