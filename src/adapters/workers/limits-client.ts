import type { AcquireRequest, LimitRule, LimitStore } from '../../limits/store.js'
import type { LimitsDurableObject } from './limits.do.js'

/**
 * The object that holds a request's limits: its project's when one of its rules is a project's (so every key
 * of the project meets in one object and the project's limit is checked atomically with the key's), else its
 * first rule's scope; either up to the first `|` (per-model scopes live with their owner). Empty without rules.
 *
 * @example
 * limitObjectName([{ scope: 'key:ci-bot' }, { scope: 'project:search|model:gpt-4o' }]) // 'project:search'
 * limitObjectName([{ scope: 'key:ci-bot|model:gpt-4o' }]) // 'key:ci-bot'
 */
export function limitObjectName(rules: readonly LimitRule[]): string {
  const rule = rules.find((r) => r.scope.startsWith('project:')) ?? rules[0]
  if (!rule) return ''
  const bar = rule.scope.indexOf('|')
  return bar < 0 ? rule.scope : rule.scope.slice(0, bar)
}

/**
 * A `LimitStore` over `LimitsDurableObject`: each acquire is one RPC call to the object `route` names, and
 * the settle of a request goes to the same object, routed from its rules and id (the `tokens` `route` sees
 * for a settle are the reserved ones), so `route` should depend on the rules alone. Calls reject when the
 * object cannot be reached or is reset; the caller decides what that means. A settle never rejects
 * unhandled, but the Worker must keep it alive (`ctx.waitUntil(limits.settle(...))`) if it is not awaited.
 *
 * @example
 * const limits = durableObjectLimits(env.LIMITS, (r) => limitObjectName(r.rules))
 * const d = await limits.acquire({ rules, id, tokens: 900 })
 * if (d.allowed) ctx.waitUntil(limits.settle({ rules, id, reserved: 900, used: 412 }))
 */
export function durableObjectLimits(
  namespace: DurableObjectNamespace<LimitsDurableObject>,
  route: (request: AcquireRequest) => string = (request) => limitObjectName(request.rules),
): LimitStore {
  const object = (request: AcquireRequest) => namespace.get(namespace.idFromName(route(request)))
  return {
    name: 'durable-object',
    acquire(request) {
      if (request.rules.length === 0) return { allowed: true }
      // An RPC call returns a thenable that is no Promise, and callers tell a synchronous answer from a
      // pending one by `instanceof Promise`: reading a field of the thenable gives an RPC property, not a value.
      return Promise.resolve(object(request).acquire(request))
    },
    settle(request) {
      if (request.rules.length === 0) return
      const { rules, id, reserved } = request
      const done = Promise.resolve(object({ rules, id, tokens: reserved }).settle(request))
      // Callers may fire and forget: a failure must not surface as an unhandled rejection, yet whoever
      // awaits the promise still sees it.
      done.catch(() => {})
      return done
    },
  }
}
