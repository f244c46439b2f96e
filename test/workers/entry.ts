import { LimitsDurableObject, type LimitsEnv } from '../../src/adapters/workers/limits.do.js'

// The Worker the tests run in: it exports the Durable Objects its bindings name (see vitest.config.ts).
export { LimitsDurableObject }

/** The same object with the production window and lease, whatever the test bindings say. */
export class MinuteLimitsDurableObject extends LimitsDurableObject {
  constructor(ctx: DurableObjectState, env: LimitsEnv) {
    super(ctx, { ...env, LIMITS_WINDOW_MS: undefined, LIMITS_LEASE_MS: undefined })
  }
}

export default {
  fetch: () => new Response('meridian workers tests', { status: 404 }),
} satisfies ExportedHandler
