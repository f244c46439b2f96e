const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
}

export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i

/**
 * Parses a byte size. Units are binary, as in nginx: `10MB` is 10 × 1024 × 1024 bytes.
 *
 * @example parseSize('10MB') // 10485760
 */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value
  const match = SIZE_PATTERN.exec(value.trim())
  if (!match) throw new Error(`invalid size "${value}" (expected e.g. 512KB, 10MB)`)
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1
  return Math.floor(Number(match[1]) * unit)
}
