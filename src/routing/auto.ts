import type { Config } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import { catalogFacts, type Price } from './catalog.js'
import { CLASSIFIER_VERSION, classify, signalNames } from './classify.js'
import { isMode, type Label, MODES, type Mode } from './labels.js'
import type { ResolvedModel } from './models.js'
import { modelFacts, type ResolvedTable, resolveTable, tableFor } from './table.js'

/** What auto-routing decided for one request: `x-meridian-model`, `-mode`, `-task-type` and the log line. */
export interface RouteInfo {
  mode: Mode
  /** The task type; undefined when `x-meridian-model-prefer` pinned the model. */
  label: Label | undefined
  /** The configured model that answers. */
  model: string
  /** The model this request's savings are measured against (sport's choice for the task type by default). */
  reference: string | undefined
  /** The answering model's price and the reference model's, for the log line's costs. */
  price: Price | undefined
  referencePrice: Price | undefined
  /** Why, for `x-meridian-route-reason` (only with `x-meridian-debug: 1`). */
  reason: string | undefined
}

export interface AutoRouter {
  /** `auto` and `auto:<mode>` when the deployment's table resolves at least one cell, else none. */
  readonly aliases: readonly string[]
  /**
   * The model for a request whose `model` is `auto` or `auto:<mode>`; undefined for any other name. Throws a
   * GatewayError for an unknown mode or preferred model, or when no configured model can serve the task type.
   */
  route(
    name: string,
    headers: Headers,
    body: { messages?: unknown; tools?: unknown; response_format?: unknown },
    project: string | undefined,
  ): { model: ResolvedModel; info: RouteInfo } | undefined
}

interface Routing {
  table: ResolvedTable
  defaultMode: Mode
  reference: Record<Label, string>
}

/**
 * Builds the router once, at start-up: the deployment's table and each project's, resolved to the models this
 * deployment serves. At request time it only classifies and looks up a cell.
 *
 * @example
 * const router = createAutoRouter(config, models)
 * router.route('auto:eco', req.headers, body, 'alpha')?.model.name // 'deepseek-chat'
 */
export function createAutoRouter(config: Config, models: ReadonlyMap<string, ResolvedModel>): AutoRouter {
  const routing = config.routing
  const prices = new Map(config.models.map((m) => [m.name, modelFacts(m).price]))
  const priceOf = (name: string | undefined) =>
    name === undefined ? undefined : prices.has(name) ? prices.get(name) : catalogFacts(name)?.price
  const build = (project?: string): Routing => {
    const table = tableFor(routing, project)
    return {
      table: resolveTable(table, config.models, models),
      defaultMode:
        (project === undefined ? undefined : routing.projects[project]?.default_mode) ?? routing.default_mode,
      reference: { ...table.sport, ...routing.reference },
    }
  }
  const deployment = build()
  const projects = new Map(Object.keys(routing.projects).map((p) => [p, build(p)]))

  const routable = MODES.some((m) => Object.values(deployment.table[m]).some((cell) => cell !== undefined))
  return {
    aliases: routable ? ['auto', ...MODES.map((m) => `auto:${m}`)] : [],
    route(name, headers, body, project) {
      if (name !== 'auto' && !name.startsWith('auto:')) return undefined
      const rules = (project === undefined ? undefined : projects.get(project)) ?? deployment
      const mode = modeOf(name, headers, rules.defaultMode)
      const debug = headers.get('x-meridian-debug') === '1'
      const prefer = headers.get('x-meridian-model-prefer')
      if (prefer !== null) {
        const model = models.get(prefer)
        if (model === undefined) {
          throw new GatewayError(
            'MERIDIAN_MODEL_NOT_FOUND',
            `x-meridian-model-prefer names \`${prefer}\`, which does not exist or you do not have access to it.`,
          )
        }
        const reason = debug ? `pinned by x-meridian-model-prefer -> ${model.name}` : undefined
        const info: RouteInfo = {
          mode,
          label: undefined,
          model: model.name,
          reference: undefined,
          price: priceOf(model.name),
          referencePrice: undefined,
          reason,
        }
        return { model, info }
      }
      const c = classify(body)
      const cell = rules.table[mode][c.label]
      if (cell === undefined) {
        throw new GatewayError(
          'MERIDIAN_NO_ROUTE',
          `no model configured here can answer ${c.label} requests in ${mode} mode (the table names ${rules.table.sport[c.label]?.asked ?? 'none'}); configure one or name a model`,
        )
      }
      const reason = debug
        ? `classifier/${CLASSIFIER_VERSION} ${c.label}: ${signalNames(c.signals) || 'no signals'}; chars=${c.chars} turns=${c.turns}; ${mode}/${c.label} -> ${cell.model.name}${cell.asked === cell.model.name ? '' : ` (table: ${cell.asked})`}`
        : undefined
      const reference = rules.reference[c.label]
      const info: RouteInfo = {
        mode,
        label: c.label,
        model: cell.model.name,
        reference,
        price: priceOf(cell.model.name),
        referencePrice: priceOf(reference),
        reason,
      }
      return { model: cell.model, info }
    },
  }
}

/** `auto:<mode>` wins; plain `auto` takes `x-meridian-mode`, else the project's default. */
function modeOf(name: string, headers: Headers, fallback: Mode): Mode {
  if (name !== 'auto') {
    const mode = name.slice(5)
    if (isMode(mode)) return mode
    throw new GatewayError(
      'MERIDIAN_MODEL_NOT_FOUND',
      `The model \`${name}\` does not exist: auto-routing's modes are ${MODES.join(', ')} (e.g. auto:eco).`,
      { param: 'model' },
    )
  }
  const asked = headers.get('x-meridian-mode')
  if (asked === null) return fallback
  const mode = asked.trim().toLowerCase()
  if (isMode(mode)) return mode
  throw new GatewayError(
    'MERIDIAN_INVALID_REQUEST',
    `x-meridian-mode must be one of ${MODES.join(', ')}; got "${asked.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}"`,
  )
}
