import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'
import type { z } from 'zod'
import type {
  createdKeySchema,
  keySchema,
  projectSchema,
  providerKeySchema,
} from '../../api/admin/schemas.js'
import { DURATION_PATTERN } from '../../config/duration.js'
import { USAGE_GROUPS } from '../../governance/store.js'
import {
  AdminApi,
  cell,
  choiceFlag,
  instantFlag,
  list,
  numberFlag,
  parseFlags,
  path,
  printTable,
  query,
  required,
  time,
  UsageError,
  usd,
} from './cli-format.js'
import { budgetList, budgetSet, policySet, policyShow } from './cli-policy.js'

/** The admin commands' lines of `meridian help`. */
export const ADMIN_USAGE = `Governance (the admin API of a running gateway: --url U or $MERIDIAN_URL, default http://127.0.0.1:8787;
  --token T or $MERIDIAN_ADMIN_TOKEN):
  meridian projects list | create ID [--name N]
  meridian keys create --project P [--name N] [--models a,b] [--expires-in 30d]   prints the key (once), first
  meridian keys list [--project P] | revoke ID [--reason R]
  meridian provider-keys add --project P --provider ID [--key-env VAR]   the key from stdin, or from $VAR
  meridian provider-keys list --project P | remove --project P --provider ID
  meridian policy show P
  meridian policy set P [--allow a,b] [--deny a,b] [--deny-modes m,n] [--force label=model,...]
      [--max-input-tokens N] [--max-tokens N] [--clear FIELD]... [--file policy.json]
      each flag replaces its field of the current policy (or of the file's); --clear removes one
  meridian budget set (--project P | --key K) --usd N [--period day|month|total] [--warn-at 0.8] [--id ID]
      with --id of an existing budget: changes it
  meridian budget list [--project P | --key K]
  meridian usage [--by project|key|model|tag|day] [--tag T] [--project P] [--key K] [--from D] [--to D] [--csv]
  meridian audit [--project P] [--action A] [--limit N] [--before T]   newest first; --before pages back`

type Command = (argv: string[], name: string) => Promise<void>

type Project = z.output<typeof projectSchema>
type Key = z.output<typeof keySchema>
type CreatedKey = z.output<typeof createdKeySchema>
type ProviderKey = z.output<typeof providerKeySchema>

const str = { type: 'string' } as const

async function projectsList(argv: string[], name: string): Promise<void> {
  const { values } = parseFlags(argv, {}, [], name)
  const { data } = await AdminApi.from(values, process.env, name).json<{ data: Project[] }>(
    'GET',
    '/admin/projects',
  )
  printTable(
    ['id', 'name', 'source', 'policy', 'created'],
    data.map((p) => [
      p.id,
      cell(p.name),
      p.source,
      cell(Object.keys(p.policy).join(',')),
      time(p.created_at),
    ]),
  )
}

async function projectsCreate(argv: string[], name: string): Promise<void> {
  const { values, positionals } = parseFlags(argv, { name: str }, ['ID'], name)
  const api = AdminApi.from(values, process.env, name)
  const project = await api.json<Project>('POST', '/admin/projects', {
    id: positionals[0],
    name: values.name,
  })
  console.log(`created project ${project.id}`)
}

async function keysCreate(argv: string[], name: string): Promise<void> {
  const options = { project: str, name: str, models: str, 'expires-in': str }
  const { values } = parseFlags(argv, options, [], name)
  const project = required('project', values.project, name)
  const expiresIn = values['expires-in']
  if (expiresIn !== undefined && !DURATION_PATTERN.test(expiresIn)) {
    throw new UsageError(`--expires-in expects a duration such as 12h or 30d, not "${expiresIn}"`)
  }
  const api = AdminApi.from(values, process.env, name)
  const made = await api.json<CreatedKey>('POST', '/admin/keys', {
    project,
    name: values.name,
    models: values.models === undefined ? undefined : list(values.models),
    expires_in: expiresIn,
  })
  // The key alone on the first line, so `$(meridian keys create … | head -1)` captures it.
  console.log(made.key)
  const expiry = made.expires_at === null ? '' : `, expires ${time(made.expires_at)}`
  console.log(`${made.id}: the key above will not be shown again (project ${made.project}${expiry})`)
}

async function keysList(argv: string[], name: string): Promise<void> {
  const { values } = parseFlags(argv, { project: str }, [], name)
  const api = AdminApi.from(values, process.env, name)
  const { data } = await api.json<{ data: Key[] }>('GET', `/admin/keys${query({ project: values.project })}`)
  printTable(
    ['id', 'project', 'name', 'prefix', 'status', 'expires'],
    data.map((k) => [
      k.id,
      k.project,
      cell(k.name),
      `${k.prefix}…`,
      k.status,
      k.expires_at === null ? 'never' : time(k.expires_at),
    ]),
  )
}

async function keysRevoke(argv: string[], name: string): Promise<void> {
  const { values, positionals } = parseFlags(argv, { reason: str }, ['ID'], name)
  const api = AdminApi.from(values, process.env, name)
  const key = await api.json<Key>('POST', `${path('/admin/keys', positionals[0]!)}/revoke`, {
    reason: values.reason,
  })
  console.log(`revoked ${key.id} (project ${key.project})`)
}

/** The whole of stdin when piped; at a terminal, one line read without echo. */
async function readSecret(stdin: NodeJS.ReadStream): Promise<string> {
  if (!stdin.isTTY) {
    let text = ''
    for await (const chunk of stdin) text += chunk
    return text.trim()
  }
  process.stderr.write('provider key (not echoed): ')
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() })
  const rl = createInterface({ input: stdin, output: muted, terminal: true })
  try {
    return (await rl.question('')).trim()
  } finally {
    rl.close()
    process.stderr.write('\n')
  }
}

async function providerKeysAdd(argv: string[], name: string): Promise<void> {
  if (argv.some((a) => a === '--key' || a.startsWith('--key='))) {
    throw new UsageError(
      `${name} does not take the key as an argument (it would stay in shell history and ps): pipe it on stdin, or name a variable with --key-env VAR`,
    )
  }
  const { values } = parseFlags(argv, { project: str, provider: str, 'key-env': str }, [], name)
  const project = required('project', values.project, name)
  const provider = required('provider', values.provider, name)
  const api = AdminApi.from(values, process.env, name)
  const variable = values['key-env']
  const key = variable === undefined ? await readSecret(process.stdin) : (process.env[variable] ?? '').trim()
  if (key === '') {
    throw new UsageError(
      variable === undefined
        ? `${name}: no key on stdin (pipe it in, or use --key-env VAR)`
        : `--key-env: $${variable} is not set`,
    )
  }
  const stored = await api.json<ProviderKey>('POST', `${path('/admin/projects', project)}/provider-keys`, {
    provider,
    key,
  })
  console.log(
    `stored the ${stored.provider} key …${stored.last4} for project ${stored.project} (${stored.id})`,
  )
}

async function providerKeysList(argv: string[], name: string): Promise<void> {
  const { values } = parseFlags(argv, { project: str }, [], name)
  const project = required('project', values.project, name)
  const api = AdminApi.from(values, process.env, name)
  const { data } = await api.json<{ data: ProviderKey[] }>(
    'GET',
    `${path('/admin/projects', project)}/provider-keys`,
  )
  printTable(
    ['provider', 'key', 'id', 'added'],
    data.map((k) => [k.provider, `…${k.last4}`, k.id, time(k.created_at)]),
  )
}

async function providerKeysRemove(argv: string[], name: string): Promise<void> {
  const { values } = parseFlags(argv, { project: str, provider: str }, [], name)
  const project = required('project', values.project, name)
  const provider = required('provider', values.provider, name)
  const api = AdminApi.from(values, process.env, name)
  await api.json('DELETE', path('/admin/projects', project, 'provider-keys', provider))
  console.log(`removed the ${provider} key of project ${project}`)
}

interface UsageTotals {
  requests: number
  tokens_in: number
  tokens_out: number
  cost_usd: number
  saved_usd: number
}

/** `GET /admin/usage`'s answer (src/api/admin/reports.ts). */
interface UsageReport {
  by: string
  tag: string | null
  rows: (UsageTotals & { group: string | null })[]
  total: UsageTotals
}

async function usage(argv: string[], name: string): Promise<void> {
  const options = {
    by: str,
    tag: str,
    project: str,
    key: str,
    from: str,
    to: str,
    csv: { type: 'boolean' },
  } as const
  const { values } = parseFlags(argv, options, [], name)
  const by = choiceFlag('by', values.by ?? (values.tag === undefined ? undefined : 'tag'), USAGE_GROUPS)
  if (by === 'tag' && values.tag === undefined)
    throw new UsageError(`--by tag needs --tag KEY (e.g. --tag feature)`)
  if (by !== 'tag' && values.tag !== undefined) throw new UsageError(`--tag goes with --by tag`)
  instantFlag('from', values.from)
  instantFlag('to', values.to)
  const api = AdminApi.from(values, process.env, name)
  const { tag, project, key, from, to } = values
  const params = { by, tag, project, key, from, to }
  if (values.csv) {
    process.stdout.write(await api.text(`/admin/usage${query({ ...params, format: 'csv' })}`))
    return
  }
  const report = await api.json<UsageReport>('GET', `/admin/usage${query(params)}`)
  const numbers = (t: UsageTotals) => [
    String(t.requests),
    String(t.tokens_in),
    String(t.tokens_out),
    usd(t.cost_usd),
    usd(t.saved_usd),
  ]
  printTable(
    [
      report.by === 'tag' ? `tag:${report.tag}` : report.by,
      'requests',
      'tokens in',
      'tokens out',
      'cost usd',
      'saved usd',
    ],
    [...report.rows.map((r) => [r.group ?? '(none)', ...numbers(r)]), ['TOTAL', ...numbers(report.total)]],
  )
}

interface AuditEvent {
  ts: string
  actor: string
  action: string
  project: string | null
  target: string | null
  reason: string | null
}

async function audit(argv: string[], name: string): Promise<void> {
  const { values } = parseFlags(argv, { project: str, action: str, limit: str, before: str }, [], name)
  const limit = numberFlag('limit', values.limit, { integer: true, min: 1 })
  const { project, action, before } = values
  instantFlag('before', before)
  const api = AdminApi.from(values, process.env, name)
  const { data } = await api.json<{ data: AuditEvent[] }>(
    'GET',
    `/admin/audit${query({ project, action, limit, before })}`,
  )
  printTable(
    ['time', 'actor', 'action', 'project', 'target', 'reason'],
    data.map((e) => [time(e.ts), e.actor, e.action, cell(e.project), cell(e.target), cell(e.reason)]),
  )
}

const COMMANDS: Record<string, Command | Record<string, Command>> = {
  projects: { list: projectsList, create: projectsCreate },
  keys: { create: keysCreate, list: keysList, revoke: keysRevoke },
  'provider-keys': { add: providerKeysAdd, list: providerKeysList, remove: providerKeysRemove },
  policy: { show: policyShow, set: policySet },
  budget: { set: budgetSet, list: budgetList },
  usage,
  audit,
}

/**
 * Runs an admin command (`keys create …`) against a running gateway; resolves to 0, or throws
 * a UsageError (exit 2) or the API's error (exit 1).
 */
export async function adminCommand(command: string, argv: string[]): Promise<number> {
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (entry === undefined) throw new UsageError(`unknown command "${command}"`)
  if (argv.includes('--help') || argv.includes('-h')) {
    // This command's lines of the usage, with their indented continuation lines.
    let mine = false
    const lines = ADMIN_USAGE.split('\n').filter((line) => {
      mine = line.includes(`meridian ${command} `) || (mine && line.startsWith('      '))
      return mine
    })
    console.log(lines.join('\n'))
    return 0
  }
  if (typeof entry === 'function') {
    await entry(argv, command)
    return 0
  }
  const [sub, ...rest] = argv
  const run = sub !== undefined && Object.hasOwn(entry, sub) ? entry[sub] : undefined
  if (run === undefined) {
    const known = Object.keys(entry).join(', ')
    throw new UsageError(
      sub === undefined
        ? `${command} needs a subcommand: ${known}`
        : `unknown subcommand "${command} ${sub}" (${known})`,
    )
  }
  await run(rest, `${command} ${sub}`)
  return 0
}
