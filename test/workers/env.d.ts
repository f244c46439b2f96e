import type { LimitsDurableObject } from '../../src/adapters/workers/limits.do.js'

// The bindings of the test Worker, as vitest.config.ts declares them.
declare global {
  namespace Cloudflare {
    interface Env {
      /** Windows of LIMITS_WINDOW_MS, leases of LIMITS_LEASE_MS. */
      LIMITS: DurableObjectNamespace<LimitsDurableObject>
      /** The production minute and ten-minute lease. */
      LIMITS_MINUTE: DurableObjectNamespace<LimitsDurableObject>
      CACHE: KVNamespace
      KEYS: KVNamespace
      LIMITS_WINDOW_MS: number
      LIMITS_LEASE_MS: number
    }
  }
}
