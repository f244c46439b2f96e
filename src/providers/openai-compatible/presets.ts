/**
 * The OpenAI-compatible family: one implementation, a preset per provider. A preset is data, not code:
 * where the provider lives, how it takes its key, and how its parameters differ from OpenAI's.
 */
export interface Preset {
  /** Used when the config gives no base_url. */
  baseUrl?: string
  /** How the key travels: `Authorization: Bearer` or Azure's `api-key` header. */
  auth: 'bearer' | 'api-key'
  /** A local server may run without a key; a hosted one may not. */
  keyRequired: boolean
  /** Azure addresses a deployment in the path and needs `?api-version=`. */
  deploymentPaths?: boolean
  /** Request fields this provider names differently (OpenAI name → provider name). */
  rename?: Readonly<Record<string, string>>
  /** Environment variable `npm start` looks for to configure this provider with no config file. */
  env?: string
  /** Models configured when the provider is set up from the environment. */
  defaultModels?: readonly string[]
  /**
   * Streams end with a usage chunk without being asked, and `stream_options` is refused (Mistral): the
   * gateway then never adds `stream_options.include_usage` itself.
   */
  usageUnasked?: boolean
}

export const PRESETS = {
  openai: {
    baseUrl: 'https://api.openai.com/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'OPENAI_API_KEY',
    defaultModels: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'text-embedding-3-small'],
  },
  azure: { auth: 'api-key', keyRequired: true, deploymentPaths: true },
  fireworks: {
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'FIREWORKS_API_KEY',
    defaultModels: ['accounts/fireworks/models/llama-v3p1-8b-instruct'],
  },
  groq: {
    baseUrl: 'https://api.groq.com/openai/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'GROQ_API_KEY',
    defaultModels: ['llama-3.1-8b-instant', 'llama-3.3-70b-versatile'],
  },
  together: {
    baseUrl: 'https://api.together.xyz/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'TOGETHER_API_KEY',
    defaultModels: ['meta-llama/Llama-3.3-70B-Instruct-Turbo'],
  },
  deepseek: {
    baseUrl: 'https://api.deepseek.com/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'DEEPSEEK_API_KEY',
    defaultModels: ['deepseek-chat', 'deepseek-reasoner'],
  },
  mistral: {
    baseUrl: 'https://api.mistral.ai/v1',
    auth: 'bearer',
    keyRequired: true,
    // Mistral's chat API calls the sampling seed `random_seed`.
    rename: { seed: 'random_seed' },
    usageUnasked: true,
    env: 'MISTRAL_API_KEY',
    defaultModels: ['mistral-small-latest', 'mistral-large-latest', 'mistral-embed'],
  },
  openrouter: {
    baseUrl: 'https://openrouter.ai/api/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'OPENROUTER_API_KEY',
    defaultModels: ['openai/gpt-4o-mini', 'anthropic/claude-3.5-sonnet'],
  },
  // Anthropic's and Google's own OpenAI-compatible endpoints, so their keys work before the native
  // providers (type: anthropic, type: gemini) are configured; the native ones translate more faithfully.
  'anthropic-openai': {
    baseUrl: 'https://api.anthropic.com/v1',
    auth: 'bearer',
    keyRequired: true,
    env: 'ANTHROPIC_API_KEY',
    defaultModels: ['claude-sonnet-4-5', 'claude-haiku-4-5'],
  },
  'gemini-openai': {
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai',
    auth: 'bearer',
    keyRequired: true,
    env: 'GEMINI_API_KEY',
    defaultModels: ['gemini-2.5-flash', 'gemini-2.5-pro'],
  },
  ollama: { baseUrl: 'http://127.0.0.1:11434/v1', auth: 'bearer', keyRequired: false },
  vllm: { baseUrl: 'http://127.0.0.1:8000/v1', auth: 'bearer', keyRequired: false },
  llamacpp: { baseUrl: 'http://127.0.0.1:8080/v1', auth: 'bearer', keyRequired: false },
} as const satisfies Record<string, Preset>

export type PresetName = keyof typeof PRESETS

export const PRESET_NAMES = Object.keys(PRESETS) as [PresetName, ...PresetName[]]
