import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '..', 'src')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory()
      ? files(path)
      : path.endsWith('.ts') && !path.endsWith('.test.ts')
        ? [path]
        : []
  })
}

const NODE_BUILTIN =
  /from\s+['"](node:[^'"]+|fs|path|http|https|net|os|crypto|stream|util|buffer|events|child_process)['"]/

describe('the dependency rule', () => {
  const outside = files(SRC).filter((f) => !relative(SRC, f).startsWith('adapters'))

  it('nothing outside src/adapters imports a Node built-in', () => {
    const offenders = outside
      .filter((f) => NODE_BUILTIN.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f))
    expect(offenders).toEqual([])
  })

  it('nothing outside src/adapters imports an adapter or a Node-only library', () => {
    const offenders = outside
      .filter((f) =>
        /from\s+['"](\.\.?\/)+adapters\/|from\s+['"](undici|@hono\/node-server|ioredis|better-sqlite3)['"]/.test(
          readFileSync(f, 'utf8'),
        ),
      )
      .map((f) => relative(SRC, f))
    expect(offenders).toEqual([])
  })
})
