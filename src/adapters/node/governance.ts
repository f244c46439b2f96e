import type { Config } from '../../config/schema.js'
import type { ReadinessCheck } from '../../core/runtime.js'
import { bootstrap } from '../../governance/bootstrap.js'
import type { BudgetStore } from '../../governance/budgets.js'
import { Governance, type KeyReplica } from '../../governance/governance.js'
import { parseEncryptionKey, secretBox } from '../../governance/secrets.js'
import { providerWithKey } from '../../providers/registry.js'
import { sqlBudgetStore } from '../../storage/sql/budget-store.js'
import { sqlGovernanceStore } from '../../storage/sql/governance-store.js'
import type { Logger } from '../../telemetry/logger.js'
import { redisBudgets } from './budgets-redis.js'
import { openDatabase } from './database.js'
import { workerLedgerSink } from './ledger-sink.js'
import { sha256Hex } from './sha256.js'

export interface NodeGovernance {
  governance: Governance
  readiness: ReadinessCheck[]
  close(): Promise<void>
}

/** OpenAI's o200k tokenizer, loaded once (about 300 ms) and only when a gateway starts. */
async function tokenizer(): Promise<(text: string) => number> {
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base')
  return (text) => countTokens(text)
}

/**
 * Governance on Node: the database `storage.database` names (migrated), the config upserted into it, the
 * budget store (the database, or Redis), the encryption key for projects' provider keys from
 * `MERIDIAN_ENCRYPTION_KEY`, OpenAI's tokenizer, and the first snapshot loaded.
 */
export async function openGovernance(
  config: Config,
  logger: Logger,
  env: Readonly<Record<string, string | undefined>>,
  replica?: KeyReplica,
): Promise<NodeGovernance> {
  const { db } = await openDatabase(config.storage.database)
  const store = sqlGovernanceStore(db)
  let budgets: BudgetStore & { ping?(): Promise<void>; close?(): Promise<void> }
  let closeSink: (() => Promise<void>) | undefined
  try {
    const secret = env.MERIDIAN_ENCRYPTION_KEY
    const box =
      secret === undefined || secret === '' ? undefined : await secretBox(parseEncryptionKey(secret))
    if (config.budgets.store.startsWith('redis')) {
      const redis = redisBudgets({
        url: config.budgets.store,
        spendSince: (charge) => store.spendSince(charge.scope, charge.scopeId, charge.period),
        onError: (err) =>
          logger.warn('budget store (Redis) failed; budgeted requests get 503', { error: err.message }),
      })
      budgets = redis
      await redis.ready().catch((err: Error) => {
        logger.warn('budget store (Redis) unreachable at start', { error: err.message })
      })
    } else budgets = sqlBudgetStore(db)
    const report = await bootstrap(store, config, Date.now(), sha256Hex)
    if (report.projects + report.keys + report.budgets + report.revoked > 0) {
      logger.info('config upserted into the governance database', { ...report })
    }
    // A database another connection can reach gets its ledger written by a worker thread.
    const sink = config.storage.database === 'memory' ? undefined : workerLedgerSink(config.storage.database)
    closeSink = sink?.close
    await sink?.ready()
    const governance = new Governance({
      store,
      budgets,
      clock: { now: () => performance.now(), epoch: () => Date.now() },
      logger,
      sha256: sha256Hex,
      countTokens: await tokenizer(),
      box,
      providerWithKey: providerWithKey(config),
      refreshMs: config.storage.refresh,
      reservationTtlMs: config.budgets.reservation_ttl,
      replica,
      ledger: sink === undefined ? undefined : { store: sink },
    })
    await governance.start()
    const readiness: ReadinessCheck[] = [{ name: 'database', check: () => store.ping() }]
    const ping = budgets.ping
    if (ping !== undefined) readiness.push({ name: 'budgets', check: () => ping.call(budgets) })
    return {
      governance,
      readiness,
      async close() {
        await governance.close()
        await sink?.close()
        await budgets.close?.()
        await store.close()
      },
    }
  } catch (err) {
    await closeSink?.()
    await store.close()
    throw err
  }
}
