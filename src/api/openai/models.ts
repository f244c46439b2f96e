import type { RequestContext } from '../../core/context.js'
import { jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import type { ResolvedModel } from '../../routing/models.js'
import { authorize } from './admit.js'

/**
 * The `GET /v1/models` body, built once: the configured model names in config order, then auto-routing's
 * aliases (`auto`, `auto:eco`, …) when it can route anything here.
 */
export function modelsListJson(
  models: ReadonlyMap<string, ResolvedModel>,
  created: number,
  autoAliases: readonly string[],
): string {
  const data = [...models.values()].map((m) => ({
    id: m.name,
    object: 'model',
    created,
    owned_by: m.targets[0]?.provider.id ?? 'meridian',
  }))
  for (const id of autoAliases)
    if (!models.has(id)) data.push({ id, object: 'model', created, owned_by: 'meridian' })
  return JSON.stringify({ object: 'list', data })
}

/** `GET /v1/models`. */
export async function handleModels(
  rt: Runtime,
  req: Request,
  ctx: RequestContext,
  body: string,
): Promise<Response> {
  const authorized = authorize(rt, req, ctx)
  if (authorized) await authorized
  return jsonResponse(rt, ctx, 200, body)
}
