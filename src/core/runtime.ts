import type { CacheEngine } from '../cache/engine.js'
import type { Flights } from '../cache/flight.js'
import type { CacheRule, Config } from '../config/schema.js'
import type { Governance } from '../governance/governance.js'
import type { Limiter } from '../limits/limiter.js'
import type { KeyResolver } from '../pipeline/auth.js'
import type { UpstreamDeps } from '../pipeline/upstream.js'
import type { AutoRouter } from '../routing/auto.js'
import type { ResolvedModel, ResolvedTarget } from '../routing/models.js'
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
  /** Resolves `model: "auto"` and `auto:<mode>`. */
  auto: AutoRouter
  readiness: readonly ReadinessCheck[]
  /** Undefined when no key or project has limits. */
  limiter: Limiter | undefined
  /** Undefined when the gateway was built without cache tiers. */
  cache: CacheEngine | undefined
  /** Cacheable requests in flight, for coalescing. */
  flights: Flights
  /** `cache.projects`, as a map (a project may be named like an Object.prototype member). */
  cacheRules: ReadonlyMap<string, CacheRule>
  /** Every configured target by its label (`provider/model`), e.g. to price a cached answer. */
  targets: ReadonlyMap<string, ResolvedTarget>
  /** Projects, keys, policies, budgets, the ledger; undefined when the gateway runs without a database. */
  governance: Governance | undefined
  /** The edge in front of this origin (`edge.secret`): the key its assertions are signed with. */
  edge: { assertion: Promise<CryptoKey> } | undefined
  /** Runs a request's bookkeeping after its response is handed over (`GatewayDeps.defer`); at once when undefined. */
  defer: ((work: () => void) => void) | undefined
}
