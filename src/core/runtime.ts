import type { Config } from '../config/schema.js'
import type { KeyResolver } from '../pipeline/auth.js'
import type { UpstreamDeps } from '../pipeline/upstream.js'
import type { ResolvedModel } from '../routing/models.js'
import type { Logger } from '../telemetry/logger.js'
import type { Clock } from './clock.js'

/** A dependency whose reachability `GET /ready` reports (a store, a queue). */
export interface ReadinessCheck {
  name: string
  check(): Promise<void>
}

/** Everything a request handler needs, built once by createGateway from its deps and the config. */
export interface Runtime extends UpstreamDeps {
  config: Config
  clock: Clock
  logger: Logger
  keys: KeyResolver | undefined
  models: ReadonlyMap<string, ResolvedModel>
  readiness: readonly ReadinessCheck[]
}
