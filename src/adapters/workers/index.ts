/**
 * The edge's composition root on Cloudflare Workers: KV for the cache and key replicas, a Durable Object
 * for rate limits, fetch to the origins; everything that decides what happens to a request is the core's
 * (`src/edge`, and through it the origin's own cache key, policy, auth and limit code).
 */
import { createCacheEngine } from '../../cache/engine.js'
import { layeredTier } from '../../cache/layered.js'
import { memoryTier } from '../../cache/memory.js'
import { constantTimeEqual } from '../../core/equal.js'
import { GatewayError } from '../../core/errors.js'
import { assertionKey, SECRET_HEADER } from '../../edge/assertion.js'
import type { EdgeConfig } from '../../edge/config.js'
import { createEdge, type WaitUntil } from '../../edge/edge.js'
import { EdgeKeys } from '../../edge/keys.js'
import { Origins } from '../../edge/origins.js'
import type { ReplicateBody } from '../../edge/replicate.js'
import { UsageBatcher } from '../../edge/usage.js'
import type { ReplicaKey } from '../../governance/governance.js'
import { createLimiter, type LimitRules, type ScopeRules, scopeRules } from '../../limits/limiter.js'
import { CONFIG_KEY, kvCacheTier, kvConfig, kvKeyReplica, kvTtl, kvUsageSpill } from './kv.js'
import type { LimitsDurableObject } from './limits.do.js'
import { durableObjectLimits } from './limits-client.js'

export { LimitsDurableObject } from './limits.do.js'

export interface Env {
  /** The cache replica. */
  CACHE: KVNamespace
  /** The key replica, the edge's config, spilled usage. */
  KEYS: KVNamespace
  LIMITS: DurableObjectNamespace<LimitsDurableObject>
  /** The origins, comma-separated, in order of preference. */
  ORIGIN_URL: string
  /** Shared with the origin (`edge.secret`). */
  EDGE_SECRET: string
}

/** Memory an isolate may keep recent cache entries in (Workers give an isolate 128 MB). */
const ISOLATE_CACHE_BYTES = 16 * 1024 * 1024

/** How long an isolate keeps the config it read before reading KV again. */
const CONFIG_MS = 30_000

type Handler = (req: Request, waitUntil: WaitUntil) => Promise<Response>
const built = new WeakMap<Env, Promise<Handler>>()

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (new URL(req.url).pathname === '/internal/replicate') return replicate(req, env)
    let edge = built.get(env)
    if (edge === undefined) {
      edge = build(env)
      built.set(env, edge)
    }
    return (await edge)(req, (work) => ctx.waitUntil(work))
  },
} satisfies ExportedHandler<Env>

async function build(env: Env): Promise<Handler> {
  if (!env.EDGE_SECRET || !env.ORIGIN_URL) throw new Error('the edge needs ORIGIN_URL and EDGE_SECRET')
  const now = () => Date.now()
  const origins = new Origins({
    urls: env.ORIGIN_URL.split(',')
      .map((u) => u.trim())
      .filter(Boolean),
    // Called bare: workerd refuses a fetch called as another object's method.
    fetch: (request) => fetch(request),
    now,
  })
  const internal = (path: string, init: { method?: string; body?: string } = {}) =>
    origins.send(
      (origin, signal) =>
        new Request(origin + path, {
          method: init.method ?? 'GET',
          headers: { [SECRET_HEADER]: env.EDGE_SECRET, 'content-type': 'application/json' },
          body: init.body,
          signal,
        }),
    )
  const json = async <T>(res: Response): Promise<T | undefined> => {
    if (res.status === 404) {
      await res.body?.cancel()
      return undefined
    }
    if (!res.ok) {
      await res.body?.cancel()
      throw new Error(`origin answered ${res.status}`)
    }
    return (await res.json()) as T
  }

  let config: { value: EdgeConfig; until: number } | undefined
  const readConfig = async (): Promise<EdgeConfig> => {
    if (config !== undefined && config.until > now()) return config.value
    let value = await kvConfig(env.KEYS).catch(() => undefined)
    if (value === undefined) {
      value = await json<EdgeConfig>(await internal('/internal/edge-config'))
      if (value === undefined)
        throw new GatewayError('MERIDIAN_NOT_READY', 'the edge has no config from its origin yet')
      await env.KEYS.put(CONFIG_KEY, JSON.stringify(value))
    }
    config = { value, until: now() + CONFIG_MS }
    return value
  }

  const rules: { keys: Map<string, ScopeRules>; projects: Map<string, ScopeRules> } = {
    keys: new Map(),
    projects: new Map(),
  }
  const learn = (map: Map<string, ScopeRules>, id: string, scope: string, set: ReplicaKey['limits']) => {
    if (set === null) map.delete(id)
    else map.set(id, scopeRules(scope, set))
  }
  const spill = kvUsageSpill(env.KEYS)

  return createEdge({
    config: readConfig,
    keys: new EdgeKeys({
      replica: kvKeyReplica(env.KEYS),
      lookup: async (hash) => json<ReplicaKey>(await internal(`/internal/keys/${hash}`)),
      now,
    }),
    limiter: createLimiter({
      store: durableObjectLimits(env.LIMITS),
      rules: (): LimitRules => rules,
      onStoreFailure: 'open',
    }),
    learnLimits: ({ entry }) => {
      learn(rules.keys, entry.keyId, `key:${entry.keyId}`, entry.limits)
      learn(rules.projects, entry.project, `project:${entry.project}`, entry.projectLimits)
    },
    cache: createCacheEngine({
      // Answers this isolate served lately are read from its memory before KV.
      replica: layeredTier(memoryTier({ maxBytes: ISOLATE_CACHE_BYTES }), kvCacheTier(env.CACHE, now)),
      source: {
        name: 'origin',
        get: async (key) => json(await internal(`/internal/cache/${encodeURIComponent(key)}`)),
        // The origin stores its own answers (and pushes them here): the edge never writes the source.
        set: () => undefined,
        delete: () => false,
        purgeProject: () => 0,
      },
    }),
    origins,
    usage: new UsageBatcher({
      send: async (records) => {
        const res = await internal('/internal/usage', { method: 'POST', body: JSON.stringify({ records }) })
        await res.body?.cancel()
        if (!res.ok) throw new Error(`origin answered ${res.status}`)
      },
      spill: spill.spill,
      unspill: spill.unspill,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now,
    }),
    assertion: await assertionKey(env.EDGE_SECRET),
    clock: { now: () => performance.now(), epoch: now },
  })
}

/** `POST /internal/replicate`: the origin's pushes (cache entries, key changes, the config) written to KV. */
async function replicate(req: Request, env: Env): Promise<Response> {
  const given = req.headers.get(SECRET_HEADER)
  if (
    req.method !== 'POST' ||
    given === null ||
    !env.EDGE_SECRET ||
    !constantTimeEqual(given, env.EDGE_SECRET)
  ) {
    const error = new GatewayError('MERIDIAN_UNAUTHORIZED', 'missing or invalid edge secret')
    return new Response(JSON.stringify(error.toJSON()), {
      status: 401,
      headers: { 'content-type': 'application/json' },
    })
  }
  let body: ReplicateBody
  try {
    body = (await req.json()) as ReplicateBody
  } catch {
    const error = new GatewayError('MERIDIAN_INVALID_JSON', 'the replication body is not JSON')
    return new Response(JSON.stringify(error.toJSON()), {
      status: 400,
      headers: { 'content-type': 'application/json' },
    })
  }
  const now = Date.now()
  const writes: Promise<unknown>[] = []
  for (const { key, entry } of body.cache ?? []) {
    if (entry.expiresAt > now) {
      writes.push(env.CACHE.put(key, JSON.stringify(entry), { expirationTtl: kvTtl(entry.expiresAt, now) }))
    }
  }
  const keys = kvKeyReplica(env.KEYS)
  for (const key of body.keys?.put ?? []) writes.push(keys.put(key.hash, key))
  for (const hash of body.keys?.remove ?? []) writes.push(env.KEYS.delete(`key:${hash}`))
  if (body.config !== undefined) writes.push(env.KEYS.put(CONFIG_KEY, JSON.stringify(body.config)))
  await Promise.all(writes)
  return new Response(JSON.stringify({ written: writes.length }), {
    headers: { 'content-type': 'application/json' },
  })
}
