// `meridian policy` and `meridian budget`: what a project may use, and what it may spend.
import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import type { budgetSchema } from '../../api/admin/schemas.js'
import { PERIODS } from '../../governance/budgets.js'
import type { Policy } from '../../governance/policy.js'
import { LABELS, type Label, MODES, type Mode } from '../../routing/labels.js'
import {
  AdminApi,
  apiError,
  choiceFlag,
  list,
  numberFlag,
  parseFlags,
  path,
  printTable,
  query,
  time,
  UsageError,
  usd,
} from './cli-format.js'

type Budget = z.output<typeof budgetSchema>

const str = { type: 'string' } as const

/** `meridian policy show P`: the policy, as pretty JSON. */
export async function policyShow(argv: string[], name: string): Promise<void> {
  const { values, positionals } = parseFlags(argv, {}, ['P'], name)
  const api = AdminApi.from(values, process.env, name)
  const policy = await api.json<Policy>('GET', `${path('/admin/projects', positionals[0]!)}/policy`)
  console.log(JSON.stringify(policy, null, 2))
}

/** What `--clear` takes, in flag or field spelling: the field it removes (allow and deny are in models). */
const CLEARABLE: Record<string, keyof Policy | 'allow' | 'deny'> = {
  models: 'models',
  allow: 'allow',
  deny: 'deny',
  'deny-modes': 'deny_modes',
  force: 'force',
  'max-input-tokens': 'max_input_tokens',
  'max-tokens': 'max_tokens',
}

function forceFlag(value: string): Partial<Record<Label, string>> {
  const force: Partial<Record<Label, string>> = {}
  for (const pair of list(value)) {
    const [label = '', model = ''] = pair.split('=', 2).map((s) => s.trim())
    if (!(LABELS as readonly string[]).includes(label) || model === '') {
      throw new UsageError(`--force expects label=model pairs (labels: ${LABELS.join(', ')}), not "${pair}"`)
    }
    force[label as Label] = model
  }
  return force
}

function policyFile(file: string): Policy {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new UsageError(`--file ${file}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--file ${file}: expected a JSON object (a policy)`)
  }
  return parsed as Policy
}

/** `meridian policy set P …`: changes the given fields of the policy in force (or replaces it with --file). */
export async function policySet(argv: string[], name: string): Promise<void> {
  const options = {
    allow: str,
    deny: str,
    'deny-modes': str,
    force: str,
    'max-input-tokens': str,
    'max-tokens': str,
    file: str,
    clear: { type: 'string', multiple: true },
  } as const
  const { values, positionals } = parseFlags(argv, options, ['P'], name)
  const clears = (values.clear ?? []).map((flag) => {
    const spelled = flag.replaceAll('_', '-')
    if (!Object.hasOwn(CLEARABLE, spelled)) {
      throw new UsageError(`--clear expects one of ${Object.keys(CLEARABLE).join(', ')}, not "${flag}"`)
    }
    return CLEARABLE[spelled]!
  })
  const modes = values['deny-modes'] === undefined ? undefined : list(values['deny-modes'])
  for (const mode of modes ?? []) choiceFlag('deny-modes', mode, MODES)
  const force = values.force === undefined ? undefined : forceFlag(values.force)
  const maxInput = numberFlag('max-input-tokens', values['max-input-tokens'], { integer: true, min: 1 })
  const maxTokens = numberFlag('max-tokens', values['max-tokens'], { integer: true, min: 1 })
  const { allow, deny, file } = values
  const changes = [allow, deny, modes, force, maxInput, maxTokens, file].some((v) => v !== undefined)
  if (!changes && clears.length === 0) {
    throw new UsageError(
      `${name} needs a change: --allow, --deny, --deny-modes, --force, --max-input-tokens, --max-tokens, --clear or --file`,
    )
  }
  const base = file === undefined ? undefined : policyFile(file)
  const api = AdminApi.from(values, process.env, name)
  const where = `${path('/admin/projects', positionals[0]!)}/policy`
  // PUT replaces the whole policy: start from the one in force (or the file's) and change only what was given.
  const policy: Policy = structuredClone(base ?? (await api.json<Policy>('GET', where)))
  for (const field of clears) {
    if (field === 'allow' || field === 'deny') policy.models = { ...policy.models, [field]: undefined }
    else policy[field] = undefined
  }
  if (allow !== undefined) policy.models = { ...policy.models, allow: list(allow) }
  if (deny !== undefined) policy.models = { ...policy.models, deny: list(deny) }
  if (modes !== undefined) policy.deny_modes = modes as Mode[]
  if (force !== undefined) policy.force = force
  if (maxInput !== undefined) policy.max_input_tokens = maxInput
  if (maxTokens !== undefined) policy.max_tokens = maxTokens
  if (policy.models?.allow === undefined && policy.models?.deny === undefined) policy.models = undefined
  console.log(JSON.stringify(await api.json<Policy>('PUT', where, policy), null, 2))
}

const BUDGET_HEAD = ['id', 'scope', 'scope_id', 'period', 'usd', 'spent', 'reserved', 'resets']
const budgetRow = (b: Budget): string[] => [
  b.id,
  b.scope,
  b.scope_id,
  b.period,
  usd(b.usd),
  usd(b.spent_usd),
  usd(b.reserved_usd),
  b.resets_at === null ? 'never' : time(b.resets_at),
]

/** `--project P` or `--key K` (or neither), as the API's scope and scope_id. */
function budgetScope(values: { project?: string; key?: string }, name: string) {
  if (values.project !== undefined && values.key !== undefined) {
    throw new UsageError(`${name} takes --project or --key, not both`)
  }
  if (values.project !== undefined) return { scope: 'project' as const, scope_id: values.project }
  if (values.key !== undefined) return { scope: 'key' as const, scope_id: values.key }
  return undefined
}

/** `meridian budget set …`: creates a budget, or changes the one `--id` names if it exists. */
export async function budgetSet(argv: string[], name: string): Promise<void> {
  const options = { project: str, key: str, usd: str, period: str, 'warn-at': str, id: str }
  const { values } = parseFlags(argv, options, [], name)
  const scope = budgetScope(values, name)
  const change = {
    usd: numberFlag('usd', values.usd, { above: 0 }),
    period: choiceFlag('period', values.period, PERIODS),
    warn_at: numberFlag('warn-at', values['warn-at'], { above: 0, max: 1 }),
  }
  if (values.id === undefined && scope === undefined)
    throw new UsageError(`${name} needs --project P or --key K`)
  const api = AdminApi.from(values, process.env, name)
  if (values.id !== undefined) {
    const found = await api.send('GET', path('/admin/budgets', values.id))
    if (found.ok) {
      const current = (await found.json()) as Budget
      if (scope !== undefined && (scope.scope !== current.scope || scope.scope_id !== current.scope_id)) {
        throw new Error(
          `budget ${current.id} is the ${current.scope} ${current.scope_id}'s, not the ${scope.scope} ${scope.scope_id}'s`,
        )
      }
      if (Object.values(change).every((v) => v === undefined)) {
        throw new UsageError(`${name} needs a change: --usd, --period or --warn-at`)
      }
      printTable(BUDGET_HEAD, [
        budgetRow(await api.json<Budget>('PATCH', path('/admin/budgets', values.id), change)),
      ])
      return
    }
    if (found.status !== 404) throw await apiError(found)
    if (scope === undefined)
      throw new UsageError(`${name}: no budget "${values.id}"; to create it, give --project P or --key K`)
  }
  if (change.usd === undefined) throw new UsageError(`${name} needs --usd`)
  const made = await api.json<Budget>('POST', '/admin/budgets', { id: values.id, ...scope, ...change })
  printTable(BUDGET_HEAD, [budgetRow(made)])
}

/** `meridian budget list [--project P | --key K]`: budgets with their spend, as a table. */
export async function budgetList(argv: string[], name: string): Promise<void> {
  const { values } = parseFlags(argv, { project: str, key: str }, [], name)
  const scope = budgetScope(values, name)
  const api = AdminApi.from(values, process.env, name)
  const { data } = await api.json<{ data: Budget[] }>('GET', `/admin/budgets${query({ ...scope })}`)
  printTable(BUDGET_HEAD, data.map(budgetRow))
}
