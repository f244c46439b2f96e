/**
 * The ledger's worker thread: its own connection to the governance database, writing the batches the main
 * thread posts, so that the work of an INSERT (query building, SQLite's pages, pg's encoding) never runs on
 * the thread that serves requests. Messages: `{ id, kind: 'ledger' | 'audit', rows }` → `{ id, error? }`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { AuditEvent, LedgerEntry } from '../../governance/store.js'
import { sqlGovernanceStore } from '../../storage/sql/governance-store.js'
import { openDatabase } from './database.js'
import { sqliteLedgerWriter } from './ledger-sqlite.js'

interface Batch {
  id: number
  kind: 'ledger' | 'audit'
  rows: LedgerEntry[] | AuditEvent[]
}

const port = parentPort!
const { db, sqlite } = await openDatabase((workerData as { url: string }).url, {
  migrate: false,
  poolSize: 2,
})
const store = sqlGovernanceStore(db)
const writeLedger = sqlite === undefined ? undefined : sqliteLedgerWriter(db, sqlite)

port.on('message', async (batch: Batch | 'close') => {
  if (batch === 'close') {
    await db.destroy()
    port.close()
    return
  }
  try {
    if (batch.kind === 'ledger') {
      if (writeLedger !== undefined) writeLedger(batch.rows as LedgerEntry[])
      else await store.writeLedger(batch.rows as LedgerEntry[])
    } else await store.writeAudit(batch.rows as AuditEvent[])
    port.postMessage({ id: batch.id })
  } catch (err) {
    port.postMessage({ id: batch.id, error: err instanceof Error ? err.message : String(err) })
  }
})
port.postMessage('ready')
