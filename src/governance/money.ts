import type { Price } from '../routing/catalog.js'
import { costOf, type Usage } from '../routing/cost.js'

/**
 * Money is counted in integer nano-USD (1e-9 USD) wherever it is stored or summed, so totals are exact and
 * usage by tag adds up to the total to the last digit; USD appears only at the edges (headers, API, CLI).
 */
export const NANOS_PER_USD = 1e9

export function toNanos(usd: number): number {
  return Math.round(usd * NANOS_PER_USD)
}

export function toUsd(nanos: number): number {
  return nanos / NANOS_PER_USD
}

/** USD for a header: up to 9 decimals, without trailing zeros (`0.000123`, `0`). */
export function formatUsd(nanos: number): string {
  if (nanos === 0) return '0'
  const sign = nanos < 0 ? '-' : ''
  const abs = Math.abs(nanos)
  const whole = Math.floor(abs / NANOS_PER_USD)
  const frac = String(abs % NANOS_PER_USD)
    .padStart(9, '0')
    .replace(/0+$/, '')
  return frac === '' ? `${sign}${whole}` : `${sign}${whole}.${frac}`
}

/** What `usage` cost at `price`, in nano-USD; undefined without a price. */
export function costNanos(price: Price | undefined, usage: Usage): number | undefined {
  const usd = costOf(price, usage)
  return usd === undefined ? undefined : toNanos(usd)
}

/**
 * What a provider's prompt cache saved on this answer: cached tokens at the input rate less the cached rate,
 * less the premium paid for tokens written to the cache (so a first, writing request can save less than 0).
 */
export function promptCacheSavedNanos(price: Price | undefined, usage: Usage): number {
  if (price === undefined || (usage.cached === 0 && usage.written === 0)) return 0
  const read = usage.cached * (price.input - (price.cached_input ?? price.input))
  const premium = usage.written * ((price.cache_write ?? price.input) - price.input)
  return toNanos((read - premium) / 1e6)
}

/** The most a request can cost: every prompt token uncached, and the longest answer it may get. */
export function maxCostNanos(price: Price, promptTokens: number, maxOutputTokens: number): number {
  const writeRate = Math.max(price.input, price.cache_write ?? price.input)
  return Math.ceil(((promptTokens * writeRate + maxOutputTokens * price.output) / 1e6) * NANOS_PER_USD)
}
