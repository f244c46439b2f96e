import { type Clock, systemClock } from '../core/clock.js'
import type { CacheEntry, CacheTier } from './tier.js'

/**
 * What one entry costs beyond its strings, in bytes: the Map slot, the record wrapping the entry, the entry
 * object with its five fields and two heap numbers, and four string headers. Measured in the order of
 * magnitude on V8 (~150–250 bytes); erring high keeps the bound honest.
 */
export const ENTRY_OVERHEAD = 240

/** An upper bound of the memory an entry holds: strings as two bytes per UTF-16 unit, plus the overhead. */
export function entryBytes(key: string, entry: CacheEntry): number {
  return (key.length + entry.body.length + entry.project.length + entry.target.length) * 2 + ENTRY_OVERHEAD
}

interface Slot {
  entry: CacheEntry
  bytes: number
}

export interface MemoryTierOptions {
  /** The byte budget (see `entryBytes`); 0 stores nothing. */
  maxBytes: number
  clock?: Pick<Clock, 'epoch'>
}

/** A memory tier: every method answers synchronously; `bytes` and `size` say what it holds now. */
export interface MemoryTier extends CacheTier {
  readonly bytes: number
  readonly size: number
  get(key: string): CacheEntry | undefined
  set(key: string, entry: CacheEntry): void
  delete(key: string): boolean
  purgeProject(project: string): number
  close(): void
}

/**
 * An in-process LRU bounded in bytes: the origin's edge replica, and the `memory` source for tests.
 * Everything is synchronous and O(1) but `purgeProject` (O(n)). A hit returns the stored object itself,
 * so it allocates nothing; callers treat it as read-only. Expired entries count as absent everywhere:
 * `delete` and `purgeProject` report only live entries removed.
 *
 * @example
 * const tier = memoryTier({ maxBytes: 64 * 1024 * 1024 })
 * tier.set(key, entry)
 * const hit = tier.get(key) // CacheEntry | undefined, never a promise
 */
export function memoryTier(options: MemoryTierOptions): MemoryTier {
  const { maxBytes } = options
  const clock = options.clock ?? systemClock
  // A Map iterates in insertion order: re-inserting on every read keeps the least recently read first.
  const slots = new Map<string, Slot>()
  let bytes = 0

  const remove = (key: string): Slot | undefined => {
    const slot = slots.get(key)
    if (!slot) return undefined
    slots.delete(key)
    bytes -= slot.bytes
    return slot
  }

  return {
    name: 'memory',
    get bytes() {
      return bytes
    },
    get size() {
      return slots.size
    },
    get(key) {
      const slot = slots.get(key)
      if (!slot) return undefined
      if (slot.entry.expiresAt <= clock.epoch()) {
        remove(key)
        return undefined
      }
      slots.delete(key)
      slots.set(key, slot)
      return slot.entry
    },
    set(key, entry) {
      remove(key)
      const size = entryBytes(key, entry)
      if (size > maxBytes || entry.expiresAt <= clock.epoch()) return
      slots.set(key, { entry: { ...entry }, bytes: size })
      bytes += size
      for (const oldest of slots.keys()) {
        if (bytes <= maxBytes) break
        remove(oldest)
      }
    },
    delete(key) {
      const slot = remove(key)
      return slot !== undefined && slot.entry.expiresAt > clock.epoch()
    },
    purgeProject(project) {
      const now = clock.epoch()
      let live = 0
      for (const [key, slot] of slots) {
        if (slot.entry.project !== project) continue
        remove(key)
        if (slot.entry.expiresAt > now) live++
      }
      return live
    },
    close() {
      slots.clear()
      bytes = 0
    },
  }
}
