import { PRESET_NAMES, PRESETS } from '../providers/openai-compatible/presets.js'
import { DEFAULT_TABLE } from '../routing/table.js'
import type { ConfigInput } from './schema.js'

/**
 * A config for running with no config file: every provider whose API key is in the environment
 * (OPENAI_API_KEY, GROQ_API_KEY, …) with its well-known models, and MERIDIAN_KEY as the gateway key.
 * Returns undefined when no provider key is set. Keys stay `${ENV}` references, resolved at validation.
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigInput | undefined {
  const providers: NonNullable<ConfigInput['providers']> = []
  const models: NonNullable<ConfigInput['models']> = []
  const seen = new Set<string>()
  for (const name of PRESET_NAMES) {
    const preset = PRESETS[name]
    if (!('env' in preset) || !env[preset.env]) continue
    providers.push({ id: name, type: 'openai', preset: name, api_key: `\${${preset.env}}` })
    for (const model of preset.defaultModels) {
      if (seen.has(model)) continue
      seen.add(model)
      models.push({ name: model, targets: [{ provider: name, model }] })
    }
  }
  if (providers.length === 0) return undefined
  return { providers, models, keys: gatewayKeys(env) }
}

/**
 * The demo: the model `demo`, and every model of the shipped routing table so `model: "auto"` works, all
 * answered by the simulated upstream at `simUrl`.
 */
export function demoConfig(simUrl: string, env: Readonly<Record<string, string | undefined>>): ConfigInput {
  const routed = [...new Set(Object.values(DEFAULT_TABLE).flatMap((cells) => Object.values(cells)))]
  return {
    providers: [{ id: 'sim', type: 'openai', base_url: `${simUrl}/v1`, api_key: 'sim-demo-key' }],
    models: [
      { name: 'demo', targets: [{ provider: 'sim', model: 'demo' }] },
      { name: 'demo-embedding', targets: [{ provider: 'sim', model: 'demo-embedding' }] },
      ...routed.map((name) => ({ name, targets: [{ provider: 'sim', model: name }] })),
    ],
    keys: gatewayKeys(env),
  }
}

function gatewayKeys(env: Readonly<Record<string, string | undefined>>): ConfigInput['keys'] {
  return env.MERIDIAN_KEY ? [{ key: '${MERIDIAN_KEY}', project: 'default', name: 'env' }] : []
}
