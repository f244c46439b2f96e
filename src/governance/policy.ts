import { z } from 'zod'
import { GatewayError } from '../core/errors.js'
import { LABELS, type Label, MODES, type Mode } from '../routing/labels.js'

const modelPattern = z
  .string()
  .min(1)
  .regex(/^[^*]+\*?$|^\*$/, 'a model name, or a prefix ending in * (e.g. gpt-4o*)')

/** A project's policy: what its requests may ask for, checked on every request before anything is spent. */
export const policySchema = z
  .strictObject({
    models: z
      .strictObject({
        allow: z
          .array(modelPattern)
          .optional()
          .describe('Only these models (names clients send; `prefix*` matches a prefix). Absent: any.'),
        deny: z.array(modelPattern).optional().describe('Never these models (wins over `allow`).'),
      })
      .optional()
      .describe(
        'Which models the project may use, checked on the model asked for and the model that answers.',
      ),
    deny_modes: z
      .array(z.enum(MODES))
      .optional()
      .describe('Auto-routing modes the project may not ask for (`auto:sport`, `x-meridian-mode`).'),
    force: z
      .partialRecord(z.enum(LABELS), z.string().min(1))
      .optional()
      .describe(
        'Task type → model: a request of that type is answered by that model whatever it asked for (a silent override, written to the ledger and the audit log).',
      ),
    max_input_tokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("The longest prompt a request may send, in tokens (counted with OpenAI's o200k tokenizer)."),
    max_tokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'The largest max_tokens a request may ask for; a request that sets none is sent with this one.',
      ),
  })
  .describe("A project's policy.")

export type Policy = z.output<typeof policySchema>

/** A policy compiled for the hot path: patterns as sets and prefixes. */
export interface CompiledPolicy {
  readonly source: Policy
  allows(model: string): boolean
  denies(model: string): boolean
  deniesMode(mode: Mode): boolean
  force(label: Label): string | undefined
  readonly maxInputTokens: number | undefined
  readonly maxTokens: number | undefined
  /** Whether the request needs classifying (a `force` rule exists). */
  readonly forces: boolean
}

/** A compiled list of model patterns. */
export function modelMatcher(patterns: readonly string[]): (model: string) => boolean {
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1))
    else exact.add(p)
  }
  if (prefixes.length === 0) return (model) => exact.has(model)
  return (model) => exact.has(model) || prefixes.some((p) => model.startsWith(p))
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  const allow = policy.models?.allow
  const allows = allow === undefined ? () => true : modelMatcher(allow)
  const denies = modelMatcher(policy.models?.deny ?? [])
  const modes = new Set(policy.deny_modes ?? [])
  return {
    source: policy,
    allows,
    denies,
    deniesMode: (mode) => modes.has(mode),
    force: (label) => policy.force?.[label],
    maxInputTokens: policy.max_input_tokens,
    maxTokens: policy.max_tokens,
    forces: policy.force !== undefined && Object.keys(policy.force).length > 0,
  }
}

export const OPEN_POLICY: CompiledPolicy = compilePolicy({})

/**
 * The 403 of a policy: the rule that denied (`models.deny`, `key.models`, `deny_modes`, `max_input_tokens`,
 * `max_tokens`, `provider_keys`, `price`) and the value it denied, in the message and in `error.policy`.
 */
export function policyDenied(
  rule: string,
  value: string | number,
  message: string,
  param: string | null = null,
): GatewayError {
  return new GatewayError('MERIDIAN_POLICY_DENIED', message, {
    param,
    detail: { policy: { rule, value } },
  })
}

/**
 * Whether the project (and the key, if it is restricted to some models) may use `model`; a 403 naming the
 * rule if not. `what` says which model this is in the message (`the model asked for`, `the routed model`).
 */
export function checkModel(
  policy: CompiledPolicy,
  keyModels: ((model: string) => boolean) | undefined,
  project: string,
  model: string,
  what = 'model',
): void {
  if (keyModels !== undefined && !keyModels(model)) {
    throw policyDenied('key.models', model, `this gateway key may not use ${what} "${model}"`, 'model')
  }
  if (policy.denies(model)) {
    throw policyDenied('models.deny', model, `project ${project} denies ${what} "${model}"`, 'model')
  }
  if (!policy.allows(model)) {
    throw policyDenied(
      'models.allow',
      model,
      `project ${project} does not allow ${what} "${model}" (allowed: ${policy.source.models?.allow?.join(', ')})`,
      'model',
    )
  }
}
