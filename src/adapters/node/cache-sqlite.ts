import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { CacheEntry, CacheTier } from '../../cache/tier.js'
import { type Clock, systemClock } from '../../core/clock.js'

export interface SqliteTierOptions {
  /** The database file (its directory is created if missing), or `:memory:`. */
  path: string
  clock?: Pick<Clock, 'epoch'>
  /** Expired rows are swept after this many writes (default 256), at most `sweepLimit` (default 1000) a time. */
  sweepEvery?: number
  sweepLimit?: number
}

/** A SQLite tier: better-sqlite3 is synchronous, and so is every method. */
export interface SqliteTier extends CacheTier {
  get(key: string): CacheEntry | undefined
  set(key: string, entry: CacheEntry): void
  delete(key: string): boolean
  purgeProject(project: string): number
  close(): void
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cache (
  key TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  target TEXT NOT NULL,
  body TEXT NOT NULL,
  stored_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_project ON cache (project);
CREATE INDEX IF NOT EXISTS cache_expires_at ON cache (expires_at);
`

/**
 * A cache tier in one SQLite file (better-sqlite3, WAL): a source of truth that survives restarts on a
 * single origin. better-sqlite3 is synchronous, so `get` answers directly, without a promise.
 * Expired rows are never returned and are swept now and then, a bounded batch at a time.
 *
 * @example
 * const tier = sqliteTier({ path: 'data/cache.db' })
 * tier.set(key, entry)
 * tier.get(key) // CacheEntry | undefined
 * tier.close()
 */
export function sqliteTier(options: SqliteTierOptions): SqliteTier {
  const clock = options.clock ?? systemClock
  const sweepEvery = options.sweepEvery ?? 256
  if (options.path !== ':memory:' && options.path !== '') {
    mkdirSync(dirname(options.path), { recursive: true })
  }
  const db = new Database(options.path)
  db.pragma('journal_mode = WAL')
  // A cache may lose its last writes on power loss; it must not pay an fsync per answer.
  db.pragma('synchronous = NORMAL')
  db.exec(SCHEMA)

  // The aliases make the row a CacheEntry as it comes, with no copy.
  const select = db.prepare<[string, number], CacheEntry>(
    `SELECT body, project, target, stored_at AS storedAt, expires_at AS expiresAt
     FROM cache WHERE key = ? AND expires_at > ?`,
  )
  const upsert = db.prepare<[string, string, string, string, number, number]>(
    `INSERT INTO cache (key, project, target, body, stored_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET project = excluded.project, target = excluded.target,
       body = excluded.body, stored_at = excluded.stored_at, expires_at = excluded.expires_at`,
  )
  const deleteLive = db.prepare<[string, number]>('DELETE FROM cache WHERE key = ? AND expires_at > ?')
  const deleteKey = db.prepare<[string]>('DELETE FROM cache WHERE key = ?')
  const purgeLive = db.prepare<[string, number]>('DELETE FROM cache WHERE project = ? AND expires_at > ?')
  const purgeAll = db.prepare<[string]>('DELETE FROM cache WHERE project = ?')
  const sweep = db.prepare<[number, number]>(
    'DELETE FROM cache WHERE rowid IN (SELECT rowid FROM cache WHERE expires_at <= ? LIMIT ?)',
  )

  // Live rows are counted first, then the expired rest of the same key or project goes too.
  const removeCounting = db.transaction((live: () => number, rest: () => void) => {
    const n = live()
    rest()
    return n
  })

  let writes = 0
  return {
    name: 'sqlite',
    get: (key) => select.get(key, clock.epoch()),
    set(key, entry) {
      const now = clock.epoch()
      if (entry.expiresAt <= now) {
        deleteKey.run(key)
        return
      }
      upsert.run(key, entry.project, entry.target, entry.body, entry.storedAt, entry.expiresAt)
      if (++writes % sweepEvery === 0) sweep.run(now, options.sweepLimit ?? 1000)
    },
    delete(key) {
      const now = clock.epoch()
      return (
        removeCounting(
          () => deleteLive.run(key, now).changes,
          () => deleteKey.run(key),
        ) > 0
      )
    },
    purgeProject(project) {
      const now = clock.epoch()
      return removeCounting(
        () => purgeLive.run(project, now).changes,
        () => purgeAll.run(project),
      )
    },
    close() {
      db.close()
    },
  }
}
