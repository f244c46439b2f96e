import { CACHE_KEY_VERSION } from '../cache/fingerprint.js'
import type { CacheConfig, CacheRule, Config } from '../config/schema.js'
import type { Provider } from '../providers/provider.js'
import { createProvider } from '../providers/registry.js'
import type { Price } from '../routing/catalog.js'
import { createModelTable, type ResolvedModel } from '../routing/models.js'

/**
 * What the edge needs of the origin's configuration, and nothing else (no provider, no secret): enough to
 * compute a request's cache key exactly as the origin does, apply the cache policy, price a hit, and bound a
 * body. The origin derives it from its own config and pushes it to the edge (`/internal/replicate`); the edge
 * keeps it in KV, so it serves hits with the origin down.
 */
export interface EdgeConfig {
  version: 1
  /** `server.max_body`: a larger body is forwarded unread (the origin answers its 413). */
  maxBody: number
  /** The cache key's per-project generation, as the origin uses it. */
  keyVersion: number
  /** `limits.default_output_tokens`: what a tpm check reserves for a request without max_tokens. */
  defaultOutputTokens: number
  cache: CacheConfig
  /** Configured models by name: the target group the key binds, and the model's own cache rule. */
  models: Record<string, { labels: string[]; cache?: CacheRule }>
  /** Price per target label, for `x-meridian-saved` on a hit. */
  prices: Record<string, Price>
}

/** The edge's config from the origin's. */
export function edgeConfigOf(config: Config, models: ReadonlyMap<string, ResolvedModel>): EdgeConfig {
  const out: EdgeConfig = {
    version: 1,
    maxBody: config.server.max_body,
    keyVersion: CACHE_KEY_VERSION,
    defaultOutputTokens: config.limits.default_output_tokens,
    cache: config.cache,
    models: {},
    prices: {},
  }
  for (const model of models.values()) {
    out.models[model.name] =
      model.cache === undefined ? { labels: model.labels } : { labels: model.labels, cache: model.cache }
    for (const target of model.targets)
      if (target.price !== undefined) out.prices[target.label] = target.price
  }
  return out
}

/** The edge's config from the origin's alone (the model table built here), for an adapter that pushes it. */
export function edgeConfigFrom(config: Config): EdgeConfig {
  const providers = new Map<string, Provider>()
  for (const p of config.providers) providers.set(p.id, createProvider(p, config.models))
  return edgeConfigOf(config, createModelTable(config.models, providers))
}
