import type { Logger } from '../telemetry/logger.js'
import type { AuditEvent, GovernanceStore, LedgerEntry } from './store.js'

/** Where batches go: the store itself, or (on Node) a worker thread with its own connection to it. */
export type LedgerSink = Pick<GovernanceStore, 'writeLedger' | 'writeAudit'>

export interface LedgerWriterOptions {
  store: LedgerSink
  logger: Logger
  /** How long a row may wait before its batch is written (ms). */
  flushMs?: number
  /** A batch this large is written at once. */
  batchRows?: number
  /** Rows kept while the database fails; past it the oldest are dropped, counted and logged. */
  maxPending?: number
}

export interface LedgerStats {
  written: number
  pending: number
  /** Batches the database refused (each is kept and retried). */
  failures: number
  /** Rows given up on because `maxPending` was exceeded during a long outage. */
  dropped: number
}

const MAX_BACKOFF_MS = 30_000

/**
 * Writes ledger rows and audit events in batches, off the request path: a request only pushes its row. When
 * the database fails, rows stay in memory and the batch is retried with backoff (rows are idempotent by id,
 * so a batch that half-succeeded is safe to write again); the gateway keeps serving. Only an outage long
 * enough to pile up `maxPending` rows loses any, and those are counted and logged.
 */
export class LedgerWriter {
  readonly stats: LedgerStats = { written: 0, pending: 0, failures: 0, dropped: 0 }
  #rows: LedgerEntry[] = []
  #audit: AuditEvent[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #flushing: Promise<void> | undefined
  #backoff = 0
  #closed = false
  readonly #store: LedgerSink
  readonly #logger: Logger
  readonly #flushMs: number
  readonly #batch: number
  readonly #max: number

  constructor(options: LedgerWriterOptions) {
    this.#store = options.store
    this.#logger = options.logger
    this.#flushMs = options.flushMs ?? 100
    this.#batch = options.batchRows ?? 500
    this.#max = options.maxPending ?? 200_000
  }

  /** Queues one row; it is written within `flushMs` (sooner when a batch fills). */
  record(entry: LedgerEntry): void {
    this.#rows.push(entry)
    if (this.#rows.length > this.#max) {
      const over = this.#rows.length - this.#max
      this.#rows.splice(0, over)
      this.stats.dropped += over
      this.#logger.error('ledger rows dropped: the database has failed for too long', { dropped: over })
    }
    this.stats.pending = this.#rows.length + this.#audit.length
    this.#schedule(this.#rows.length >= this.#batch ? 0 : this.#flushMs)
  }

  audit(event: AuditEvent): void {
    this.#audit.push(event)
    this.stats.pending = this.#rows.length + this.#audit.length
    this.#schedule(this.#flushMs)
  }

  /** Writes everything queued now; resolves when written, rejects if the database refused (rows are kept). */
  async flush(): Promise<void> {
    if (this.#flushing !== undefined) await this.#flushing.catch(() => {})
    if (this.#rows.length === 0 && this.#audit.length === 0) return
    const rows = this.#rows.splice(0, this.#rows.length)
    const audit = this.#audit.splice(0, this.#audit.length)
    const run = (async () => {
      try {
        await this.#store.writeLedger(rows)
        this.stats.written += rows.length
        rows.length = 0
        await this.#store.writeAudit(audit)
        audit.length = 0
      } finally {
        // Whatever was not written goes back to the front, in order.
        if (rows.length > 0) this.#rows.unshift(...rows)
        if (audit.length > 0) this.#audit.unshift(...audit)
        this.stats.pending = this.#rows.length + this.#audit.length
      }
    })()
    this.#flushing = run
    try {
      await run
    } finally {
      this.#flushing = undefined
    }
  }

  /** Stops the timer after a last flush (tried a few times). */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    for (let i = 0; i < 3; i++) {
      try {
        await this.flush()
        return
      } catch (err) {
        if (i === 2) {
          this.#logger.error('ledger rows could not be written at shutdown', {
            pending: this.stats.pending,
            error: err instanceof Error ? err.message : String(err),
          })
        }
      }
    }
  }

  #schedule(ms: number): void {
    if (this.#closed) return
    if (this.#timer !== undefined) {
      if (ms > 0) return
      clearTimeout(this.#timer)
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.flush().then(
        () => {
          this.#backoff = 0
          if (this.#rows.length > 0 || this.#audit.length > 0) this.#schedule(this.#flushMs)
        },
        (err: unknown) => {
          this.stats.failures++
          const first = this.#backoff === 0
          this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(this.#flushMs, this.#backoff * 2 || 500))
          if (first) {
            this.#logger.warn('ledger write failed; rows are kept and retried', {
              pending: this.stats.pending,
              error: err instanceof Error ? err.message : String(err),
            })
          }
          this.#schedule(this.#backoff)
        },
      )
    }, ms)
  }
}
