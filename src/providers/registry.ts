import type { Config, ProviderConfig } from '../config/schema.js'
import { createAnthropic } from './anthropic/index.js'
import { createGemini } from './gemini/index.js'
import { createOpenAICompatible } from './openai-compatible/index.js'
import type { Provider } from './provider.js'

type Factory = (config: ProviderConfig, models: Config['models']) => Provider

/** Provider families by config `type`. A new provider is a new folder and one line here. */
const FACTORIES: Record<ProviderConfig['type'], Factory> = {
  openai: createOpenAICompatible,
  anthropic: (config, models) =>
    createAnthropic({
      id: config.id,
      baseUrl: config.base_url,
      apiKey: config.api_key,
      version: config.anthropic_version,
      headers: config.headers,
      timeoutMs: config.timeout_ms,
      maxTokensByModel: maxTokensByModel(config.id, models),
    }),
  gemini: (config) =>
    createGemini({
      id: config.id,
      baseUrl: config.base_url,
      apiKey: config.api_key,
      headers: config.headers,
      timeoutMs: config.timeout_ms,
    }),
}

/** `models[].default_max_tokens`, by the upstream model name of each of the model's targets on this provider. */
function maxTokensByModel(providerId: string, models: Config['models']): Record<string, number> {
  const out: Record<string, number> = {}
  for (const model of models) {
    if (model.default_max_tokens === undefined) continue
    for (const target of model.targets) {
      if (target.provider === providerId && target.model !== undefined)
        out[target.model] = model.default_max_tokens
    }
  }
  return out
}

export function createProvider(config: ProviderConfig, models: Config['models'] = []): Provider {
  return FACTORIES[config.type](config, models)
}

/**
 * A configured provider rebuilt with another API key (a project's own); undefined for an id the config lacks.
 *
 * @example providerWithKey(config)('openai', projectKey)?.buildRequest('chat', body, 'gpt-4o-mini', false)
 */
export function providerWithKey(
  config: Config,
): (providerId: string, apiKey: string) => Provider | undefined {
  return (providerId, apiKey) => {
    const provider = config.providers.find((p) => p.id === providerId)
    return provider === undefined
      ? undefined
      : createProvider({ ...provider, api_key: apiKey }, config.models)
  }
}
