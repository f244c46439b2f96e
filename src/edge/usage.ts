import { z } from 'zod'
import { costNanos } from '../governance/money.js'
import type { LedgerEntry } from '../governance/store.js'
import type { Price } from '../routing/catalog.js'

/**
 * What the edge tells the origin about a request it answered itself (a cache hit from KV, a rate-limit
 * refusal, its own error): the origin never saw it, and every served request must have its ledger row. The
 * ledger's own columns, less what the origin works out (cost, savings) from its price table.
 */
export const edgeUsageSchema = z.object({
  id: z.string().min(1).max(200),
  request_id: z.string().min(1).max(200),
  ts: z.number().int().nonnegative(),
  project: z.string().min(1).max(200),
  key_id: z.string().max(200).nullable(),
  session: z.string().max(200).nullable(),
  tags: z.record(z.string(), z.string()).nullable(),
  route: z.enum(['chat', 'embeddings', 'messages', 'count_tokens']),
  model_requested: z.string().max(500).nullable(),
  model_served: z.string().max(500).nullable(),
  target: z.string().max(500).nullable(),
  status: z.number().int(),
  error: z.string().max(200).nullable(),
  stream: z.boolean(),
  cache: z.enum(['hit', 'miss', 'bypass', 'coalesced']).nullable(),
  cache_layer: z.enum(['edge', 'origin']).nullable(),
  tokens_in: z.number().int().nonnegative().nullable(),
  tokens_out: z.number().int().nonnegative().nullable(),
  tokens_cached: z.number().int().nonnegative().nullable(),
  latency_ms: z.number().nonnegative(),
})

export type EdgeUsage = z.output<typeof edgeUsageSchema>

export const edgeUsageBatchSchema = z.object({ records: z.array(edgeUsageSchema).max(1000) })

/**
 * The ledger row of a request the edge answered: it cost nothing (a hit, or a refusal) and a hit saved what
 * its stored answer cost at its target's price.
 */
export function ledgerEntryOfEdge(
  record: EdgeUsage,
  priceOf: (target: string) => Price | undefined,
): LedgerEntry {
  const hit = record.cache === 'hit'
  const usage =
    record.tokens_in === null || record.tokens_out === null
      ? undefined
      : {
          prompt: record.tokens_in,
          completion: record.tokens_out,
          cached: record.tokens_cached ?? 0,
          written: 0,
        }
  const saved =
    hit && usage !== undefined && record.target !== null ? (costNanos(priceOf(record.target), usage) ?? 0) : 0
  return {
    id: record.id,
    request_id: record.request_id,
    parent_id: null,
    ts: record.ts,
    tier: 'edge',
    project: record.project,
    key_id: record.key_id,
    session: record.session,
    route: record.route,
    model_requested: record.model_requested,
    model_served: record.model_served,
    target: record.target,
    attempt: 0,
    status: record.status,
    error: record.error,
    stream: record.stream ? 1 : 0,
    cache: record.cache,
    cache_layer: record.cache_layer,
    tokens_in: record.tokens_in,
    tokens_out: record.tokens_out,
    tokens_cached: record.tokens_cached,
    cost_nusd: 0,
    saved_nusd: saved,
    reference_nusd: null,
    estimated: 0,
    latency_ms: record.latency_ms,
    upstream_ms: 0,
    override: null,
    prompt: null,
    response: null,
    tags: record.tags ?? undefined,
  }
}

export interface UsageBatcherOptions {
  /** Sends one batch to the origin; rejects when it could not. Records are idempotent by id. */
  send(records: EdgeUsage[]): Promise<void>
  /** Keeps a batch that could not be sent (KV), to be sent again later. */
  spill?(records: EdgeUsage[]): Promise<void>
  /** Batches spilled earlier, taken back for sending (at most once a minute). */
  unspill?(): Promise<EdgeUsage[]>
  sleep(ms: number): Promise<void>
  now(): number
  /** How long a record may wait for its batch (default 1 s). */
  batchMs?: number
  /** A batch this large leaves at once (default 200). */
  maxBatch?: number
  /** Attempts per batch before it is spilled (default 3, with 0.2 s, 0.4 s between). */
  attempts?: number
}

/**
 * Usage records of one isolate, batched: the first record of a batch starts a timer, and every request that
 * adds to it hands the batch's promise to `waitUntil`, so the runtime keeps the isolate alive until it is
 * sent. A batch that fails is retried, then spilled (KV) and sent again with a later batch.
 */
export class UsageBatcher {
  #records: EdgeUsage[] = []
  #pending: Promise<void> | undefined
  #unspilledAt = Number.NEGATIVE_INFINITY
  readonly #options: UsageBatcherOptions

  constructor(options: UsageBatcherOptions) {
    this.#options = options
  }

  /** Queues a record; answers the promise to hand to `waitUntil`. */
  add(record: EdgeUsage): Promise<void> {
    this.#records.push(record)
    if (this.#records.length >= (this.#options.maxBatch ?? 200)) {
      const batch = this.#records.splice(0)
      return this.#send(batch)
    }
    this.#pending ??= this.#options.sleep(this.#options.batchMs ?? 1000).then(() => {
      this.#pending = undefined
      return this.#send(this.#records.splice(0))
    })
    return this.#pending
  }

  async #send(batch: EdgeUsage[]): Promise<void> {
    const { unspill, spill, send, sleep } = this.#options
    if (unspill !== undefined && this.#options.now() - this.#unspilledAt > 60_000) {
      this.#unspilledAt = this.#options.now()
      try {
        batch.push(...(await unspill()))
      } catch {
        // Spilled records stay where they are; the next minute tries again.
      }
    }
    if (batch.length === 0) return
    const attempts = this.#options.attempts ?? 3
    for (let i = 0; i < attempts; i++) {
      try {
        await send(batch)
        return
      } catch {
        if (i < attempts - 1) await sleep(200 * 2 ** i)
      }
    }
    await spill?.(batch).catch(() => {})
  }
}
