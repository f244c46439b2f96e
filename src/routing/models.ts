import type { CacheRule, Config } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import type { Provider } from '../providers/provider.js'
import type { Bucket } from './catalog.js'
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
}

export interface ResolvedModel {
  name: string
  targets: ResolvedTarget[]
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

/** The configured models by the name clients send, each with its providers resolved. */
export function createModelTable(models: Config['models'], providers: ReadonlyMap<string, Provider>) {
  const table = new Map<string, ResolvedModel>()
  for (const model of models) {
    const targets = model.targets.map((t) => {
      const provider = providers.get(t.provider)
      if (!provider) throw new Error(`model ${model.name}: unknown provider "${t.provider}"`)
      return {
        provider,
        model: t.model,
        label: `${t.provider}/${t.model}`,
        weight: t.weight,
        timeouts: t.timeouts ?? {},
      }
    })
    table.set(model.name, {
      name: model.name,
      targets,
      labels: targets.map((t) => t.label),
      cache: model.cache,
      strategy: model.strategy,
      hedge: model.hedge === true,
      bucket: modelFacts(model).bucket,
    })
  }
  return table
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
