import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from './load.js'

const minimal = `
providers:
  - id: local
    type: openai
    base_url: http://127.0.0.1:9100/v1
    api_key: \${LOCAL_API_KEY}
models:
  - name: gpt-4o-mini
    targets: [{ provider: local, model: gpt-4o-mini }]
keys:
  - key: \${MERIDIAN_KEY}
    project: default
`

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, env, 'test.yaml')
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected the config to be rejected')
}

describe('parseConfig', () => {
  it('fills defaults and interpolates the environment', () => {
    const config = parseConfig(minimal, { LOCAL_API_KEY: 'sk-local', MERIDIAN_KEY: 'mk-0123456789' })
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8787, max_body: 10 * 1024 * 1024 })
    expect(config.providers[0]).toMatchObject({ api_key: 'sk-local', timeout_ms: 120000 })
    expect(config.keys[0]).toEqual({ key: 'mk-0123456789', project: 'default' })
    expect(config.log).toEqual({ level: 'info', requests: true })
  })

  it('parses sizes with units', () => {
    const config = parseConfig('server: { max_body: 512KB }', {})
    expect(config.server.max_body).toBe(512 * 1024)
  })

  it('reads limits.prefetch as a duration, 250 ms unless set', () => {
    expect(parseConfig('{}', {}).limits.prefetch).toBe(250)
    expect(parseConfig('limits: { prefetch: 1s }', {}).limits.prefetch).toBe(1000)
    expect(parseConfig('limits: { prefetch: 0 }', {}).limits.prefetch).toBe(0)
  })

  it('names the path of an unknown provider', () => {
    const text = `${minimal}
  - key: mk-other-0123
`.replace('targets: [{ provider: local', 'targets: [{ provider: x')
    expect(problems(text, { LOCAL_API_KEY: 'a', MERIDIAN_KEY: 'mk-0123456789' })).toContain(
      'models[0].targets[0].provider: unknown provider "x"',
    )
  })

  it('names the path deep in a list', () => {
    const text = `
providers: [{ id: p, type: openai, base_url: "http://h/v1" }]
models:
  - { name: a, targets: [{ provider: p, model: a }] }
  - { name: b, targets: [{ provider: p, model: b }] }
  - { name: c, targets: [{ provider: p, model: c }, { provider: q, model: c }] }
`
    expect(problems(text)).toEqual(['models[2].targets[1].provider: unknown provider "q"'])
  })

  it('reports an unset environment variable where it is used', () => {
    expect(problems(minimal, { MERIDIAN_KEY: 'mk-0123456789' })).toContain(
      'providers[0].api_key: environment variable LOCAL_API_KEY is not set',
    )
  })

  it('accepts ${VAR:-default}', () => {
    const config = parseConfig('server: { host: "${HOST:-0.0.0.0}" }', {})
    expect(config.server.host).toBe('0.0.0.0')
  })

  it('rejects unknown keys, bad types and bad YAML', () => {
    expect(problems('server: { prot: 1 }')).toEqual(['server: Unrecognized key: "prot"'])
    expect(problems('server: { port: "x" }')[0]).toMatch(/^server\.port: /)
    expect(problems('providers: [{ id: a, type: nope }]')[0]).toMatch(/^providers\[0\]\.type: /)
    expect(problems('server: [')[0]).toMatch(/^not valid YAML/)
    expect(problems('limits: { prefetch: soon }')[0]).toMatch(/^limits\.prefetch: expected a duration/)
    expect(problems('limits: { prefetch: -1 }')[0]).toMatch(/^limits\.prefetch: /)
  })

  it('checks presets: azure needs a base_url and an api_version; hosted presets need a key', () => {
    const found = problems(
      'providers: [{ id: az, type: openai, preset: azure }, { id: g, type: openai, preset: groq }]',
    )
    expect(found).toContain('providers[0].base_url: preset "azure" needs a base_url')
    expect(found).toContain('providers[0].api_version: azure needs an api_version (e.g. 2024-10-21)')
    expect(found).toContain('providers[0].api_key: preset "azure" needs an api_key')
    expect(found).toContain('providers[1].api_key: preset "groq" needs an api_key')
  })

  it('rejects duplicates', () => {
    const found = problems(`
providers: [{ id: a, type: openai, base_url: "http://h/v1" }, { id: a, type: openai, base_url: "http://h/v1" }]
models: [{ name: m, targets: [{ provider: a, model: m }] }, { name: m, targets: [{ provider: a, model: m }] }]
`)
    expect(found).toEqual([
      'providers[1].id: duplicate provider id "a"',
      'models[1].name: duplicate model name "m"',
    ])
  })
})
