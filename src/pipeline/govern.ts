import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import type { Runtime } from '../core/runtime.js'
import { type Charge, chargeOf } from '../governance/budgets.js'
import { formatUsd, maxCostNanos, toUsd } from '../governance/money.js'
import { checkModel, policyDenied } from '../governance/policy.js'
import {
  chatPromptTokens,
  choicesOf,
  embeddingsInputTokens,
  requestedMaxTokens,
} from '../governance/tokens.js'
import type { JsonObject } from '../providers/provider.js'
import { classify } from '../routing/classify.js'
import type { ResolvedModel, ResolvedTarget } from '../routing/models.js'
import type { Candidate } from '../routing/router.js'

export type RequestKind = 'chat' | 'embeddings'

/**
 * The project's and key's policy, once the model is known (and before anything is spent or cached): the key's
 * models, the project's allowed and denied models and modes, a forced model for the task type (a silent
 * override, audited), the max_tokens cap and the prompt cap. Counts the prompt when a budget or cap needs it.
 * Answers the model to serve (the forced one, when a rule forces one).
 */
export function applyPolicy(
  rt: Runtime,
  ctx: RequestContext,
  model: ResolvedModel,
  body: JsonObject,
  kind: RequestKind,
): ResolvedModel {
  const account = ctx.account
  if (account === undefined) return model
  const { project, key } = account
  const policy = project.policy
  const route = ctx.route
  if (route !== undefined && policy.deniesMode(route.mode)) {
    throw policyDenied(
      'deny_modes',
      route.mode,
      `project ${project.id} may not use mode "${route.mode}"`,
      'model',
    )
  }
  // The name the client sent is checked unless it is an auto-routing alias; the model that serves always is.
  if (route === undefined) checkModel(policy, key?.models, project.id, model.name)
  else checkModel(policy, key?.models, project.id, model.name, 'the routed model')

  if (policy.forces && kind === 'chat') {
    const label = route?.label ?? classify(body).label
    const forced = policy.force(label)
    if (forced !== undefined && forced !== model.name) {
      const replacement = rt.models.get(forced)
      if (replacement === undefined) {
        rt.logger.warn('a policy forces a model that is not configured; the rule is skipped', {
          project: project.id,
          rule: `force.${label}`,
          model: forced,
        })
      } else {
        ctx.override = `force.${label}: ${model.name} -> ${forced}`
        rt.governance!.audit({
          actor: 'gateway',
          action: 'policy.override',
          project: project.id,
          target: ctx.uid,
          reason: ctx.override,
          details: { request_id: ctx.id, key: ctx.keyId },
        })
        model = replacement
      }
    }
  }

  const cap = policy.maxTokens
  if (cap !== undefined && kind === 'chat') {
    const asked = requestedMaxTokens(body)
    if (asked !== undefined && asked > cap) {
      throw policyDenied(
        'max_tokens',
        asked,
        `max_tokens ${asked} is over project ${project.id}'s cap of ${cap}`,
        'max_tokens',
      )
    }
    if (asked === undefined) setMaxTokens(body, model, cap)
  }

  const budgets = project.budgets.length > 0 || (key !== undefined && key.budgets.length > 0)
  if (budgets || policy.maxInputTokens !== undefined) {
    const count = rt.governance!.countTokens
    const prompt = kind === 'chat' ? chatPromptTokens(body, count) : embeddingsInputTokens(body, count)
    const limit = policy.maxInputTokens
    if (limit !== undefined && prompt > limit) {
      throw policyDenied(
        'max_input_tokens',
        prompt,
        `the prompt is ${prompt} tokens, over project ${project.id}'s cap of ${limit}`,
        kind === 'chat' ? 'messages' : 'input',
      )
    }
    const choices = kind === 'chat' ? choicesOf(body) : 1
    const max = kind === 'chat' ? requestedMaxTokens(body) : 0
    ctx.tokens = { prompt, output: max === undefined ? undefined : max * choices, choices }
    // An answer whose length nothing bounds could outrun its reservation: bound it.
    if (budgets && kind === 'chat' && max === undefined && !knownCaps(rt, model)) {
      const bound = rt.config.budgets.default_max_output
      setMaxTokens(body, model, bound)
      ctx.tokens.output = bound * choices
    }
  }
  if (project.logBodies) ctx.requestBody = body
  return model
}

/** Sets the answer's length limit under the name the model takes (reasoning models take the newer one). */
function setMaxTokens(body: JsonObject, model: ResolvedModel, value: number): void {
  if (model.bucket === 'reasoning') body.max_completion_tokens = value
  else body.max_tokens = value
}

/** Every target the request could reach has a known output cap. */
function knownCaps(rt: Runtime, model: ResolvedModel): boolean {
  return reachable(rt, model).every((t) => t.maxOutput !== undefined)
}

/** The model's targets, and those of the same-bucket models it may fail over to. */
function reachable(rt: Runtime, model: ResolvedModel): ResolvedTarget[] {
  const failovers = rt.router.config.failover ? (rt.router.failovers.get(model.name) ?? []) : []
  if (failovers.length === 0) return model.targets
  return [...model.targets, ...failovers.flatMap((m) => m.targets)]
}

/**
 * Reserves the request's largest possible cost in every budget of its key and project, before its first
 * upstream call (a 402 naming the budget when one has no room). The price is the dearest of the targets it
 * could reach, the prompt is the tokenizer's count with `budgets.prompt_margin`, the answer its max_tokens
 * (or the model's cap). Nothing when no budget applies, or when this request already holds a reservation.
 */
export function reserveBudget(
  rt: Runtime,
  ctx: RequestContext,
  model: ResolvedModel,
): Promise<void> | undefined {
  const account = ctx.account
  if (account === undefined || ctx.reservation !== undefined || ctx.tokens === undefined) return undefined
  const budgets =
    account.key === undefined ? account.project.budgets : [...account.project.budgets, ...account.key.budgets]
  if (budgets.length === 0) return undefined
  const gov = rt.governance!
  const { config } = rt
  const tokens = ctx.tokens
  const prompt = Math.ceil(tokens.prompt * config.budgets.prompt_margin)
  let amount = 0
  for (const target of reachable(rt, model)) {
    if (target.price === undefined) {
      throw policyDenied(
        'price',
        target.label,
        `${target.label} has no price, so a budget cannot bound what it costs: set models[].price for ${model.name}`,
        'model',
      )
    }
    const output = tokens.output ?? (target.maxOutput ?? config.budgets.default_max_output) * tokens.choices
    amount = Math.max(amount, maxCostNanos(target.price, prompt, output))
  }
  // A hedged request may pay for a second prompt.
  if (model.hedge || ctx.route?.mode === 'sport') amount += amount
  const now = gov.clock.epoch()
  const charges = budgets.map((b) => chargeOf(b, now))
  return gov.budgets.reserve({ id: ctx.uid, amount, charges, now }).then(
    (result) => {
      if (!result.ok) {
        const charge = charges.find((c) => c.budget === result.denied.budget)!
        gov.audit({
          actor: 'gateway',
          action: 'request.denied',
          project: ctx.project ?? null,
          target: ctx.uid,
          reason: `budget ${charge.budget} exhausted`,
          details: { request_id: ctx.id, key: ctx.keyId, needed_usd: toUsd(amount) },
        })
        throw budgetExceeded(charge, result.denied, amount)
      }
      let warning: string | undefined
      for (const state of result.states) {
        const charge = charges.find((c) => c.budget === state.budget)!
        const used = state.spent + state.reserved
        if (used < charge.warnAt * charge.limit) continue
        warning ??= `budget ${charge.budget} is at ${Math.floor((used / charge.limit) * 100)}% ($${formatUsd(used)} of $${formatUsd(charge.limit)})`
        if (state.crossed) {
          gov.audit({
            actor: 'gateway',
            action: 'budget.warning',
            project: ctx.project ?? null,
            target: charge.budget,
            reason: `past ${Math.round(charge.warnAt * 100)}% of its limit`,
            details: {
              spent_usd: toUsd(state.spent),
              reserved_usd: toUsd(state.reserved),
              limit_usd: toUsd(charge.limit),
            },
          })
        }
      }
      ctx.reservation = { amount, warning }
    },
    (err: unknown) => {
      if (err instanceof GatewayError) throw err
      gov.logger.warn('budget store failed; budgeted requests are refused until it answers', {
        error: err instanceof Error ? err.message : String(err),
      })
      throw new GatewayError(
        'MERIDIAN_BUDGET_UNAVAILABLE',
        'budgets cannot be checked right now; retry shortly',
        {
          headers: { 'retry-after': '1' },
          cause: err,
        },
      )
    },
  )
}

function budgetExceeded(
  charge: Charge,
  state: { spent: number; reserved: number },
  amount: number,
): GatewayError {
  const resets = Number.isFinite(charge.ends) ? new Date(charge.ends).toISOString() : null
  const period =
    charge.ends === Number.POSITIVE_INFINITY
      ? 'in total'
      : charge.ends - charge.period > 86_400_000
        ? 'a month'
        : 'a day'
  const used = state.spent + state.reserved
  return new GatewayError(
    'MERIDIAN_BUDGET_EXCEEDED',
    `budget ${charge.budget} of ${charge.scope} ${charge.scopeId} ($${formatUsd(charge.limit)} ${period}) has no room: ` +
      `$${formatUsd(used)} is spent or reserved and this request may cost up to $${formatUsd(amount)}` +
      (resets === null ? '.' : `; it resets at ${resets}.`),
    {
      detail: {
        budget: {
          id: charge.budget,
          scope: charge.scope,
          scope_id: charge.scopeId,
          limit_usd: toUsd(charge.limit),
          spent_usd: toUsd(state.spent),
          reserved_usd: toUsd(state.reserved),
          request_max_usd: toUsd(amount),
          resets_at: resets,
        },
      },
    },
  )
}

/**
 * A project that brought its own provider keys reaches only those providers, each with its own key: the
 * candidates are filtered and their providers swapped, never silently the gateway's keys. A 403 when none is
 * left.
 */
export function ownKeyCandidates(
  ctx: RequestContext,
  model: ResolvedModel,
  candidates: Candidate[],
): Candidate[] {
  const own = ctx.account?.project.providers
  if (own === undefined) return candidates
  const kept: Candidate[] = []
  for (const c of candidates) {
    const provider = own.get(c.target.provider.id)
    if (provider !== undefined) kept.push({ ...c, target: { ...c.target, provider } })
  }
  if (kept.length === 0) {
    const providers = [...new Set(candidates.map((c) => c.target.provider.id))].join(', ')
    throw policyDenied(
      'provider_keys',
      model.name,
      `project ${ctx.project} uses its own provider keys and has none for ${model.name} (its providers: ${providers})`,
      'model',
    )
  }
  return kept
}
