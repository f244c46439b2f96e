import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { demoConfig } from '../../config/auto.js'
import { configJsonSchema } from '../../config/json-schema.js'
import { ConfigError, validateConfig } from '../../config/load.js'
import { configReference } from '../../config/reference.js'
import type { Config } from '../../config/schema.js'
import { ADMIN_USAGE, adminCommand } from './cli-admin.js'
import { printTable, UsageError } from './cli-format.js'
import { findConfig, loadConfigFile } from './config-source.js'
import { parseSimArgs } from './sim-flags.js'

const USAGE = `meridian — an OpenAI-compatible AI gateway

Usage:
  meridian serve [--config F] [--host H] [--port N]   run the gateway
  meridian sim [--port N] [--api-key K] [--dialect D] [behaviour flags]   run the simulated upstream
  meridian check-config F                             validate a config file
  meridian schema [--markdown] [--out F]              print (or write) the config's JSON Schema (or reference)
  meridian health [--url U] [--token T]               the health gate's view of every upstream target

${ADMIN_USAGE}

Without --config, serve reads $MERIDIAN_CONFIG, then ./meridian.yaml; with neither it configures the
providers whose keys are in the environment (OPENAI_API_KEY, GROQ_API_KEY, …), or else starts a demo.
Sim dialects (--dialect): all (default: OpenAI, Anthropic and Gemini, each on its own paths), openai,
  anthropic or gemini (the others' paths answer 404).
Sim behaviour flags: --status N --error-rate X --latency-ms N --ttft-ms N --chunk-gap-ms N --chunks N
  --reset-rate X --stall-after-chunks N (also settable at run time: POST /sim/config)`

/** Runs a CLI command; resolves to the exit code, or never (for servers) until a signal stops them. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'serve':
        return await serve(rest)
      case 'sim':
        return await sim(rest)
      case 'check-config':
        return checkConfig(rest)
      case 'schema':
        return schema(rest)
      case 'health':
        return await health(rest)
      case 'projects':
      case 'keys':
      case 'provider-keys':
      case 'policy':
      case 'budget':
      case 'usage':
      case 'audit':
        return await adminCommand(command, rest)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE)
        return 0
      default:
        console.error(`meridian: unknown command "${command}"\n\n${USAGE}`)
        return 2
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`meridian: ${err.message}`)
      return 2
    }
    console.error(
      err instanceof ConfigError
        ? err.message
        : `meridian: ${err instanceof Error ? err.message : String(err)}`,
    )
    return 1
  }
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string' } },
  })
  const port = values.port === undefined ? undefined : parsePort(values.port)
  // The servers load on demand, so the admin commands do not pay for the whole gateway's modules.
  const [{ startGateway }, { startSim }] = await Promise.all([
    import('./start.js'),
    import('./sim-server.js'),
  ])
  const source = findConfig(values.config, process.env)
  let stopSim: (() => Promise<void>) | undefined
  let config: Config
  if (source.kind === 'demo') {
    const simulated = await startSim({
      host: '127.0.0.1',
      port: 0,
      models: ['demo', 'demo-embedding'],
      apiKey: 'sim-demo-key',
    })
    stopSim = () => simulated.close()
    config = validateConfig(demoConfig(simulated.url, process.env), process.env, 'demo')
    console.log(`meridian: no config file and no provider keys in the environment: starting the demo.`)
    console.log(
      `meridian: the simulated upstream (meridian sim) answers model "demo" (and "auto", routed over the shipped routing table) at ${simulated.url}`,
    )
  } else {
    config = source.config
    const from = source.kind === 'file' ? source.path : `the environment (${source.providers.join(', ')})`
    console.log(
      `meridian: config from ${from}: ${config.models.length} models, ${config.providers.length} providers`,
    )
  }
  const gateway = await startGateway({ config, host: values.host, port })
  console.log(
    `meridian: listening on ${gateway.url}${config.keys.length === 0 ? ' (no gateway keys: auth is off)' : ''}`,
  )
  if (source.kind === 'demo') {
    const auth = config.keys.length > 0 ? ` -H "Authorization: Bearer $MERIDIAN_KEY"` : ''
    console.log(
      `meridian: try: curl ${gateway.url}/v1/chat/completions -H "content-type: application/json"${auth} ` +
        `-d '{"model":"demo","messages":[{"role":"user","content":"Hello"}]}'`,
    )
  }
  await untilSignal()
  await gateway.close()
  await stopSim?.()
  return 0
}

async function sim(argv: string[]): Promise<number> {
  const options = parseSimArgs(argv)
  const { startSim } = await import('./sim-server.js')
  const server = await startSim(options)
  console.log(
    `meridian sim: listening on ${server.url} (dialect ${options.dialect ?? 'all'}; POST /sim/config, GET /sim/stats)`,
  )
  await untilSignal()
  await server.close()
  return 0
}

function checkConfig(argv: string[]): number {
  const [file] = argv
  if (!file) throw new Error('usage: meridian check-config FILE')
  const config = loadConfigFile(file, process.env)
  console.log(
    `${file}: ok (${config.providers.length} providers, ${config.models.length} models, ${config.keys.length} keys)`,
  )
  return 0
}

function schema(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string', short: 'o' }, markdown: { type: 'boolean', default: false } },
  })
  const text = values.markdown ? configReference() : `${JSON.stringify(configJsonSchema(), null, 2)}\n`
  if (values.out) writeFileSync(values.out, text)
  else process.stdout.write(text)
  return 0
}

/** `meridian health`: GET /admin/health of a running gateway, as a table. */
async function health(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: process.env.MERIDIAN_URL ?? 'http://127.0.0.1:8787' },
      token: { type: 'string', default: process.env.MERIDIAN_ADMIN_TOKEN },
    },
  })
  if (!values.token) throw new Error('health needs the admin token: --token T or MERIDIAN_ADMIN_TOKEN')
  const res = await fetch(`${values.url.replace(/\/$/, '')}/admin/health`, {
    headers: { authorization: `Bearer ${values.token}` },
  })
  const body = (await res.json()) as { targets?: HealthRow[]; error?: { message: string } }
  if (!res.ok || body.targets === undefined) throw new Error(body.error?.message ?? `HTTP ${res.status}`)
  const rows = body.targets.map((t) => [
    t.target,
    t.state,
    String(t.requests),
    `${Math.round(t.errorRate * 100)}%`,
    t.p50Ms === null ? '-' : t.p50Ms.toFixed(1),
    t.p90Ms === null ? '-' : t.p90Ms.toFixed(1),
    t.reason ?? '',
  ])
  printTable(['target', 'state', 'requests', 'errors', 'ttfb p50 ms', 'p90 ms', 'reason'], rows)
  return 0
}

interface HealthRow {
  target: string
  state: string
  requests: number
  errorRate: number
  p50Ms: number | null
  p90Ms: number | null
  reason: string | null
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port "${value}"`)
  return port
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
