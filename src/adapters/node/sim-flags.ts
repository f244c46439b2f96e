import { type SimBehaviour, simBehaviourSchema } from '../../sim/behaviour.js'
import { SIM_DIALECTS, type SimDialect } from './sim-dialects.js'

export interface SimArgs {
  host: string
  port: number
  /** The first `--api-key`. */
  apiKey: string | undefined
  /** Every key of every `--api-key` (the first included): repeated, comma-separated, or both. */
  apiKeys?: string[]
  models: string[] | undefined
  behaviour: Partial<SimBehaviour>
  /** Set by `--dialect`; left out, the sim speaks every dialect (`all`). */
  dialect?: SimDialect
}

export const DEFAULT_SIM_HOST = '127.0.0.1'
export const DEFAULT_SIM_PORT = 9100

// Each behaviour knob is a flag of the same name in kebab case: --latency-ms for latency_ms.
const BEHAVIOUR_FLAGS: Readonly<Record<string, keyof SimBehaviour>> = Object.fromEntries(
  Object.keys(simBehaviourSchema.shape).map((key) => [
    `--${key.replaceAll('_', '-')}`,
    key as keyof SimBehaviour,
  ]),
)

const OTHER_FLAGS = ['--host', '--port', '--api-key', '--models', '--dialect']

/** Every flag `meridian sim` accepts (each takes a value, as `--flag value` or `--flag=value`). */
export const SIM_FLAGS: readonly string[] = [...OTHER_FLAGS, ...Object.keys(BEHAVIOUR_FLAGS)]

function number(flag: string, value: string): number {
  const parsed = value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isFinite(parsed)) throw new Error(`${flag} expects a number, got "${value}"`)
  return parsed
}

/**
 * Parses the arguments after `meridian sim`. Throws an Error that names the flag on anything it cannot use.
 *
 * @example parseSimArgs(['--port', '0', '--latency-ms=20']) // { host: '127.0.0.1', port: 0, …, behaviour: { latency_ms: 20 } }
 */
export function parseSimArgs(argv: readonly string[]): SimArgs {
  const args: SimArgs = {
    host: DEFAULT_SIM_HOST,
    port: DEFAULT_SIM_PORT,
    apiKey: undefined,
    models: undefined,
    behaviour: {},
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const eq = arg.indexOf('=')
    const flag = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg
    if (!OTHER_FLAGS.includes(flag) && !(flag in BEHAVIOUR_FLAGS)) {
      throw new Error(
        arg.startsWith('-')
          ? `unknown flag ${flag} for meridian sim (known: ${SIM_FLAGS.join(', ')})`
          : `unexpected argument "${arg}" for meridian sim`,
      )
    }
    let value: string
    if (eq !== -1 && arg.startsWith('--')) value = arg.slice(eq + 1)
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} expects a value`)
      value = next
      i++
    }
    if (flag === '--host') {
      if (value === '') throw new Error('--host expects a host name or address')
      args.host = value
    } else if (flag === '--port') {
      const port = number(flag, value)
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        throw new Error(`--port expects an integer from 0 to 65535, got "${value}"`)
      }
      args.port = port
    } else if (flag === '--api-key') {
      const keys = value.split(',').map((k) => k.trim())
      if (keys.some((k) => k === '')) {
        throw new Error(`--api-key expects a non-empty key or a comma-separated list of keys, got "${value}"`)
      }
      args.apiKey ??= keys[0]
      args.apiKeys = [...(args.apiKeys ?? []), ...keys]
    } else if (flag === '--models') {
      const models = value.split(',').map((m) => m.trim())
      if (models.some((m) => m === ''))
        throw new Error(`--models expects a comma-separated list, got "${value}"`)
      args.models = models
    } else if (flag === '--dialect') {
      if (!SIM_DIALECTS.includes(value as SimDialect)) {
        throw new Error(`--dialect expects one of ${SIM_DIALECTS.join(', ')}, got "${value}"`)
      }
      args.dialect = value as SimDialect
    } else {
      const key = BEHAVIOUR_FLAGS[flag]!
      // "null" turns a nullable knob (status, fail_every, chunks, drop_after_chunks, …) back off.
      const raw = value === 'null' ? null : number(flag, value)
      const checked = simBehaviourSchema.shape[key].safeParse(raw)
      if (!checked.success) {
        throw new Error(`${flag}: ${checked.error.issues[0]?.message ?? 'invalid value'} (got "${value}")`)
      }
      Object.assign(args.behaviour, { [key]: checked.data })
    }
  }
  return args
}
