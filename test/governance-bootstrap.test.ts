import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sha256Hex } from '../src/adapters/node/sha256.js'
import { validateConfig } from '../src/config/load.js'
import type { ConfigInput } from '../src/config/schema.js'
import { systemClock } from '../src/core/clock.js'
import { bootstrap } from '../src/governance/bootstrap.js'
import { Governance, type ReplicaKey } from '../src/governance/governance.js'
import { sqlBudgetStore } from '../src/storage/sql/budget-store.js'
import { sqlGovernanceStore } from '../src/storage/sql/governance-store.js'
import { silentLogger } from '../src/telemetry/logger.js'
import { freshDatabase, type TestDatabase } from './helpers/databases.js'

const KEY_A = 'mk-config-key-aaaaaaaa'
const KEY_B = 'mk-config-key-bbbbbbbb'

function config(input: Partial<ConfigInput>) {
  return validateConfig(
    {
      providers: [{ id: 'sim', type: 'openai', base_url: 'http://127.0.0.1:9/v1' }],
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'sim', model: 'm' }] }],
      ...input,
    },
    {},
  )
}

describe('the config, upserted into the database at start', () => {
  let db: TestDatabase
  beforeEach(async () => {
    db = await freshDatabase('sqlite')
  })
  afterEach(async () => {
    await db.drop()
  })

  it('writes projects, keys and budgets once, revokes a key the config dropped, and changes nothing twice', async () => {
    const store = sqlGovernanceStore(db.db)
    const first = config({
      projects: [
        {
          id: 'alpha',
          models: { allow: ['gpt-4o-mini'] },
          budget: { usd: 5, period: 'month' },
          max_tokens: 500,
        },
      ],
      keys: [
        { key: KEY_A, project: 'alpha', name: 'a', budget: { usd: 1, period: 'day' } },
        { key: KEY_B, project: 'beta', name: 'b', limits: { rpm: 10 } },
      ],
      limits: { projects: { beta: { rpm: 100 } } },
    })
    expect(await bootstrap(store, first, 1000, sha256Hex)).toEqual({
      projects: 2,
      keys: 2,
      budgets: 2,
      revoked: 0,
    })
    const snapshot = await store.snapshot()
    expect(snapshot.projects.map((p) => [p.id, p.source, p.policy, p.limits])).toEqual([
      ['alpha', 'config', { models: { allow: ['gpt-4o-mini'] }, max_tokens: 500 }, null],
      ['beta', 'config', {}, { rpm: 100 }],
    ])
    expect(
      snapshot.keys.map((k) => [k.id, k.hash === sha256Hex(k.id === 'a' ? KEY_A : KEY_B), k.limits]),
    ).toEqual([
      ['a', true, null],
      ['b', true, { rpm: 10 }],
    ])
    expect(JSON.stringify(snapshot)).not.toContain(KEY_A)
    expect(snapshot.budgets.map((b) => [b.id, b.scope, b.period, b.limit]).sort()).toEqual([
      ['cfg-key-a', 'key', 'day', 1e9],
      ['cfg-project-alpha', 'project', 'month', 5e9],
    ])
    const version = await store.version()
    expect(await bootstrap(store, first, 2000, sha256Hex)).toEqual({
      projects: 0,
      keys: 0,
      budgets: 0,
      revoked: 0,
    })
    expect(await store.version()).toBe(version)

    // B and A's budget left the config: B is revoked (not deleted: the ledger names it), the budget deleted.
    const second = config({ keys: [{ key: KEY_A, project: 'alpha', name: 'a' }] })
    expect(await bootstrap(store, second, 3000, sha256Hex)).toMatchObject({ revoked: 1 })
    const after = await store.snapshot()
    expect(after.keys.find((k) => k.id === 'b')?.revokedAt).toBe(3000)
    expect(after.keys.find((k) => k.id === 'a')?.revokedAt).toBeNull()
    expect(after.budgets.map((b) => b.id)).toEqual([])
    const audit = await store.auditLog({ limit: 50 })
    expect(audit.filter((e) => e.actor === 'config').map((e) => e.action)).toContain('key.revoke')
  })

  it('pushes key changes to the replica: new keys, revocations, and a policy change to every key of its project', async () => {
    const store = sqlGovernanceStore(db.db)
    const pushed: { put: ReplicaKey[]; remove: string[] }[] = []
    const governance = new Governance({
      store,
      budgets: sqlBudgetStore(db.db),
      clock: systemClock,
      logger: silentLogger,
      sha256: sha256Hex,
      providerWithKey: () => undefined,
      replica: { push: async (change) => void pushed.push(change) },
    })
    await bootstrap(store, config({ keys: [{ key: KEY_A, project: 'alpha', name: 'a' }] }), 1000, sha256Hex)
    await governance.reload()
    expect(pushed).toHaveLength(1)
    expect(pushed[0]!.put).toEqual([
      {
        hash: sha256Hex(KEY_A),
        keyId: 'a',
        project: 'alpha',
        expiresAt: null,
        revokedAt: null,
        models: null,
        policy: {},
        limits: null,
        projectLimits: null,
      },
    ])
    await governance.reload()
    expect(pushed).toHaveLength(1)

    const project = (await store.getProject('alpha'))!
    const audit = {
      id: 'x1',
      ts: 1,
      actor: 'test',
      action: 'policy.update',
      project: 'alpha',
      target: null,
      reason: null,
      details: null,
    }
    await store.putProject({ ...project, policy: { models: { deny: ['gpt-4o'] } } }, audit)
    await governance.reload()
    expect(pushed[1]!.put.map((k) => [k.keyId, k.policy])).toEqual([['a', { models: { deny: ['gpt-4o'] } }]])

    await bootstrap(store, config({ keys: [] }), 2000, sha256Hex)
    await governance.reload()
    expect(pushed[2]!.put.map((k) => [k.keyId, k.revokedAt])).toEqual([['a', 2000]])
    await governance.close()
  })
})
