import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configJsonSchema } from './json-schema.js'

describe('meridian.schema.json', () => {
  it('is the schema generated from the zod config schema (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../meridian.schema.json', import.meta.url), 'utf8'))
    expect(committed).toEqual(configJsonSchema())
  })

  it('describes the config sections', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown> }
    expect(Object.keys(schema.properties)).toEqual(['server', 'log', 'providers', 'models', 'keys'])
  })
})

describe('docs/config-reference.md', () => {
  it('is generated from the schema (run `npm run schema` after changing it)', async () => {
    const { configReference } = await import('./reference.js')
    const committed = readFileSync(new URL('../../docs/config-reference.md', import.meta.url), 'utf8')
    expect(committed).toBe(configReference())
  })
})
