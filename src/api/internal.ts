import { UNAVAILABLE } from '../cache/engine.js'
import type { RequestContext } from '../core/context.js'
import { constantTimeEqual } from '../core/equal.js'
import { GatewayError } from '../core/errors.js'
import { jsonResponse } from '../core/respond.js'
import type { Runtime } from '../core/runtime.js'
import { SECRET_HEADER } from '../edge/assertion.js'
import { edgeUsageBatchSchema, ledgerEntryOfEdge } from '../edge/usage.js'
import { replicaKeyOf } from '../governance/governance.js'
import { readJsonBody, validate } from './openai/body.js'

/**
 * The origin's routes for its edge, under /internal, answering only to the shared edge secret (without one
 * configured they do not exist): a key's replica entry, a cache lookup that never calls a provider, the usage
 * of requests the edge answered itself, and the edge's config.
 */
function requireEdge(rt: Runtime, req: Request, ctx: RequestContext) {
  const secret = rt.config.edge.secret
  if (secret === undefined)
    throw new GatewayError('MERIDIAN_NOT_FOUND', `no route for ${req.method} ${ctx.path}`)
  const given = req.headers.get(SECRET_HEADER)
  if (given === null || !constantTimeEqual(given, secret)) {
    throw new GatewayError('MERIDIAN_UNAUTHORIZED', 'missing or invalid edge secret')
  }
}

function governance(rt: Runtime) {
  if (rt.governance === undefined)
    throw new GatewayError('MERIDIAN_NOT_FOUND', 'governance is not configured')
  return rt.governance
}

/** `GET /internal/keys/:hash`: a key's replica entry by its SHA-256, or 404. */
export async function handleKeyLookup(rt: Runtime, req: Request, ctx: RequestContext, hash: string) {
  requireEdge(rt, req, ctx)
  const gov = governance(rt)
  let key = gov.state.keysByHash.get(hash)
  if (key === undefined) {
    // A key made a moment ago on another instance.
    await gov.check()
    key = gov.state.keysByHash.get(hash)
  }
  if (key === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', 'no such key')
  return jsonResponse(rt, ctx, 200, JSON.stringify(replicaKeyOf(key)))
}

/** `GET /internal/cache/:key`: the stored answer under a cache key, or 404; never an upstream call. */
export async function handleCacheLookup(rt: Runtime, req: Request, ctx: RequestContext, key: string) {
  requireEdge(rt, req, ctx)
  if (rt.cache === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', 'the cache is not configured')
  const found = await rt.cache.lookup(key)
  if (found === UNAVAILABLE)
    throw new GatewayError('MERIDIAN_CACHE_UNAVAILABLE', 'the cache cannot be read right now')
  if (found === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', 'no such entry')
  return jsonResponse(rt, ctx, 200, JSON.stringify(found.entry))
}

/** `POST /internal/usage`: ledger rows for requests the edge answered; idempotent by each record's id. */
export async function handleUsage(rt: Runtime, req: Request, ctx: RequestContext) {
  requireEdge(rt, req, ctx)
  const gov = governance(rt)
  const body = await readJsonBody(req, rt.config.server.max_body)
  validate(edgeUsageBatchSchema, body)
  const priceOf = (label: string) => rt.targets.get(label)?.price
  for (const record of body.records) gov.ledger.record(ledgerEntryOfEdge(record, priceOf))
  return jsonResponse(rt, ctx, 200, JSON.stringify({ accepted: body.records.length }))
}

/** `GET /internal/edge-config`: what the edge needs of this config (see `edgeConfigOf`). */
export function handleEdgeConfig(rt: Runtime, req: Request, ctx: RequestContext, config: string) {
  requireEdge(rt, req, ctx)
  return jsonResponse(rt, ctx, 200, config)
}
