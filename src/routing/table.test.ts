import { describe, expect, it } from 'vitest'
import { type ConfigInput, configSchema } from '../config/schema.js'
import { createProvider } from '../providers/registry.js'
import { catalogFacts } from './catalog.js'
import { LABELS, MODES } from './labels.js'
import { createModelTable } from './models.js'
import { DEFAULT_TABLE, resolveTable, tableFor } from './table.js'

function resolve(models: ConfigInput['models'], routing: ConfigInput['routing'] = {}) {
  const config = configSchema.parse({
    providers: [{ id: 'p', type: 'openai', base_url: 'http://127.0.0.1:9/v1' }],
    models,
    routing,
  })
  const providers = new Map(config.providers.map((p) => [p.id, createProvider(p, config.models)]))
  return resolveTable(tableFor(config.routing), config.models, createModelTable(config.models, providers))
}

const model = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  targets: [{ provider: 'p', model: name }],
  ...extra,
})

describe('the shipped routing table', () => {
  it('names only catalog models, and eco keeps reasoning and complex off small models', () => {
    for (const mode of MODES) {
      for (const label of LABELS)
        expect(catalogFacts(DEFAULT_TABLE[mode][label]), `${mode}/${label}`).toBeDefined()
    }
    for (const label of ['reasoning', 'complex'] as const) {
      for (const mode of MODES) expect(catalogFacts(DEFAULT_TABLE[mode][label])!.bucket).not.toBe('small')
    }
  })

  it('resolves every cell to itself when every model is configured', () => {
    const names = [...new Set(MODES.flatMap((m) => LABELS.map((l) => DEFAULT_TABLE[m][l])))]
    const table = resolve(names.map((n) => model(n)))
    for (const mode of MODES) {
      for (const label of LABELS) expect(table[mode][label]?.model.name).toBe(DEFAULT_TABLE[mode][label])
    }
  })
})

describe('resolving a cell whose model is not configured', () => {
  it('takes the same bucket first, closest in price', () => {
    // eco/simple is gpt-4.1-nano (small, $0.50): gpt-4o-mini ($0.75) is closer than claude-3-5-haiku ($4.80).
    const table = resolve([model('claude-3-5-haiku'), model('gpt-4o-mini'), model('gpt-5')])
    expect(table.eco.simple).toMatchObject({ asked: 'gpt-4.1-nano', model: { name: 'gpt-4o-mini' } })
  })

  it('goes up rather than down, and never below the floor', () => {
    // Only a small and a frontier model: eco/reasoning (floor medium) must take the frontier one.
    const table = resolve([model('gpt-4o-mini'), model('claude-opus-4-1')])
    expect(table.eco.reasoning?.model.name).toBe('claude-opus-4-1')
    expect(table.eco.complex?.model.name).toBe('claude-opus-4-1')
    // sport/simple is gpt-4.1 (large): nothing large, so the frontier model above it, not the small one below.
    expect(table.sport.simple?.model.name).toBe('claude-opus-4-1')
  })

  it('leaves a cell empty when nothing clears its floor', () => {
    const table = resolve([model('gpt-4o-mini')])
    expect(table.eco.simple?.model.name).toBe('gpt-4o-mini')
    expect(table.eco.reasoning).toBeUndefined()
    expect(table.sport.complex).toBeUndefined()
  })

  it("matches a configured model by its target's provider model, and honours a configured bucket", () => {
    const table = resolve([
      { name: 'cheap', targets: [{ provider: 'p', model: 'gpt-4.1-nano' }] },
      { name: 'house-model', bucket: 'reasoning', targets: [{ provider: 'p', model: 'x' }] },
    ])
    expect(table.eco.simple?.model.name).toBe('cheap')
    expect(table.eco.reasoning?.model.name).toBe('house-model')
  })

  it('ignores models of unknown bucket', () => {
    expect(resolve([model('my-finetune')]).eco.simple).toBeUndefined()
  })
})

describe('routing config', () => {
  const parse = (routing: unknown, models = [model('gpt-4o-mini'), model('o4-mini')]) =>
    configSchema.safeParse({
      providers: [{ id: 'p', type: 'openai', base_url: 'http://127.0.0.1:9/v1' }],
      models,
      routing,
    })

  it('lays project cells over the deployment cells over the shipped table', () => {
    const config = configSchema.parse({
      routing: {
        table: { eco: { simple: 'gpt-4o-mini' } },
        projects: { alpha: { default_mode: 'eco', table: { eco: { code: 'o4-mini' } } } },
      },
    })
    expect(tableFor(config.routing).eco).toEqual({ ...DEFAULT_TABLE.eco, simple: 'gpt-4o-mini' })
    expect(tableFor(config.routing, 'alpha').eco).toEqual({
      ...DEFAULT_TABLE.eco,
      simple: 'gpt-4o-mini',
      code: 'o4-mini',
    })
    expect(config.routing.default_mode).toBe('balanced')
  })

  it('rejects a cell below the floor, an unknown model and an unknown mode, naming the path', () => {
    const below = parse({ table: { eco: { reasoning: 'gpt-4o-mini' } } })
    expect(below.error?.issues[0]).toMatchObject({
      path: ['routing', 'table', 'eco', 'reasoning'],
      message: '"gpt-4o-mini" is a small model, below the floor for reasoning requests',
    })
    const unknown = parse({ projects: { a: { table: { sport: { code: 'nope' } } } } })
    expect(unknown.error?.issues[0]?.path).toEqual(['routing', 'projects', 'a', 'table', 'sport', 'code'])
    expect(parse({ table: { turbo: { simple: 'gpt-4o-mini' } } }).success).toBe(false)
    expect(parse({ default_mode: 'turbo' }).success).toBe(false)
  })

  it('accepts a catalog model that is not configured (it resolves to the nearest configured one)', () => {
    expect(
      parse({ table: { sport: { reasoning: 'o3' } }, reference: { code: 'claude-opus-4-1' } }).success,
    ).toBe(true)
  })
})
