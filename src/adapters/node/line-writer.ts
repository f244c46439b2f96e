import { writeSync } from 'node:fs'

/**
 * Buffers log lines and writes them in batches: at most every `intervalMs`, or as soon as `maxBytes` wait,
 * and synchronously at exit. A synchronous write per request line costs a system call on the hot path,
 * which on some virtual machines is a large share of a proxied request's time.
 */
export function lineWriter(
  fd: number,
  intervalMs = 100,
  maxBytes = 64 * 1024,
): { write(line: string): void; flush(): void } {
  let buffer = ''
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    if (buffer === '') return
    const out = buffer
    buffer = ''
    try {
      writeSync(fd, out)
    } catch {
      // A closed or full stdout must not take the gateway down; the lines are lost, the requests are not.
    }
  }
  process.once('exit', flush)
  return {
    write(line) {
      buffer += line
      if (buffer.length >= maxBytes) flush()
      else if (timer === undefined) {
        timer = setTimeout(flush, intervalMs)
        timer.unref()
      }
    },
    flush,
  }
}
