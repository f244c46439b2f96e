import type { ProviderConfig } from '../config/schema.js'
import { createOpenAICompatible } from './openai-compatible/index.js'
import type { Provider } from './provider.js'

/** Provider families by config `type`. A new provider is a new folder and one line here. */
const FACTORIES: Record<ProviderConfig['type'], (config: ProviderConfig) => Provider> = {
  openai: createOpenAICompatible,
}

export function createProvider(config: ProviderConfig): Provider {
  return FACTORIES[config.type](config)
}
