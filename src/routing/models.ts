import type { CacheRule, Config } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import type { Provider } from '../providers/provider.js'
import { type Bucket, catalogFacts, catalogPrice, type Price } from './catalog.js'
import { modelFacts } from './table.js'

export interface ResolvedTarget {
  provider: Provider
  /** The model name the provider knows. */
  model: string
  /** `provider/model`, for logs and the health gate. */
  label: string
  /** Its share under `strategy: loadbalance`. */
  weight: number
  /** Its own timeouts (ms), where set. */
  timeouts: { connect?: number; ttfb?: number; total?: number }
  /** USD per million tokens: the model's configured price, else the catalog's for this target's model. */
  price: Price | undefined
  /** Its longest answer in tokens, where known (config, else catalog). */
  maxOutput: number | undefined
}

export interface ResolvedModel {
  name: string
  /** Every target it may reach, nested models' included, in order. */
  targets: ResolvedTarget[]
  /** Its strategy's entries: targets, and models standing as one target. */
  nodes: StrategyNode[]
  /** The targets' labels in order: the target group the cache key binds. */
  labels: string[]
  /** The model's own cache rule, if it has one. */
  cache: CacheRule | undefined
  strategy: 'fallback' | 'loadbalance'
  /** Hedge its requests (`router.hedge`). */
  hedge: boolean
  /** Its capability bucket (config, else catalog), for failover within the bucket. */
  bucket: Bucket | undefined
}

/** One entry of a model's strategy: a target, or another model standing as one (nested strategies). */
export type StrategyNode = { target: ResolvedTarget } | { model: ResolvedModel; weight: number }

/** The configured models by the name clients send, each with its providers resolved. */
export function createModelTable(models: Config['models'], providers: ReadonlyMap<string, Provider>) {
  const table = new Map<string, ResolvedModel>()
  const configs = new Map(models.map((m) => [m.name, m]))
  // A model is resolved after the models it uses (config validation has ruled out loops).
  const resolve = (model: Config['models'][number]): ResolvedModel => {
    const done = table.get(model.name)
    if (done !== undefined) return done
    const nodes: StrategyNode[] = model.targets.map((t) => {
      if (t.use !== undefined) {
        const used = configs.get(t.use)
        if (!used) throw new Error(`model ${model.name}: unknown model "${t.use}"`)
        return { model: resolve(used), weight: t.weight }
      }
      const provider = providers.get(t.provider!)
      if (!provider) throw new Error(`model ${model.name}: unknown provider "${t.provider}"`)
      const target: ResolvedTarget = {
        provider,
        model: t.model!,
        label: `${t.provider}/${t.model}`,
        weight: t.weight,
        timeouts: t.timeouts ?? {},
        price: model.price ?? catalogPrice(t.model!) ?? catalogPrice(model.name),
        maxOutput:
          model.max_output_tokens ?? catalogFacts(t.model!)?.maxOutput ?? catalogFacts(model.name)?.maxOutput,
      }
      return { target }
    })
    const targets = [...new Set(nodes.flatMap((n) => ('target' in n ? [n.target] : n.model.targets)))]
    const resolved: ResolvedModel = {
      name: model.name,
      targets,
      nodes,
      labels: targets.map((t) => t.label),
      cache: model.cache,
      strategy: model.strategy,
      hedge: model.hedge === true,
      bucket: modelFacts(model).bucket,
    }
    table.set(model.name, resolved)
    return resolved
  }
  for (const model of models) resolve(model)
  // In config order, whatever order they were resolved in.
  return new Map(models.map((m) => [m.name, table.get(m.name)!]))
}

export function resolveModel(table: ReadonlyMap<string, ResolvedModel>, name: string): ResolvedModel {
  const model = table.get(name)
  if (model === undefined) {
    throw new GatewayError(
      'MERIDIAN_MODEL_NOT_FOUND',
      `The model \`${name}\` does not exist or you do not have access to it.`,
      {
        param: 'model',
      },
    )
  }
  return model
}
