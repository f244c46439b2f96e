import type { Logger } from '../../telemetry/logger.js'
import { lineWriter } from './line-writer.js'

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const

export type LogLevel = keyof typeof LEVELS

/**
 * JSON lines, one object per record: debug and info on stdout, batched (see lineWriter); warnings and
 * errors on stderr, written at once.
 */
export function jsonLogger(level: LogLevel, clock: () => number = Date.now): Logger & { flush(): void } {
  const min = LEVELS[level]
  const out = lineWriter(1)
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return
    const line = `${JSON.stringify({ time: new Date(clock()).toISOString(), level: lvl, msg, ...fields })}\n`
    if (LEVELS[lvl] >= LEVELS.warn) {
      out.flush()
      process.stderr.write(line)
    } else out.write(line)
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    flush: out.flush,
  }
}
