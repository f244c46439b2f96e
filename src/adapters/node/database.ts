import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Sqlite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import pg from 'pg'
import { migrate } from '../../storage/sql/migrations.js'
import type { Database } from '../../storage/sql/schema.js'

export interface OpenDatabase {
  db: Kysely<Database>
  dialect: 'sqlite' | 'postgres'
  /** The SQLite connection under `db`, for the ledger's prepared inserts. */
  sqlite?: Sqlite.Database
}

/** Postgres type ids of int8 (bigint, count) and numeric (sum of bigints): read as JS numbers, not strings. */
const INT8 = 20
const NUMERIC = 1700

/**
 * Opens and migrates the governance database `storage.database` names: `sqlite:<path>` (the directory is
 * created), `memory` (SQLite in memory, for tests and demos) or `postgres://…`. A Postgres URL may carry
 * `?schema=<name>` to keep Meridian's tables in their own schema (created if missing).
 */
export async function openDatabase(
  url: string,
  options: { migrate?: boolean; poolSize?: number } = {},
): Promise<OpenDatabase> {
  const migrating = options.migrate ?? true
  if (url === 'memory' || url.startsWith('sqlite:')) {
    const path = url === 'memory' ? ':memory:' : url.slice('sqlite:'.length)
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const database = new Sqlite(path)
    database.pragma('journal_mode = WAL')
    database.pragma('synchronous = NORMAL')
    database.pragma('busy_timeout = 5000')
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
    if (migrating) await migrate(db as Kysely<unknown>)
    return { db, dialect: 'sqlite', sqlite: database }
  }
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema')
  parsed.searchParams.delete('schema')
  if (schema !== null && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`storage.database: schema "${schema}" must be a plain lower-case identifier`)
  }
  const parse = (text: string) => Number(text)
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
    types: {
      getTypeParser: ((id: number, format?: string) =>
        id === INT8 || id === NUMERIC ? parse : pg.types.getTypeParser(id, format as 'text')) as never,
    },
  })
  // An idle client's error (the server restarted) must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  try {
    if (migrating) {
      if (schema !== null) await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
      await migrate(db as Kysely<unknown>, schema ?? 'public')
    }
  } catch (err) {
    await db.destroy()
    throw err
  }
  return { db, dialect: 'postgres' }
}
