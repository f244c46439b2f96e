import { parse as parseYaml, YAMLParseError } from 'yaml'
import { describeIssues } from '../core/validation.js'
import { interpolateEnv } from './env.js'
import { type Config, configSchema } from './schema.js'

/** A config that cannot be used; `problems` lists every one found, each naming its path. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/**
 * Parses and validates a YAML (or JSON) config, interpolating `${ENV}` references from `env`.
 *
 * @example parseConfig(await readFile('meridian.yaml', 'utf8'), process.env, 'meridian.yaml')
 */
export function parseConfig(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  source = 'config',
): Config {
  let raw: unknown
  try {
    raw = parseYaml(text) ?? {}
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : ''
    throw new ConfigError(source, [
      `not valid YAML${where}: ${err instanceof Error ? err.message.split('\n')[0] : err}`,
    ])
  }
  return validateConfig(raw, env, source)
}

/** Validates an already parsed config object (from YAML, JSON or code). */
export function validateConfig(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
  source = 'config',
): Config {
  const problems: string[] = []
  const interpolated = interpolateEnv(raw, env, problems)
  const result = configSchema.safeParse(interpolated)
  if (!result.success) problems.push(...describeIssues(result.error))
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems)
  return result.data
}
