import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditEvent } from '../src/governance/governance.js'
import type { GovernanceStore, KeyRecord, LedgerEntry, ProjectRecord } from '../src/governance/store.js'
import { sqlGovernanceStore } from '../src/storage/sql/governance-store.js'
import { databaseKinds, freshDatabase, type TestDatabase } from './helpers/databases.js'

const kinds = await databaseKinds()

const project = (id: string, extra: Partial<ProjectRecord> = {}): ProjectRecord => ({
  id,
  name: null,
  policy: {},
  limits: null,
  logBodies: false,
  source: 'admin',
  createdAt: 1000,
  updatedAt: 1000,
  ...extra,
})

const key = (id: string, hash: string, projectId = 'alpha'): KeyRecord => ({
  id,
  projectId,
  name: null,
  prefix: 'mk-abcdef',
  hash,
  models: null,
  limits: null,
  source: 'admin',
  createdAt: 1000,
  expiresAt: null,
  revokedAt: null,
})

let n = 0
const audit = (action: string, projectId: string | null = 'alpha') =>
  auditEvent(
    { actor: 'admin:test', action, project: projectId, target: null, reason: null, details: { n: ++n } },
    1000 + n,
  )

function row(id: string, extra: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id,
    request_id: id,
    parent_id: null,
    ts: Date.UTC(2026, 11, 2, 12),
    tier: 'origin',
    project: 'alpha',
    key_id: 'k1',
    session: null,
    route: 'chat',
    model_requested: 'gpt-4o-mini',
    model_served: 'gpt-4o-mini',
    target: 'sim/sim-small',
    attempt: 0,
    status: 200,
    error: null,
    stream: 0,
    cache: 'miss',
    cache_layer: null,
    tokens_in: 10,
    tokens_out: 5,
    tokens_cached: 0,
    cost_nusd: 1000,
    saved_nusd: 0,
    reference_nusd: null,
    estimated: 0,
    latency_ms: 1.5,
    upstream_ms: 1,
    override: null,
    prompt: null,
    response: null,
    tags: undefined,
    ...extra,
  }
}

describe.each(kinds)('governance store on $name', ({ name, available }) => {
  let db: TestDatabase
  let store: GovernanceStore

  beforeEach(async () => {
    if (!available) return
    db = await freshDatabase(name)
    store = sqlGovernanceStore(db.db)
  })
  afterEach(async () => {
    if (available) await db.drop()
  })

  it.skipIf(!available)('bumps the version and writes the audit event with every admin write', async () => {
    const before = await store.version()
    await store.putProject(
      project('alpha', { policy: { models: { deny: ['gpt-4o'] } } }),
      audit('project.create'),
    )
    expect(await store.version()).toBe(before + 1)
    await store.putKey(key('k1', 'h1'), audit('key.create'))
    expect(await store.version()).toBe(before + 2)
    const events = await store.auditLog({ limit: 10 })
    expect(events.map((e) => e.action)).toEqual(['key.create', 'project.create'])
    expect(events[0]).toMatchObject({
      actor: 'admin:test',
      project: 'alpha',
      details: { n: expect.any(Number) },
    })
    const snapshot = await store.snapshot()
    expect(snapshot.version).toBe(before + 2)
    expect(snapshot.projects[0]!.policy).toEqual({ models: { deny: ['gpt-4o'] } })
    expect(snapshot.keys[0]).toEqual(key('k1', 'h1'))
  })

  it.skipIf(!available)('finds keys by hash, updates them in place, and keeps hashes unique', async () => {
    await store.putProject(project('alpha'), audit('project.create'))
    await store.putKey(key('k1', 'h1'), audit('key.create'))
    expect((await store.keyByHash('h1'))?.id).toBe('k1')
    await store.putKey({ ...key('k1', 'h2'), revokedAt: 5000 }, audit('key.update'))
    expect(await store.keyByHash('h1')).toBeUndefined()
    expect((await store.getKey('k1'))?.revokedAt).toBe(5000)
    await expect(store.putKey(key('k2', 'h2'), audit('key.create'))).rejects.toThrow()
    // The failed write changed nothing, its audit event included.
    expect((await store.listKeys()).map((k) => k.id)).toEqual(['k1'])
  })

  it.skipIf(!available)('deletes a project with its keys, provider keys and budgets', async () => {
    await store.putProject(project('alpha'), audit('project.create'))
    await store.putKey(key('k1', 'h1'), audit('key.create'))
    await store.putProviderKey(
      { id: 'pk1', projectId: 'alpha', provider: 'sim', ciphertext: 'x', last4: '1234', createdAt: 1 },
      audit('provider_key.put'),
    )
    for (const [id, scope, scopeId] of [
      ['b1', 'project', 'alpha'],
      ['b2', 'key', 'k1'],
    ] as const) {
      await store.putBudget(
        {
          id,
          scope,
          scopeId,
          period: 'month',
          limit: 5e9,
          warnAt: 0.8,
          source: 'admin',
          createdAt: 1,
          updatedAt: 1,
        },
        audit('budget.create'),
      )
    }
    expect(await store.deleteProject('alpha', audit('project.delete'))).toBe(true)
    const snapshot = await store.snapshot()
    expect([snapshot.projects, snapshot.keys, snapshot.providerKeys, snapshot.budgets]).toEqual([
      [],
      [],
      [],
      [],
    ])
    expect(await store.deleteProject('alpha', audit('project.delete'))).toBe(false)
  })

  it.skipIf(!available)('replaces a provider key per project and provider', async () => {
    const pk = {
      id: 'pk1',
      projectId: 'alpha',
      provider: 'sim',
      ciphertext: 'x',
      last4: '1234',
      createdAt: 1,
    }
    await store.putProviderKey(pk, audit('provider_key.put'))
    await store.putProviderKey({ ...pk, id: 'pk2', last4: '5678' }, audit('provider_key.put'))
    expect((await store.listProviderKeys('alpha')).map((k) => [k.id, k.last4])).toEqual([['pk2', '5678']])
    expect(await store.deleteProviderKey('alpha', 'sim', audit('provider_key.delete'))).toBe(true)
    expect(await store.deleteProviderKey('alpha', 'sim', audit('provider_key.delete'))).toBe(false)
  })

  it.skipIf(!available)('writes ledger rows once, however often a batch is retried', async () => {
    const rows = [row('r1', { tags: { feature: 'search' } }), row('r2')]
    await store.writeLedger(rows)
    await store.writeLedger(rows)
    await store.writeLedger([row('r1', { cost_nusd: 999_999 })])
    const written = await store.ledger({ limit: 10 })
    expect(written.map((r) => [r.id, r.cost_nusd, r.tags])).toEqual([
      ['r1', 1000, { feature: 'search' }],
      ['r2', 1000, {}],
    ])
  })

  it.skipIf(!available)(
    'groups usage by project, key, model, day and tag; by tag it adds up to the total',
    async () => {
      const day1 = Date.UTC(2026, 11, 1, 10)
      const day2 = Date.UTC(2026, 11, 2, 10)
      await store.writeLedger([
        row('a', { ts: day1, tags: { feature: 'search', team: 'x' }, cost_nusd: 100 }),
        row('b', { ts: day1, tags: { feature: 'chat' }, cost_nusd: 200, key_id: 'k2' }),
        row('c', { ts: day2, cost_nusd: 400, project: 'beta', model_served: 'gpt-4o' }),
        // An extra attempt: its cost counts, it is not a request.
        row('c#1', {
          ts: day2,
          parent_id: 'c',
          attempt: 1,
          cost_nusd: 8,
          project: 'beta',
          model_served: 'gpt-4o',
        }),
        row('d', { ts: day2, tags: { feature: 'search' }, cost_nusd: 1600, saved_nusd: 50, cache: 'hit' }),
      ])
      const by = async (query: Parameters<GovernanceStore['usage']>[0]) =>
        (await store.usage(query)).map((r) => [r.group, r.requests, r.cost_nusd])
      expect(await by({ by: 'project' })).toEqual([
        ['alpha', 3, 1900],
        ['beta', 1, 408],
      ])
      expect(await by({ by: 'key' })).toEqual([
        ['k1', 3, 2108],
        ['k2', 1, 200],
      ])
      expect(await by({ by: 'model' })).toEqual([
        ['gpt-4o', 1, 408],
        ['gpt-4o-mini', 3, 1900],
      ])
      expect(await by({ by: 'day' })).toEqual([
        ['2026-12-01', 2, 300],
        ['2026-12-02', 2, 2008],
      ])
      const tags = await store.usage({ by: 'tag', tag: 'feature' })
      expect(tags.map((r) => [r.group, r.requests, r.cost_nusd])).toEqual([
        [null, 1, 408],
        ['chat', 1, 200],
        ['search', 2, 1700],
      ])
      const total = (await store.usage({ by: 'project' })).reduce((s, r) => s + r.cost_nusd, 0)
      expect(tags.reduce((s, r) => s + r.cost_nusd, 0)).toBe(total)
      expect(await by({ by: 'project', project: 'alpha', from: day2 })).toEqual([['alpha', 1, 1600]])
      expect(await store.spendSince('project', 'alpha', day2)).toBe(1600)
      expect(await store.spendSince('key', 'k1', 0)).toBe(2108)
    },
  )

  it.skipIf(!available)('pages the audit log back in time and filters it', async () => {
    await store.writeAudit([
      auditEvent(
        {
          actor: 'gateway',
          action: 'request.denied',
          project: 'alpha',
          target: 'r1',
          reason: 'policy',
          details: null,
        },
        10,
      ),
      auditEvent(
        {
          actor: 'gateway',
          action: 'budget.warning',
          project: 'alpha',
          target: 'b1',
          reason: null,
          details: null,
        },
        20,
      ),
      auditEvent(
        {
          actor: 'gateway',
          action: 'request.denied',
          project: 'beta',
          target: 'r2',
          reason: 'policy',
          details: null,
        },
        30,
      ),
    ])
    expect((await store.auditLog({ limit: 10 })).map((e) => e.ts)).toEqual([30, 20, 10])
    expect((await store.auditLog({ limit: 10, project: 'alpha' })).map((e) => e.ts)).toEqual([20, 10])
    expect(
      (await store.auditLog({ limit: 10, action: 'request.denied', before: 30 })).map((e) => e.ts),
    ).toEqual([10])
  })
})
