import { describe, expect, it } from 'vitest'
import { configJsonSchema } from './json-schema.js'

describe('configJsonSchema', () => {
  it('describes every config section, with defaults and descriptions', () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { properties?: Record<string, { default?: unknown; description?: string }> }>
    }
    expect(Object.keys(schema.properties)).toEqual([
      'server',
      'log',
      'providers',
      'models',
      'keys',
      'projects',
      'storage',
      'budgets',
      'limits',
      'cache',
      'admin',
      'edge',
      'routing',
      'router',
    ])
    expect(schema.properties.server!.properties!.max_body).toMatchObject({ default: '10MB' })
    expect(schema.properties.server!.properties!.port!.description).toContain('Port')
  })
})
