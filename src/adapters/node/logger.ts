import type { Logger } from '../../telemetry/logger.js'
import { lineWriter } from './line-writer.js'

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const

export type LogLevel = keyof typeof LEVELS

export interface LogSink {
  /** debug and info lines: batched. */
  out: { write(line: string): void; flush(): void }
  /** warn and error lines: written at once. */
  err(line: string): void
}

/**
 * JSON lines, one object per record: debug and info on stdout, batched (see lineWriter); warnings and
 * errors on stderr, written at once (after flushing what stdout holds, so the order survives).
 */
export function jsonLogger(
  level: LogLevel,
  sink: LogSink = { out: lineWriter(1), err: (line) => process.stderr.write(line) },
  clock: () => number = Date.now,
): Logger & { flush(): void } {
  const min = LEVELS[level]
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return
    // The record's own fields follow time, level and msg without being copied into a new object.
    const rest = fields === undefined ? '}' : JSON.stringify(fields).slice(1)
    const head = `{"time":"${new Date(clock()).toISOString()}","level":"${lvl}","msg":${JSON.stringify(msg)}`
    const line = `${head}${rest.length > 1 ? `,${rest}` : rest}\n`
    if (LEVELS[lvl] >= LEVELS.warn) {
      sink.out.flush()
      sink.err(line)
    } else sink.out.write(line)
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    flush: () => sink.out.flush(),
  }
}
