import { type SimServer, startSim } from '../../src/adapters/node/sim-server.js'
import { type RunningGateway, startGateway } from '../../src/adapters/node/start.js'
import { validateConfig } from '../../src/config/load.js'
import type { ConfigInput } from '../../src/config/schema.js'
import type { ReadinessCheck } from '../../src/core/runtime.js'
import type { Logger } from '../../src/telemetry/logger.js'
import { eventually } from './timing.js'

export const SIM_KEY = 'sk-sim-secret-0123456789abcdef'
export const GATEWAY_KEY = 'mk-test-key-0123456789'

/** A logger that keeps every line, so tests can assert what was (and was not) logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  const push = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, msg, ...fields }))
  }
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') }
}

export interface Stack {
  sim: SimServer
  gateway: RunningGateway
  logger: ReturnType<typeof memoryLogger>
  url: string
  /** fetch against the gateway with the test key and JSON content type. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>
  /**
   * The request log line of the request with this `x-request-id`, parsed. It is written once the request's
   * bookkeeping has run, just after its response was handed over, so this waits for it (up to 2 s).
   */
  // biome-ignore lint/suspicious/noExplicitAny: a log line is whatever JSON the logger wrote
  logged(requestId: string): Promise<any>
  close(): Promise<void>
}

/**
 * The simulated upstream and a gateway in front of it, both on real sockets (port 0).
 * `configure` may adjust the config before it is validated.
 */
export async function startStack(
  configure: (config: ConfigInput, simUrl: string) => void = () => {},
  options: {
    readiness?: ReadinessCheck[]
    auth?: boolean
    env?: Record<string, string>
    simKeys?: string[]
  } = {},
): Promise<Stack> {
  const sim = await startSim({ port: 0, apiKey: SIM_KEY, apiKeys: options.simKeys })
  const input: ConfigInput = {
    log: { level: 'debug', requests: true },
    providers: [{ id: 'sim', type: 'openai', base_url: `${sim.url}/v1`, api_key: SIM_KEY, timeout_ms: 5000 }],
    models: [
      { name: 'gpt-4o-mini', targets: [{ provider: 'sim', model: 'sim-small' }] },
      { name: 'text-embedding-3-small', targets: [{ provider: 'sim', model: 'sim-embed' }] },
    ],
    keys: options.auth === false ? [] : [{ key: GATEWAY_KEY, project: 'test', name: 'test-key' }],
    cache: { source: 'memory' },
    storage: { database: 'memory' },
  }
  configure(input, sim.url)
  const config = validateConfig(input, {}, 'test')
  const logger = memoryLogger()
  const gateway = await startGateway({
    config,
    host: '127.0.0.1',
    port: 0,
    logger,
    readiness: options.readiness,
    env: options.env ?? {},
  })
  return {
    sim,
    gateway,
    logger,
    url: gateway.url,
    post: (path, body, headers = {}) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    logged(requestId) {
      return eventually(() => {
        const line = logger.lines
          .map((l) => JSON.parse(l))
          .find((l) => l.msg === 'request' && l.request_id === requestId)
        if (line === undefined) throw new Error(`no request log line for ${requestId}`)
        return line
      }, 2000)
    },
    async close() {
      await gateway.close()
      await sim.close()
    },
  }
}

export const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello' }],
  ...extra,
})

/** Parses an SSE body into its data payloads. */
export function sseFrames(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6))
}
