/** The q-th quantile (0..1) of a sample, by nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]!
}

export function summarize(samples: number[]): { p50: number; p99: number; n: number } {
  const sorted = Float64Array.from(samples).sort()
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), n: sorted.length }
}

export const ms = (x: number) => x.toFixed(3)
