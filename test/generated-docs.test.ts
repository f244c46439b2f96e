import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configJsonSchema } from '../src/config/json-schema.js'
import { configReference } from '../src/config/reference.js'
import { errorReference } from '../src/core/error-reference.js'

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

// The docs quote the code: run `npm run docs` after changing the config schema or the error codes.
describe('generated files are up to date', () => {
  it('meridian.schema.json', () => {
    expect(JSON.parse(read('meridian.schema.json'))).toEqual(configJsonSchema())
  })
  it('docs/config-reference.md', () => {
    expect(read('docs/config-reference.md')).toBe(configReference())
  })
  it('docs/errors.md', () => {
    expect(read('docs/errors.md')).toBe(errorReference())
  })
})

describe('docs/providers.md', () => {
  it('carries the presets table generated from presets.ts', async () => {
    const { providersDoc } = await import('../scripts/providers-doc.js')
    expect(read('docs/providers.md')).toBe(providersDoc())
  })
})
