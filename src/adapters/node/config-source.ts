import { existsSync, readFileSync } from 'node:fs'
import { configFromEnv } from '../../config/auto.js'
import { parseConfig, validateConfig } from '../../config/load.js'
import type { Config } from '../../config/schema.js'

export type ConfigSource =
  | { kind: 'file'; path: string; config: Config }
  | { kind: 'env'; config: Config; providers: string[] }
  | { kind: 'demo' }

export const DEFAULT_CONFIG_FILE = 'meridian.yaml'

/**
 * Where the config comes from, first match wins: `--config F`, `$MERIDIAN_CONFIG`, `./meridian.yaml`,
 * provider keys in the environment, and otherwise the demo.
 */
export function findConfig(path: string | undefined, env: NodeJS.ProcessEnv): ConfigSource {
  const file =
    path ?? env.MERIDIAN_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined)
  if (file !== undefined) return { kind: 'file', path: file, config: loadConfigFile(file, env) }
  const fromEnv = configFromEnv(env)
  if (fromEnv) {
    const config = validateConfig(fromEnv, env, 'environment')
    return { kind: 'env', config, providers: config.providers.map((p) => p.id) }
  }
  return { kind: 'demo' }
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv): Config {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  return parseConfig(text, env, path)
}
