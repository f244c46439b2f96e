import type { CacheEntry, CacheTier } from '../cache/tier.js'
import type { HttpClient } from '../core/http-client.js'
import type { KeyReplica, ReplicaKey } from '../governance/governance.js'
import type { Logger } from '../telemetry/logger.js'
import { SECRET_HEADER } from './assertion.js'
import type { EdgeConfig } from './config.js'

/** What the origin pushes to an edge's `/internal/replicate` route; every part optional. */
export interface ReplicateBody {
  cache?: { key: string; entry: CacheEntry }[]
  keys?: { put: ReplicaKey[]; remove: string[] }
  config?: EdgeConfig
}

/** KV's shortest expiry: an entry due sooner is written with this one (it still expires by `expiresAt`). */
export const KV_MIN_TTL_S = 60

export interface ReplicationOptions {
  /** The edge workers' origins (`https://edge.example.com`): each gets every push. */
  urls: readonly string[]
  secret: string
  http: HttpClient
  logger: Logger
  /** Also write cache entries into the edge's KV through Cloudflare's REST API. */
  kvApi?: { base_url: string; account_id: string; cache_namespace: string; token: string }
  now(): number
}

export interface EdgeReplication {
  /** A write-only cache tier: every stored answer goes to the edge (see `CacheEngineOptions.mirrors`). */
  cache: CacheTier
  /** The key replica governance pushes key changes to. */
  keys: KeyReplica
  pushConfig(config: EdgeConfig): Promise<void>
}

const TIMEOUT_MS = 10_000

/**
 * The origin's side of replication: new cache entries, key changes and the edge's config, pushed to each
 * edge worker's replication route (which writes its KV), and cache entries optionally straight into KV
 * through Cloudflare's REST API. Fire-and-forget: a push that fails is logged and lost, which costs the edge
 * only a read-through later (KV is a replica; the origin's stores are the truth).
 */
export function edgeReplication(options: ReplicationOptions): EdgeReplication {
  const warned = new Set<string>()
  const warn = (where: string, why: string) => {
    // One line per destination until it works again: an edge that is down is not a log flood.
    if (warned.has(where)) return
    warned.add(where)
    options.logger.warn('edge replication failed; the edge reads through until it answers', {
      edge: where,
      error: why,
    })
  }
  const send = async (
    origin: string,
    path: string,
    method: 'POST' | 'PUT',
    headers: Record<string, string>,
    body: string,
  ) => {
    const url = new URL(path, origin)
    const res = await options.http.request(
      { origin: url.origin, path: url.pathname + url.search, method, headers, body },
      { signal: AbortSignal.timeout(TIMEOUT_MS), timeoutMs: TIMEOUT_MS },
    )
    const status = res.status
    res.discard()
    if (status < 200 || status >= 300) throw new Error(`status ${status}`)
  }
  const push = async (body: ReplicateBody) => {
    const text = JSON.stringify(body)
    await Promise.all(
      options.urls.map((edge) =>
        send(
          edge,
          '/internal/replicate',
          'POST',
          { 'content-type': 'application/json', [SECRET_HEADER]: options.secret },
          text,
        ).then(
          () => void warned.delete(edge),
          (err: Error) => warn(edge, err.message),
        ),
      ),
    )
  }
  const kv = options.kvApi
  const kvPut = async (key: string, entry: CacheEntry) => {
    if (kv === undefined) return
    const ttl = Math.max(KV_MIN_TTL_S, Math.ceil((entry.expiresAt - options.now()) / 1000))
    const path = `${new URL(kv.base_url).pathname.replace(/\/$/, '')}/accounts/${encodeURIComponent(kv.account_id)}/storage/kv/namespaces/${encodeURIComponent(kv.cache_namespace)}/values/${encodeURIComponent(key)}?expiration_ttl=${ttl}`
    await send(
      new URL(kv.base_url).origin,
      path,
      'PUT',
      { authorization: `Bearer ${kv.token}`, 'content-type': 'application/json' },
      JSON.stringify(entry),
    ).then(
      () => void warned.delete('kv-api'),
      (err: Error) => warn('kv-api', err.message),
    )
  }
  return {
    cache: {
      name: 'edge',
      get: () => undefined,
      async set(key, entry) {
        await Promise.all([push({ cache: [{ key, entry }] }), kvPut(key, entry)])
      },
      delete: () => false,
      purgeProject: () => 0,
    },
    keys: { push: (changes) => push({ keys: changes }) },
    pushConfig: (config) => push({ config }),
  }
}
