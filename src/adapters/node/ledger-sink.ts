import { Worker } from 'node:worker_threads'
import type { LedgerSink } from '../../governance/ledger.js'
import type { AuditEvent, LedgerEntry } from '../../governance/store.js'

export interface WorkerSink extends LedgerSink {
  /** Starts the worker now rather than at the first batch; resolves once it has connected. */
  ready(): Promise<void>
  close(): Promise<void>
}

/** Run from TypeScript sources (tests, tsx): the worker needs the same loader to read its .ts file. */
const FROM_SOURCE = import.meta.url.endsWith('.ts')

/**
 * The ledger's writes, done by a worker thread with its own connection to the database at `url` (a file or
 * Postgres; never `memory`, which another connection cannot see). Posting a batch costs the main thread a
 * structured clone, a few microseconds a row, instead of the INSERT's tens. A worker that dies fails its
 * pending batches (the ledger writer keeps and retries them) and is started again on the next batch.
 */
export function workerLedgerSink(url: string): WorkerSink {
  let worker: Worker | undefined
  let ready: Promise<void> | undefined
  let next = 0
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()

  const start = (): Promise<void> => {
    const file = new URL(FROM_SOURCE ? './ledger-worker.ts' : './ledger-worker.js', import.meta.url)
    // From sources the worker first registers tsx's loader in its own thread, then imports its entry.
    const spawned = FROM_SOURCE
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(file.href)}) })`,
          { eval: true, workerData: { url } },
        )
      : new Worker(file, { workerData: { url } })
    worker = spawned
    const failAll = (err: Error) => {
      for (const p of pending.values()) p.reject(err)
      pending.clear()
      if (worker === spawned) {
        worker = undefined
        ready = undefined
      }
    }
    spawned.on('error', failAll)
    spawned.on('exit', (code) => failAll(new Error(`the ledger worker exited (${code})`)))
    return new Promise<void>((resolve, reject) => {
      spawned.once('error', reject)
      spawned.on('message', (message: 'ready' | { id: number; error?: string }) => {
        if (message === 'ready') {
          spawned.off('error', reject)
          resolve()
          return
        }
        const waiting = pending.get(message.id)
        pending.delete(message.id)
        if (message.error === undefined) waiting?.resolve()
        else waiting?.reject(new Error(message.error))
      })
    })
  }

  const post = async (kind: 'ledger' | 'audit', rows: readonly LedgerEntry[] | readonly AuditEvent[]) => {
    if (rows.length === 0) return
    ready ??= start()
    await ready
    const id = next++
    const done = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject }))
    worker!.postMessage({ id, kind, rows })
    await done
  }

  return {
    ready() {
      ready ??= start()
      return ready
    },
    writeLedger: (rows) => post('ledger', rows),
    writeAudit: (events) => post('audit', events),
    async close() {
      const running = worker
      if (running === undefined) return
      worker = undefined
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve())
        running.postMessage('close')
        setTimeout(() => void running.terminate(), 2000).unref()
      })
    },
  }
}
