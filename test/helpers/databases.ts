import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { type OpenDatabase, openDatabase } from '../../src/adapters/node/database.js'
import { needService, SERVICE_URLS } from './services.js'

/** The database URL of Postgres' `test` database (`POSTGRES_URL` overrides the server). */
export function postgresTestUrl(schema: string): string {
  const url = new URL(SERVICE_URLS.postgres)
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/test'
  // Every Postgres has the postgres role; trust auth lets it in without a password.
  if (url.username === '') url.username = 'postgres'
  url.searchParams.set('schema', schema)
  return url.toString()
}

/** A schema name no other test run uses. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
}

export interface TestDatabase extends OpenDatabase {
  /** The `storage.database` URL a gateway can be started with to use this same database. */
  url: string
  /** Closes it; a Postgres schema is dropped. */
  drop(): Promise<void>
}

/**
 * The dialects every governance suite runs on. SQLite always; Postgres when it is reachable (under `CI=true`
 * a missing Postgres fails the suite instead of skipping it).
 */
export async function databaseKinds(): Promise<{ name: 'sqlite' | 'postgres'; available: boolean }[]> {
  const postgres = await needService('postgres')
  return [
    { name: 'sqlite', available: true },
    { name: 'postgres', available: postgres.available },
  ]
}

/**
 * A fresh, migrated database of that dialect: a SQLite file in the temp directory, or a Postgres schema of its
 * own; either can be opened again by `url` (a gateway under test sharing it).
 */
export async function freshDatabase(kind: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const path = join(tmpdir(), `${uniqueSchema('meridian')}.db`)
    const url = `sqlite:${path}`
    const opened = await openDatabase(url)
    return {
      ...opened,
      url,
      async drop() {
        await opened.db.destroy()
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
      },
    }
  }
  const schema = uniqueSchema('meridian')
  const url = postgresTestUrl(schema)
  const opened = await openDatabase(url)
  return {
    ...opened,
    url,
    async drop() {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(opened.db)
      await opened.db.destroy()
    },
  }
}
