/** Resolves with how long `op` took to settle, and whether it rejected. */
export async function timed(op: () => unknown): Promise<{ ms: number; rejected: boolean }> {
  const start = performance.now()
  let rejected = false
  await Promise.resolve()
    .then(op)
    .catch(() => {
      rejected = true
    })
  return { ms: performance.now() - start, rejected }
}

/** Retries `probe` every 25 ms until it resolves, or rethrows its last error after `timeoutMs`. */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      return await probe()
    } catch (err) {
      if (performance.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}
