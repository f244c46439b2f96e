const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * Parses a duration into milliseconds: `250ms`, `30s`, `10m`, `12h`, `30d`; a bare number is seconds.
 *
 * @example parseDuration('1d') // 86400000
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 1000)
  const match = DURATION_PATTERN.exec(value.trim())
  if (!match) throw new Error(`invalid duration "${value}" (expected e.g. 30s, 10m, 1d)`)
  return Math.round(Number(match[1]) * (UNITS[match[2]!] ?? 1))
}
