import type { CacheEntry, CacheTier } from '../../cache/tier.js'
import type { EdgeConfig } from '../../edge/config.js'
import type { KeyReplicaStore } from '../../edge/keys.js'
import { KV_MIN_TTL_S } from '../../edge/replicate.js'
import type { EdgeUsage } from '../../edge/usage.js'
import type { ReplicaKey } from '../../governance/governance.js'

/** A key known not to exist is remembered in KV this long (KV's shortest expiry). */
const ABSENT_TTL_S = KV_MIN_TTL_S
/**
 * A key's entry is kept this long: the origin pushes every change at once, and should a push be lost, the
 * entry still expires and is read through again, so a revocation reaches the edge within this at worst.
 */
export const KEY_TTL_S = 300

/** Seconds until `expiresAt`, at least KV's minimum (the entry itself still expires by `expiresAt`). */
export function kvTtl(expiresAt: number, now: number): number {
  return Math.max(KV_MIN_TTL_S, Math.ceil((expiresAt - now) / 1000))
}

/**
 * The edge's cache replica in Workers KV: eventually consistent, read at the PoP, written by the origin's
 * pushes and by read-throughs. An entry past its `expiresAt` is never served, whatever KV still holds.
 */
export function kvCacheTier(kv: KVNamespace, now: () => number = Date.now): CacheTier {
  return {
    name: 'kv',
    async get(key) {
      const entry = await kv.get<CacheEntry>(key, 'json')
      return entry === null || entry.expiresAt <= now() ? undefined : entry
    },
    async set(key, entry) {
      await kv.put(key, JSON.stringify(entry), { expirationTtl: kvTtl(entry.expiresAt, now()) })
    },
    async delete(key) {
      await kv.delete(key)
      return true
    },
    // KV cannot list by project: a project's purge reaches the origin's stores; KV entries age out by TTL.
    purgeProject: () => 0,
  }
}

/** The key replica: `key:<sha256>` → the key's replica entry (five minutes), or `{"absent":true}` (one). */
export function kvKeyReplica(kv: KVNamespace): KeyReplicaStore {
  return {
    async get(hash) {
      const value = await kv.get<ReplicaKey | { absent: true }>(`key:${hash}`, 'json')
      if (value === null) return undefined
      return 'absent' in value ? 'absent' : value
    },
    async put(hash, value) {
      if (value === 'absent') await kv.put(`key:${hash}`, '{"absent":true}', { expirationTtl: ABSENT_TTL_S })
      else await kv.put(`key:${hash}`, JSON.stringify(value), { expirationTtl: KEY_TTL_S })
    },
  }
}

export const CONFIG_KEY = 'config'

export async function kvConfig(kv: KVNamespace): Promise<EdgeConfig | undefined> {
  return (await kv.get<EdgeConfig>(CONFIG_KEY, 'json')) ?? undefined
}

const SPILL = 'usage:'

/** Usage batches that could not reach the origin, kept in KV until they can (a week at most). */
export function kvUsageSpill(kv: KVNamespace) {
  return {
    async spill(records: EdgeUsage[]) {
      await kv.put(`${SPILL}${crypto.randomUUID()}`, JSON.stringify(records), { expirationTtl: 7 * 86_400 })
    },
    async unspill(): Promise<EdgeUsage[]> {
      const listed = await kv.list({ prefix: SPILL, limit: 20 })
      const out: EdgeUsage[] = []
      for (const { name } of listed.keys) {
        const records = await kv.get<EdgeUsage[]>(name, 'json')
        if (records !== null) out.push(...records)
        // Taken: if this batch fails too, it is spilled again as a new one. Records are idempotent by id.
        await kv.delete(name)
      }
      return out
    },
  }
}
