import type { Clock } from '../core/clock.js'
import type { RequestContext } from '../core/context.js'

/**
 * `Server-Timing: gateway;dur=0.081, upstream;dur=1.204`: the gateway's own time (everything but the
 * upstream wait) and the upstream's, in ms, so a client can tell which side was slow; `limits` (part of the
 * gateway's time) when a remote rate-limit store was asked.
 */
export function serverTiming(ctx: RequestContext, clock: Clock): string {
  const total = clock.now() - ctx.start
  const gateway = total - ctx.upstreamMs
  const timing = `gateway;dur=${gateway.toFixed(3)}, upstream;dur=${ctx.upstreamMs.toFixed(3)}`
  return ctx.limitsMs === undefined ? timing : `${timing}, limits;dur=${ctx.limitsMs.toFixed(3)}`
}
