import type { Config, ModelConfig } from '../config/schema.js'
import { BUCKET_RANK, type Bucket, catalogFacts, type Price } from './catalog.js'
import { LABEL_FLOOR, LABELS, type Label, MODES, type Mode } from './labels.js'
import type { ResolvedModel } from './models.js'

export type RoutingTable = Record<Mode, Record<Label, string>>

/**
 * The shipped table: for each mode, the model each task type goes to. Eco takes the cheapest model that clears
 * the quality floor, sport the strongest, balanced sits between; the cells spread over the major providers.
 */
export const DEFAULT_TABLE: RoutingTable = {
  eco: {
    simple: 'gpt-4.1-nano',
    code: 'deepseek-chat',
    reasoning: 'deepseek-reasoner',
    complex: 'gemini-2.5-flash',
  },
  balanced: { simple: 'gpt-4o-mini', code: 'gpt-4.1', reasoning: 'o4-mini', complex: 'gemini-2.5-pro' },
  sport: { simple: 'gpt-4.1', code: 'claude-sonnet-4-5', reasoning: 'o3', complex: 'claude-opus-4-1' },
}

/** One cell of a resolved table: the configured model that answers, and the one the table named. */
export interface Cell {
  model: ResolvedModel
  /** The model the table names; differs from `model.name` when that one is not configured here. */
  asked: string
}

export type ResolvedTable = Record<Mode, Record<Label, Cell | undefined>>

/** A configured model's bucket and price: its own, else the catalog's by its name, else by its first target's model. */
export function modelFacts(model: ModelConfig): { bucket: Bucket | undefined; price: Price | undefined } {
  const byName = catalogFacts(model.name)
  const leaf = model.targets.find((t) => t.model !== undefined)?.model
  const byTarget = leaf === undefined ? undefined : catalogFacts(leaf)
  return {
    bucket: model.bucket ?? byName?.bucket ?? byTarget?.bucket,
    price: model.price ?? byName?.price ?? byTarget?.price,
  }
}

/** The configured model a table cell names: by its name, else the first whose target serves that provider model. */
function configured(models: readonly ModelConfig[], name: string): ModelConfig | undefined {
  return models.find((m) => m.name === name) ?? models.find((m) => m.targets.some((t) => t.model === name))
}

/** The shipped table with the config's cells (and a project's) laid over it. */
export function tableFor(routing: Config['routing'], project?: string): RoutingTable {
  const layers = [routing.table, project === undefined ? undefined : routing.projects[project]?.table]
  const table = {} as RoutingTable
  for (const mode of MODES) {
    table[mode] = { ...DEFAULT_TABLE[mode] }
    for (const layer of layers) Object.assign(table[mode], layer?.[mode])
  }
  return table
}

/**
 * Resolves every cell to a model this deployment serves. A cell whose model is not configured falls to the
 * nearest configured model: the same bucket first (closest in price), then buckets of the same rank, then
 * stronger ones, then weaker ones down to the task type's floor and never below it. Ties go to config order,
 * so the same config always resolves the same way. A cell nothing can serve stays undefined.
 */
export function resolveTable(
  table: RoutingTable,
  models: readonly ModelConfig[],
  resolved: ReadonlyMap<string, ResolvedModel>,
): ResolvedTable {
  const known = models.flatMap((m, order) => {
    const { bucket, price } = modelFacts(m)
    return bucket === undefined
      ? []
      : [{ name: m.name, bucket, rank: BUCKET_RANK[bucket], cost: cost(price), order }]
  })
  const out = {} as ResolvedTable
  for (const mode of MODES) {
    out[mode] = {} as Record<Label, Cell | undefined>
    for (const label of LABELS) {
      const asked = table[mode][label]
      const direct = configured(models, asked)
      let name = direct?.name
      if (name === undefined) {
        const facts = catalogFacts(asked)
        if (facts !== undefined) {
          const rank = BUCKET_RANK[facts.bucket]
          const target = cost(facts.price)
          const distance = (c: (typeof known)[number]) => [
            c.rank >= rank ? c.rank - rank : 10 + rank - c.rank,
            c.bucket === facts.bucket ? 0 : 1,
            Math.abs(c.cost - target),
            c.order,
          ]
          const best = known
            .filter((c) => c.rank >= LABEL_FLOOR[label])
            .map((c) => ({ c, d: distance(c) }))
            .sort((a, b) => compare(a.d, b.d))[0]
          name = best?.c.name
        }
      }
      const model = name === undefined ? undefined : resolved.get(name)
      out[mode][label] = model === undefined ? undefined : { model, asked }
    }
  }
  return out
}

/** Input plus output price: enough to tell cheap from dear within a bucket. */
function cost(price: Price | undefined): number {
  return price === undefined ? 0 : price.input + price.output
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

/**
 * The routing section's mistakes, for config validation: a cell naming a model that is neither configured nor
 * in the catalog, or one whose bucket is below its task type's floor.
 */
export function routingProblems(config: Config): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = []
  const check = (path: (string | number)[], name: string, label: Label, floor: boolean) => {
    const model = configured(config.models, name)
    const bucket = model === undefined ? catalogFacts(name)?.bucket : modelFacts(model).bucket
    if (model === undefined && bucket === undefined) {
      problems.push({
        path,
        message: `unknown model "${name}": configure it under models or name a catalog model`,
      })
    } else if (floor && bucket !== undefined && BUCKET_RANK[bucket] < LABEL_FLOOR[label]) {
      problems.push({
        path,
        message: `"${name}" is a ${bucket} model, below the floor for ${label} requests`,
      })
    }
  }
  const tables: [(string | number)[], Config['routing']['table'] | undefined][] = [
    [['routing', 'table'], config.routing.table],
    ...Object.entries(config.routing.projects).map(
      ([p, rules]): [(string | number)[], Config['routing']['table'] | undefined] => [
        ['routing', 'projects', p, 'table'],
        rules.table,
      ],
    ),
  ]
  for (const [path, table] of tables) {
    for (const [mode, cells] of Object.entries(table ?? {})) {
      for (const [label, name] of Object.entries(cells ?? {}))
        check([...path, mode, label], name, label as Label, true)
    }
  }
  for (const [label, name] of Object.entries(config.routing.reference)) {
    check(['routing', 'reference', label], name, label as Label, false)
  }
  return problems
}
