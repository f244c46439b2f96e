import { Pool } from 'undici'

export interface Load {
  path: string
  body: string
  headers: Record<string, string>
}

/** One request; resolves to [ms to the end of the body, ms to the first body byte]. */
export async function once(pool: Pool, load: Load): Promise<[number, number]> {
  const start = performance.now()
  const res = await pool.request({ path: load.path, method: 'POST', headers: load.headers, body: load.body })
  let first = 0
  for await (const _ of res.body) {
    if (first === 0) first = performance.now() - start
  }
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
  return [performance.now() - start, first]
}

/** `count` requests one at a time. */
export async function sequential(pool: Pool, load: Load, count: number, total: number[], ttfb?: number[]) {
  for (let i = 0; i < count; i++) {
    const [end, first] = await once(pool, load)
    total.push(end)
    ttfb?.push(first)
  }
}

/** `count` requests from `concurrency` workers at once; returns requests per second. */
export async function concurrent(
  pool: Pool,
  load: Load,
  count: number,
  concurrency: number,
  total: number[],
) {
  let left = count
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) total.push((await once(pool, load))[0])
    }),
  )
  return (count / (performance.now() - start)) * 1000
}

export function pool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 })
}
