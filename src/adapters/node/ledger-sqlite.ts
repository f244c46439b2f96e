import type Sqlite from 'better-sqlite3'
import type { Kysely } from 'kysely'
import type { LedgerEntry } from '../../governance/store.js'
import { type Database, LEDGER_COLUMNS } from '../../storage/sql/schema.js'

/**
 * Ledger rows into SQLite with two prepared statements in one transaction. The statements are the query
 * builder's own (compiled once from a one-row insert), so this is the same SQL as `writeLedger`, without
 * building and preparing a 200-row query for every batch: about half the ledger worker's time.
 */
export function sqliteLedgerWriter(db: Kysely<Database>, sqlite: Sqlite.Database) {
  const blank = Object.fromEntries(LEDGER_COLUMNS.map((c) => [c, null])) as never
  const row = db
    .insertInto('ledger')
    .values(blank)
    .onConflict((oc) => oc.column('id').doNothing())
    .compile()
  const tag = db
    .insertInto('ledger_tags')
    .values({ ledger_id: '', key: '', value: '' })
    .onConflict((oc) => oc.columns(['ledger_id', 'key']).doNothing())
    .compile()
  const insertRow = sqlite.prepare(row.sql)
  const insertTag = sqlite.prepare(tag.sql)
  const values: unknown[] = new Array(LEDGER_COLUMNS.length)
  return sqlite.transaction((rows: readonly LedgerEntry[]) => {
    for (const entry of rows) {
      for (let i = 0; i < LEDGER_COLUMNS.length; i++) values[i] = entry[LEDGER_COLUMNS[i]!]
      insertRow.run(values)
      if (entry.tags !== undefined) {
        for (const key of Object.keys(entry.tags)) insertTag.run(entry.id, key, entry.tags[key])
      }
    }
  })
}
