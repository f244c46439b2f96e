import { connect } from 'node:net'

/** Where the real services are expected; `REDIS_URL` / `POSTGRES_URL` override. */
export const SERVICE_URLS = {
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  postgres: process.env.POSTGRES_URL ?? 'postgres://127.0.0.1:5432',
} as const

export type ServiceName = keyof typeof SERVICE_URLS

/** Whether something accepts TCP connections at the URL's host and port (within `timeoutMs`). */
export function reachable(url: string, defaultPort: number, timeoutMs = 500): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || defaultPort })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Whether Redis accepts connections. */
export const redisAvailable = (url = SERVICE_URLS.redis) => reachable(url, 6379)
/** Whether Postgres accepts connections (TCP only; credentials are not checked). */
export const postgresAvailable = (url = SERVICE_URLS.postgres) => reachable(url, 5432)

/**
 * Checks a real service a suite needs. In CI (`CI=true`) a missing service throws, so the suite fails
 * rather than passing quietly; elsewhere it warns once, and the suite skips itself.
 *
 * @example
 * const redis = await needService('redis')
 * describe.skipIf(!redis.available)('redis tier', () => { ... })
 */
export async function needService(name: ServiceName): Promise<{ available: boolean; url: string }> {
  const url = SERVICE_URLS[name]
  const available = name === 'redis' ? await redisAvailable(url) : await postgresAvailable(url)
  if (!available) {
    const where = new URL(url).host
    if (process.env.CI === 'true')
      throw new Error(`${name} is required in CI but nothing listens at ${where}`)
    console.warn(`skipping ${name} suite: no ${name} at ${where} (CI would fail)`)
  }
  return { available, url }
}
