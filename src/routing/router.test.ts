import { describe, expect, it } from 'vitest'
import { type ConfigInput, configSchema } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import { createProvider } from '../providers/registry.js'
import { HealthGate } from './health.js'
import { createModelTable } from './models.js'
import { backoffMs, failoverTable, plan, type Router, retryAfterMs, timerSleep } from './router.js'

function setup(models: ConfigInput['models'], random = () => 0) {
  const config = configSchema.parse({
    providers: ['a', 'b', 'c'].map((id) => ({ id, type: 'openai', base_url: `http://127.0.0.1:9/${id}` })),
    models,
  })
  const providers = new Map(config.providers.map((p) => [p.id, createProvider(p, config.models)]))
  const table = createModelTable(config.models, providers)
  let now = 0
  const clock = { now: () => now, epoch: () => 1_700_000_000_000 + now }
  const router: Router = {
    config: config.router,
    health: new HealthGate({ minRequests: 2, cooldownMs: 1000 }, clock),
    failovers: failoverTable(table),
    random,
    sleep: timerSleep,
  }
  return { router, table, advance: (ms: number) => (now += ms) }
}

const labels = (
  router: Router,
  model: ReturnType<typeof setup>['table'] extends Map<string, infer M> ? M : never,
) => plan(router, model).map((c) => c.target.label)

describe('plan', () => {
  const models: ConfigInput['models'] = [
    {
      name: 'big',
      bucket: 'large',
      targets: [
        { provider: 'a', model: 'x' },
        { provider: 'b', model: 'x' },
      ],
    },
    { name: 'other-big', bucket: 'large', targets: [{ provider: 'c', model: 'y' }] },
    { name: 'same-provider-big', bucket: 'large', targets: [{ provider: 'a', model: 'z' }] },
    { name: 'small', bucket: 'small', targets: [{ provider: 'c', model: 's' }] },
  ]

  it("tries the model's targets in order, then its bucket on providers it does not use, never another bucket", () => {
    const { router, table } = setup(models)
    expect(labels(router, table.get('big')!)).toEqual(['a/x', 'b/x', 'c/y'])
    expect(labels(router, table.get('small')!)).toEqual(['c/s'])
  })

  it('leaves out down targets, marks probing ones, and tries everything when all are down', () => {
    const { router, table, advance } = setup(models)
    for (let i = 0; i < 2; i++) router.health.record('a/x', { ok: false })
    expect(labels(router, table.get('big')!)).toEqual(['b/x', 'c/y'])
    for (const t of ['b/x', 'c/y']) for (let i = 0; i < 2; i++) router.health.record(t, { ok: false })
    expect(labels(router, table.get('big')!)).toEqual(['a/x', 'b/x'])
    advance(1001)
    expect(plan(router, table.get('big')!).map((c) => c.probe)).toEqual([true, true, true])
  })

  it('draws a load-balanced target by weight, the rest standing by', () => {
    const lb: ConfigInput['models'] = [
      {
        name: 'lb',
        strategy: 'loadbalance',
        targets: [
          { provider: 'a', model: 'x', weight: 1 },
          { provider: 'b', model: 'x', weight: 3 },
        ],
      },
    ]
    // random 0.2 of a total weight 4 falls in a's share [0, 1); 0.5 in b's [1, 4).
    expect(labels(setup(lb, () => 0.2).router, setup(lb).table.get('lb')!)).toEqual(['a/x', 'b/x'])
    const { router, table } = setup(lb, () => 0.5)
    expect(labels(router, table.get('lb')!)).toEqual(['b/x', 'a/x'])
  })
})

describe('nested strategies', () => {
  const nested: ConfigInput['models'] = [
    {
      name: 'pool',
      strategy: 'loadbalance',
      targets: [
        { provider: 'a', model: 'x' },
        { provider: 'b', model: 'x' },
      ],
    },
    { name: 'nested', targets: [{ use: 'pool' }, { provider: 'c', model: 'y' }] },
    {
      name: 'spread',
      strategy: 'loadbalance',
      targets: [
        { use: 'pool', weight: 3 },
        { provider: 'c', model: 'y', weight: 1 },
      ],
    },
  ]

  it('expand a used model by its own strategy, where it stands in the outer one', () => {
    // pool draws by its weights (random 0.6 of 2 falls in b's share), then nested falls back to c.
    const { router, table } = setup(nested, () => 0.6)
    expect(labels(router, table.get('nested')!)).toEqual(['b/x', 'a/x', 'c/y'])
    expect(table.get('nested')!.labels).toEqual(['a/x', 'b/x', 'c/y'])
    // spread draws the pool (weight 3 of 4: 0.6 falls in it), then inside it b, then c stands by.
    expect(labels(router, table.get('spread')!)).toEqual(['b/x', 'a/x', 'c/y'])
  })

  it('are checked: a use must name a model, never loop, and not come with provider or model', () => {
    const parse = (models: ConfigInput['models']) =>
      configSchema.safeParse({
        providers: [{ id: 'a', type: 'openai', base_url: 'http://127.0.0.1:9/a' }],
        models,
      })
    const issue = (models: ConfigInput['models']) => parse(models).error?.issues[0]
    expect(issue([{ name: 'm', targets: [{ use: 'nope' }] }])).toMatchObject({
      path: ['models', 0, 'targets', 0, 'use'],
      message: 'unknown model "nope"',
    })
    expect(
      issue([
        { name: 'm', targets: [{ use: 'n' }] },
        { name: 'n', targets: [{ use: 'm' }] },
      ])?.message,
    ).toBe('"n" leads back to "m": a loop')
    expect(issue([{ name: 'm', targets: [{ use: 'm', provider: 'a' }] }])?.message).toBe(
      'a target is either provider and model, or use',
    )
    expect(issue([{ name: 'm', targets: [{ provider: 'a' }] }])?.message).toBe(
      'a target needs provider and model (or use: <model name>)',
    )
  })
})

describe('retry timing', () => {
  const retries = { attempts: 3, backoff: 100, backoff_max: 1000, retry_after_max: 10_000 }

  it('backs off exponentially, capped, jittered in the upper half', () => {
    expect(backoffMs(retries, 0, () => 0)).toBe(50)
    expect(backoffMs(retries, 0, () => 0.999)).toBeCloseTo(99.95, 5)
    expect(backoffMs(retries, 2, () => 0)).toBe(200)
    expect(backoffMs(retries, 10, () => 0.999)).toBeCloseTo(999.5, 5)
  })

  it('reads Retry-After in seconds or as a date', () => {
    const error = (value: string) =>
      new GatewayError('MERIDIAN_UPSTREAM_RATE_LIMITED', 'x', { headers: { 'retry-after': value } })
    expect(retryAfterMs(error('3'), 0)).toBe(3000)
    expect(retryAfterMs(error(new Date(10_000).toUTCString()), 4_000)).toBe(6000)
    expect(retryAfterMs(error('soon'), 0)).toBeUndefined()
    expect(retryAfterMs(new GatewayError('MERIDIAN_UPSTREAM_ERROR', 'x'), 0)).toBeUndefined()
  })

  it('sleeps until aborted', async () => {
    const controller = new AbortController()
    const slept = timerSleep(10_000, controller.signal)
    controller.abort(new Error('gone'))
    await expect(slept).rejects.toThrow('gone')
  })
})
