import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, adminClient } from './helpers/admin.js'
import { chatBody, type Stack, startStack } from './helpers/stack.js'

const ROOT = join(import.meta.dirname, '..')
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const MAIN = join(ROOT, 'src', 'adapters', 'node', 'main.ts')
/** A provider key of the project's own, which the sim accepts. */
const PROJECT_KEY = 'sk-project-own-key-9876'
// Each test spawns tsx a few times (about a second each).
const SLOW = 40_000

let stack: Stack
let admin: ReturnType<typeof adminClient>

beforeAll(async () => {
  stack = await startStack(
    (c) => {
      c.admin = { token: ADMIN_TOKEN }
      c.projects = [{ id: 'test' }]
      c.models!.push({ name: 'gpt-4o', targets: [{ provider: 'sim', model: 'sim-large' }] })
    },
    { simKeys: [PROJECT_KEY], env: { MERIDIAN_ENCRYPTION_KEY: 'c'.repeat(64) } },
  )
  admin = adminClient(stack.url)
})
afterAll(async () => {
  await stack?.close()
})

interface Ran {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI as a process against the stack, as user `tester`, with `input` on its stdin. */
function meridian(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  const child = spawn(TSX, [MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      USER: 'tester',
      MERIDIAN_URL: stack.url,
      MERIDIAN_ADMIN_TOKEN: ADMIN_TOKEN,
      ...options.env,
    },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  child.stdin.end(options.input ?? '')
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

const chat = (key: string) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(chatBody()),
  })

/** Fails with the CLI's output when it did not exit with `code`. */
function exited(ran: Ran, code: number): Ran {
  if (ran.code !== code) throw new Error(`exit ${ran.code}, expected ${code}:\n${ran.stdout}\n${ran.stderr}`)
  return ran
}

describe('meridian keys', () => {
  it(
    'prints a new key first, which works until revoked; the list never shows a whole key',
    async () => {
      const created = exited(
        await meridian([
          'keys',
          'create',
          '--project',
          'test',
          '--name',
          'ci',
          '--models',
          'gpt-4o-mini',
          '--expires-in',
          '30d',
        ]),
        0,
      )
      const [key = '', notice = ''] = created.stdout.split('\n')
      expect(key).toMatch(/^mk-[0-9A-Za-z]{43}$/)
      const id = /^(key_\w+): the key above will not be shown again \(project test, expires 20\d\d-/.exec(
        notice,
      )?.[1]
      expect(id).toBeDefined()
      expect((await chat(key)).status).toBe(200)

      const revoked = exited(await meridian(['keys', 'revoke', id!, '--reason', 'leaked in CI logs']), 0)
      expect(revoked.stdout).toBe(`revoked ${id} (project test)\n`)
      expect((await chat(key)).status).toBe(401)

      const listed = exited(await meridian(['keys', 'list', '--project', 'test']), 0)
      expect(listed.stdout).toMatch(/^id\s+project\s+name\s+prefix\s+status\s+expires$/m)
      expect(listed.stdout).toMatch(
        new RegExp(`^${id}\\s+test\\s+ci\\s+${key.slice(0, 9)}…\\s+revoked\\s+20\\d\\d-`, 'm'),
      )
      expect(listed.stdout).not.toContain(key.slice(0, 10))
    },
    SLOW,
  )
})

describe('meridian policy', () => {
  it(
    'set changes only the given fields of the policy in force; show prints it',
    async () => {
      const before = { models: { allow: ['gpt-4o*'] }, max_input_tokens: 2000 }
      expect((await admin.put('/admin/projects/test/policy', before)).status).toBe(200)
      const flags = [
        '--deny',
        'gpt-4.1',
        '--deny-modes',
        'sport',
        '--force',
        'code=gpt-4o',
        '--max-tokens',
        '300',
      ]
      const set = exited(await meridian(['policy', 'set', 'test', ...flags, '--clear', 'allow']), 0)
      const after = {
        models: { deny: ['gpt-4.1'] },
        deny_modes: ['sport'],
        force: { code: 'gpt-4o' },
        max_input_tokens: 2000,
        max_tokens: 300,
      }
      expect(JSON.parse(set.stdout)).toEqual(after)
      const shown = exited(await meridian(['policy', 'show', 'test']), 0)
      expect(shown.stdout).toContain('\n  "deny_modes": [\n')
      expect(JSON.parse(shown.stdout)).toEqual(after)
    },
    SLOW,
  )
})

describe('meridian budget', () => {
  it(
    'set creates a budget, set --id changes it, list shows it with its spend',
    async () => {
      const head = /^id\s+scope\s+scope_id\s+period\s+usd\s+spent\s+reserved\s+resets$/m
      const made = exited(
        await meridian([
          'budget',
          'set',
          '--project',
          'test',
          '--usd',
          '5',
          '--period',
          'day',
          '--id',
          'test-daily',
        ]),
        0,
      )
      expect(made.stdout).toMatch(head)
      expect(made.stdout).toMatch(/^test-daily\s+project\s+test\s+day\s+5\.00\s/m)
      exited(await meridian(['budget', 'set', '--id', 'test-daily', '--usd', '7.5']), 0)
      const listed = exited(await meridian(['budget', 'list', '--project', 'test']), 0)
      expect(listed.stdout).toMatch(head)
      expect(listed.stdout).toMatch(
        /^test-daily\s+project\s+test\s+day\s+7\.50\s+\d+\.\d+\s+0\.00\s+20\d\d-\d\d-\d\d /m,
      )
    },
    SLOW,
  )
})

describe('meridian usage', () => {
  it(
    'prints a table with a TOTAL line, or the CSV as the API writes it',
    async () => {
      expect((await stack.post('/v1/chat/completions', chatBody())).status).toBe(200)
      const [table, csv] = await Promise.all([
        meridian(['usage', '--by', 'project']),
        meridian(['usage', '--by', 'model', '--csv']),
      ])
      exited(table, 0)
      expect(table.stdout).toMatch(/^project\s+requests\s+tokens in\s+tokens out\s+cost usd\s+saved usd$/m)
      const row = /^test\s+(\d+)\s+\d+\s+\d+\s+\d+\.\d+\s+\d+\.\d+$/m.exec(table.stdout)
      const total = /^TOTAL\s+(\d+)\s/m.exec(table.stdout)
      expect(Number(row?.[1])).toBeGreaterThan(0)
      expect(total?.[1]).toBe(row?.[1])
      exited(csv, 0)
      expect(csv.stdout).toBe((await admin.get('/admin/usage?by=model&format=csv')).body)
      expect(csv.stdout).toMatch(/^model,requests,tokens_in,tokens_out,cost_usd,saved_usd\ngpt-4o-mini,/)
    },
    SLOW,
  )
})

describe('meridian projects and audit', () => {
  it(
    'creates a project, lists it, and the audit log names the CLI user as the actor',
    async () => {
      const created = exited(await meridian(['projects', 'create', 'audited', '--name', 'Audited']), 0)
      expect(created.stdout).toBe('created project audited\n')
      const [listed, audit] = await Promise.all([
        meridian(['projects', 'list']),
        meridian(['audit', '--project', 'audited', '--limit', '5']),
      ])
      expect(exited(listed, 0).stdout).toMatch(/^audited\s+Audited\s+admin\s/m)
      expect(exited(audit, 0).stdout).toMatch(/^time\s+actor\s+action\s+project\s+target\s+reason$/m)
      expect(audit.stdout).toMatch(
        /^20\d\d-\d\d-\d\d \d\d:\d\d:\d\dZ\s+admin:cli:tester\s+project\.create\s+audited\s+audited\s+-$/m,
      )
    },
    SLOW,
  )
})

describe('meridian provider-keys', () => {
  it(
    'adds a key read from stdin (or from --key-env), lists its last four, and removes it',
    async () => {
      for (const id of ['byok', 'byok-env'])
        expect((await admin.post('/admin/projects', { id })).status).toBe(201)
      const [piped, fromEnv] = await Promise.all([
        meridian(['provider-keys', 'add', '--project', 'byok', '--provider', 'sim'], {
          input: `${PROJECT_KEY}\n`,
        }),
        meridian(
          ['provider-keys', 'add', '--project', 'byok-env', '--provider', 'sim', '--key-env', 'SIM_KEY'],
          {
            env: { SIM_KEY: PROJECT_KEY },
          },
        ),
      ])
      expect(exited(piped, 0).stdout).toMatch(/^stored the sim key …9876 for project byok \(pk_\w+\)$/m)
      expect(exited(fromEnv, 0).stdout).toContain('for project byok-env')
      expect(piped.stdout + piped.stderr).not.toContain(PROJECT_KEY)
      const [listed, removed] = await Promise.all([
        meridian(['provider-keys', 'list', '--project', 'byok']),
        meridian(['provider-keys', 'remove', '--project', 'byok-env', '--provider', 'sim']),
      ])
      expect(exited(listed, 0).stdout).toMatch(/^provider\s+key\s+id\s+added$/m)
      expect(listed.stdout).toMatch(/^sim\s+…9876\s+pk_\w+\s+20\d\d-/m)
      expect(listed.stdout).not.toContain(PROJECT_KEY)
      expect(exited(removed, 0).stdout).toBe('removed the sim key of project byok-env\n')
      expect((await admin.get('/admin/projects/byok-env/provider-keys')).body.data).toEqual([])
    },
    SLOW,
  )
})

describe('meridian admin errors', () => {
  it(
    'a usage error exits 2 naming the flag; an API error exits 1 with its message',
    async () => {
      const [missing, badNumber, keyArgument, unknown] = await Promise.all([
        meridian(['keys', 'create', '--name', 'x']),
        meridian(['budget', 'set', '--project', 'test', '--usd', 'lots']),
        meridian(['provider-keys', 'add', '--project', 'test', '--provider', 'sim', '--key', PROJECT_KEY]),
        meridian(['keys', 'create', '--project', 'nope']),
      ])
      expect(exited(missing, 2).stderr).toBe('meridian: keys create needs --project\n')
      expect(exited(badNumber, 2).stderr).toBe('meridian: --usd expects a number > 0, not "lots"\n')
      expect(exited(keyArgument, 2).stderr).toMatch(/does not take the key as an argument.*--key-env VAR\n$/)
      expect(keyArgument.stderr).not.toContain(PROJECT_KEY)
      expect(exited(unknown, 1).stderr).toBe('meridian: project "nope" does not exist\n')
      for (const ran of [missing, badNumber, keyArgument, unknown]) expect(ran.stdout).toBe('')
    },
    SLOW,
  )
})
