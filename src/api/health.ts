import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import { baseHeaders } from '../core/respond.js'
import type { Runtime } from '../core/runtime.js'

/** `GET /health`: the process is alive. Never touches a dependency. */
export function handleHealth(rt: Runtime, ctx: RequestContext): Response {
  return new Response('{"status":"ok"}', { status: 200, headers: baseHeaders(rt, ctx, 'application/json') })
}

const CHECK_TIMEOUT_MS = 2000

/** `GET /ready`: every dependency answers (each within 2 s); otherwise 503 naming the ones that do not. */
export async function handleReady(rt: Runtime, ctx: RequestContext): Promise<Response> {
  const results = await Promise.all(
    rt.readiness.map(async ({ name, check }) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        )
      })
      try {
        await Promise.race([check(), timeout])
        return [name, 'ok'] as const
      } catch (err) {
        return [name, rt.scrub(err instanceof Error ? err.message : String(err))] as const
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  const checks = Object.fromEntries(results)
  const failed = results.filter(([, status]) => status !== 'ok')
  const headers = baseHeaders(rt, ctx, 'application/json')
  if (failed.length === 0)
    return new Response(JSON.stringify({ status: 'ready', checks }), { status: 200, headers })
  const error = new GatewayError(
    'MERIDIAN_NOT_READY',
    `not ready: ${failed.map(([name, status]) => `${name}: ${status}`).join('; ')}`,
  )
  return new Response(JSON.stringify({ ...error.toJSON(), checks }), { status: 503, headers })
}
