import type { Config } from '../../config/schema.js'
import { createGateway, type FetchHandler } from '../../core/gateway.js'
import type { HttpClient } from '../../core/http-client.js'
import type { ReadinessCheck } from '../../core/runtime.js'
import { edgeConfigFrom } from '../../edge/config.js'
import { edgeReplication } from '../../edge/replicate.js'
import type { Logger } from '../../telemetry/logger.js'
import { openCache } from './cache.js'
import { openGovernance } from './governance.js'
import { redisSharedHealth } from './health-redis.js'
import { undiciClient } from './http-client.js'
import { redisLimits } from './limits-redis.js'
import { jsonLogger } from './logger.js'
import { listen, type RunningServer } from './server.js'

export interface StartOptions {
  config: Config
  /** Overrides `server.host` / `server.port` (0 picks a free port). */
  host?: string
  port?: number
  logger?: Logger
  readiness?: ReadinessCheck[]
  /** Where `MERIDIAN_ENCRYPTION_KEY` is read (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>
}

export interface RunningGateway extends RunningServer {
  handler: FetchHandler
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host)
}

/**
 * The origin's composition root: the config, the governance database, an undici upstream client and a Node
 * HTTP server around the runtime-agnostic gateway. Refuses to serve without gateway keys anywhere but on
 * loopback.
 */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const { config } = options
  const host = options.host ?? config.server.host
  const port = options.port ?? config.server.port
  const logger = options.logger ?? jsonLogger(config.log.level)
  const http = undiciClient()
  const replication = edgeReplicationOf(config, http, logger)
  const governed = await openGovernance(config, logger, options.env ?? process.env, replication?.keys)
  if (governed.governance.state.keysByHash.size === 0 && !isLoopback(host)) {
    await governed.close()
    await http.close()
    throw new Error(
      `refusing to listen on ${host} without gateway keys: anyone could use your providers. ` +
        'Add keys to the config (or set MERIDIAN_KEY), or listen on 127.0.0.1.',
    )
  }
  const cache = openCache(config.cache)
  if (replication !== undefined) {
    cache.tiers.mirrors = [replication.cache]
    void replication.pushConfig(edgeConfigFrom(config))
  }
  const limits = config.limits.store.startsWith('redis')
    ? redisLimits({
        url: config.limits.store,
        timeoutMs: config.limits.timeout_ms,
        leaseMs: config.limits.lease,
        aheadMs: config.limits.prefetch,
      })
    : undefined
  const health = config.router.health.store.startsWith('redis')
    ? redisSharedHealth({
        url: config.router.health.store,
        onError: (err) =>
          logger.warn('health store failed; targets are judged by this instance alone', {
            error: err.message,
          }),
      })
    : undefined
  await Promise.all([
    cache.connected().catch((err: Error) => {
      logger.warn('cache source unreachable; serving without it until it answers', { error: err.message })
    }),
    limits?.ready().catch((err: Error) => {
      logger.warn('rate-limit store unreachable at start', { error: err.message })
    }),
  ])
  const handler = createGateway({
    config,
    http,
    logger,
    readiness: [
      ...governed.readiness,
      ...cache.readiness,
      ...(limits ? [{ name: 'limits', check: () => limits.ping() }] : []),
      ...(options.readiness ?? []),
    ],
    cache: cache.tiers,
    limits,
    health,
    governance: governed.governance,
    defer: setImmediate,
  })
  let server: RunningServer
  try {
    server = await listen(handler, host, port)
  } catch (err) {
    await cache.close()
    await limits?.close?.()
    await health?.close()
    await governed.close()
    throw err
  }
  return {
    ...server,
    handler,
    async close() {
      await server.close()
      await http.close()
      await cache.close()
      await limits?.close?.()
      await health?.close()
      await governed.close()
    },
  }
}

/** Pushes to the edge when the config names where (`edge.replicate`, `edge.kv_api`) and the secret is set. */
function edgeReplicationOf(config: Config, http: HttpClient, logger: Logger) {
  const { edge } = config
  if (edge.secret === undefined || (edge.replicate.length === 0 && edge.kv_api === undefined))
    return undefined
  return edgeReplication({
    urls: edge.replicate,
    secret: edge.secret,
    http,
    logger,
    kvApi: edge.kv_api,
    now: () => Date.now(),
  })
}
