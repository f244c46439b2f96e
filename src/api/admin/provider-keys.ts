import { z } from 'zod'
import { GatewayError } from '../../core/errors.js'
import type { Runtime } from '../../core/runtime.js'
import { auditEvent } from '../../governance/governance.js'
import { newId } from '../../governance/keys.js'
import { providerWithKey } from '../../providers/registry.js'
import { projectOr404 } from './projects.js'
import { adminRoute } from './route.js'
import { id, idParams, providerKeyOut, providerKeySchema } from './schemas.js'

const VERIFY_TIMEOUT_MS = 10_000

/**
 * A minimal live call with the key (the provider's models list): a key the provider refuses is never saved.
 * Throws a 400 when the provider refuses it, a 502 when it cannot say.
 */
async function verify(rt: Runtime, providerId: string, key: string): Promise<void> {
  const provider = providerWithKey(rt.config)(providerId, key)
  if (provider === undefined) {
    throw new GatewayError('MERIDIAN_INVALID_REQUEST', `no provider "${providerId}" is configured`, {
      param: 'provider',
    })
  }
  if (provider.probeRequest === undefined) {
    throw new GatewayError('MERIDIAN_INVALID_REQUEST', `keys of provider "${providerId}" cannot be checked`, {
      param: 'provider',
    })
  }
  let status: number
  try {
    const res = await rt.http.request(provider.probeRequest(), {
      signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
      timeoutMs: VERIFY_TIMEOUT_MS,
    })
    status = res.status
    res.discard()
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new GatewayError(
      'MERIDIAN_UPSTREAM_UNREACHABLE',
      `could not check the key with ${providerId}: ${rt.scrub(why).replaceAll(key, '[REDACTED]')}`,
    )
  }
  if (status === 401 || status === 403 || status === 400) {
    throw new GatewayError(
      'MERIDIAN_INVALID_REQUEST',
      `${providerId} refused this key (status ${status}); it was not saved`,
      { param: 'key' },
    )
  }
  if (status < 200 || status >= 300) {
    throw new GatewayError(
      'MERIDIAN_UPSTREAM_ERROR',
      `could not check the key: ${providerId} answered ${status}; it was not saved`,
    )
  }
}

export const providerKeyRoutes = [
  adminRoute({
    method: 'get',
    path: '/admin/projects/{id}/provider-keys',
    summary: "A project's own provider keys (their last four characters)",
    tag: 'provider keys',
    params: idParams,
    response: {
      status: 200,
      schema: z.object({ data: z.array(providerKeySchema) }),
      description: 'The keys',
    },
    async handle({ gov, params }) {
      await projectOr404(gov, params.id)
      return { json: { data: (await gov.store.listProviderKeys(params.id)).map(providerKeyOut) } }
    },
  }),

  adminRoute({
    method: 'post',
    path: '/admin/projects/{id}/provider-keys',
    summary:
      "Bring a provider key: checked with a live call, stored encrypted, used for the project's requests to that provider instead of the gateway's key (and the project then reaches only providers it has keys for)",
    tag: 'provider keys',
    params: idParams,
    body: z.object({
      provider: id.describe('A provider id of the config.'),
      key: z
        .string()
        .min(8)
        .max(4096)
        .describe('The API key; never shown again, only its last four characters.'),
    }),
    response: { status: 201, schema: providerKeySchema, description: 'The stored key' },
    async handle({ gov, rt, params, body, actor }) {
      await projectOr404(gov, params.id)
      if (gov.box === undefined) {
        throw new GatewayError(
          'MERIDIAN_INVALID_REQUEST',
          'this gateway has no MERIDIAN_ENCRYPTION_KEY, so it cannot store provider keys (openssl rand -hex 32)',
        )
      }
      await verify(rt, body.provider, body.key)
      const now = gov.clock.epoch()
      const record = {
        id: newId('pk'),
        projectId: params.id,
        provider: body.provider,
        ciphertext: await gov.box.seal(body.key),
        last4: body.key.slice(-4),
        createdAt: now,
      }
      await gov.store.putProviderKey(
        record,
        auditEvent(
          {
            actor,
            action: 'provider_key.put',
            project: params.id,
            target: record.id,
            reason: null,
            details: { provider: body.provider, last4: record.last4 },
          },
          now,
        ),
      )
      await gov.reload()
      return { status: 201, json: providerKeyOut(record) }
    },
  }),

  adminRoute({
    method: 'delete',
    path: '/admin/projects/{id}/provider-keys/{provider}',
    summary: "Remove a project's key for a provider",
    tag: 'provider keys',
    params: z.object({ id, provider: id }),
    response: { status: 200, schema: z.object({ deleted: z.boolean() }), description: 'Whether it existed' },
    async handle({ gov, params, actor }) {
      const now = gov.clock.epoch()
      const deleted = await gov.store.deleteProviderKey(
        params.id,
        params.provider,
        auditEvent(
          {
            actor,
            action: 'provider_key.delete',
            project: params.id,
            target: params.provider,
            reason: null,
            details: null,
          },
          now,
        ),
      )
      if (!deleted) {
        throw new GatewayError(
          'MERIDIAN_NOT_FOUND',
          `project "${params.id}" has no key for provider "${params.provider}"`,
        )
      }
      await gov.reload()
      return { json: { deleted } }
    },
  }),
]
