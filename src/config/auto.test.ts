import { describe, expect, it } from 'vitest'
import { configFromEnv, demoConfig } from './auto.js'
import { validateConfig } from './load.js'

describe('configFromEnv', () => {
  it('is undefined with no provider keys', () => {
    expect(configFromEnv({ PATH: '/bin' })).toBeUndefined()
  })

  it('configures each provider whose key is set, keeping the key out of the config text', () => {
    const env = { OPENAI_API_KEY: 'sk-openai-123', GROQ_API_KEY: 'gsk-123456', MERIDIAN_KEY: 'mk-0123456789' }
    const input = configFromEnv(env)!
    expect(JSON.stringify(input)).not.toContain('sk-openai-123')
    const config = validateConfig(input, env)
    expect(config.providers.map((p) => p.id)).toEqual(['openai', 'groq'])
    expect(config.providers[0]!.api_key).toBe('sk-openai-123')
    expect(config.models.map((m) => m.name)).toContain('gpt-4o-mini')
    expect(config.models.map((m) => m.name)).toContain('llama-3.1-8b-instant')
    expect(config.keys).toEqual([{ key: 'mk-0123456789', project: 'default', name: 'env' }])
  })
})

describe('demoConfig', () => {
  it('routes model demo to the simulator', () => {
    const config = validateConfig(demoConfig('http://127.0.0.1:9999', {}), {})
    expect(config.models[0]).toMatchObject({ name: 'demo', targets: [{ provider: 'sim', model: 'demo' }] })
    expect(config.providers[0]!.base_url).toBe('http://127.0.0.1:9999/v1')
    expect(config.keys).toEqual([])
  })
})
