import { type ParseArgsConfig, parseArgs } from 'node:util'

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>

/** A mistake in the command line itself: `main` prints its one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

const DEFAULT_URL = 'http://127.0.0.1:8787'

/** The options every admin command takes: where the gateway is and its admin token. */
const CONNECTION = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig

/**
 * parseArgs with the connection options added, its errors turned into usage errors, and exactly
 * `names.length` positionals (named in the message when one is missing).
 *
 * @example const { values, positionals } = parseFlags(argv, { name: { type: 'string' } }, ['ID'], 'projects create')
 */
export function parseFlags<O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  names: readonly string[],
  command: string,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: O & typeof CONNECTION; allowPositionals: true }>
  >
  try {
    parsed = parseArgs({ args: argv, options: { ...options, ...CONNECTION }, allowPositionals: true })
  } catch (err) {
    // Node's message for an unknown option goes on about positionals starting with '-': one sentence is enough.
    const message =
      err instanceof Error ? err.message.replace(/\. To specify a positional[\s\S]*$/, '') : String(err)
    throw new UsageError(`${command}: ${message}`)
  }
  const { positionals } = parsed
  if (positionals.length < names.length) throw new UsageError(`${command} needs ${names[positionals.length]}`)
  if (positionals.length > names.length) {
    throw new UsageError(`${command}: unexpected argument "${positionals[names.length]}"`)
  }
  return parsed
}

/** A number flag, checked: `--usd lots` is a usage error naming `--usd`. */
export function numberFlag(
  flag: string,
  value: string | undefined,
  check: { integer?: boolean; min?: number; max?: number; above?: number } = {},
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  const bad =
    value.trim() === '' ||
    !Number.isFinite(n) ||
    (check.integer === true && !Number.isInteger(n)) ||
    (check.min !== undefined && n < check.min) ||
    (check.above !== undefined && n <= check.above) ||
    (check.max !== undefined && n > check.max)
  if (bad) {
    const kind = check.integer ? 'an integer' : 'a number'
    const range = [
      check.min === undefined ? '' : `>= ${check.min}`,
      check.above === undefined ? '' : `> ${check.above}`,
      check.max === undefined ? '' : `<= ${check.max}`,
    ]
      .filter(Boolean)
      .join(' and ')
    throw new UsageError(`--${flag} expects ${kind}${range ? ` ${range}` : ''}, not "${value}"`)
  }
  return n
}

/** A flag that must be one of `choices`. */
export function choiceFlag<C extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly C[],
): C | undefined {
  if (value === undefined) return undefined
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} expects one of ${choices.join(', ')}, not "${value}"`)
  }
  return value as C
}

/** A date or time flag, checked as the API will (ISO 8601: `2026-05-01`, `2026-05-01T10:00:00Z`). */
export function instantFlag(flag: string, value: string | undefined): void {
  if (value !== undefined && Number.isNaN(Date.parse(value))) {
    throw new UsageError(`--${flag} expects an ISO 8601 date or time (2026-05-01), not "${value}"`)
  }
}

/** A required flag's value, or a usage error naming it. */
export function required(flag: string, value: string | undefined, command: string): string {
  if (value === undefined || value === '') throw new UsageError(`${command} needs --${flag}`)
  return value
}

/** `a,b, c` as a list (empty items dropped). */
export const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')

/**
 * The admin API of a running gateway, called as `cli:<user>` so its audit log says who did it.
 * A non-2xx answer throws the message of its OpenAI error envelope.
 */
export class AdminApi {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly actor: string,
  ) {}

  /** From `--url`/`MERIDIAN_URL` and `--token`/`MERIDIAN_ADMIN_TOKEN`. */
  static from(values: { url?: string; token?: string }, env: NodeJS.ProcessEnv, command: string): AdminApi {
    const token = values.token ?? env.MERIDIAN_ADMIN_TOKEN
    if (!token) throw new UsageError(`${command} needs the admin token: --token T or MERIDIAN_ADMIN_TOKEN`)
    const url = (values.url ?? env.MERIDIAN_URL ?? DEFAULT_URL).replace(/\/+$/, '')
    // The API ignores an actor outside [A-Za-z0-9._@:-]{1,64}; a user name with a space still gets named.
    const user = (env.USER || env.USERNAME || 'unknown').replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 60)
    return new AdminApi(url, token, `cli:${user}`)
  }

  /** The raw answer, whatever its status (for callers that treat a 404 as an answer). */
  async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          'x-meridian-actor': this.actor,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
      throw new Error(`cannot reach the gateway at ${this.url}${cause}`)
    }
  }

  /** The JSON answer, typed as its route in src/api/admin declares it. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body)
    if (!res.ok) throw await apiError(res)
    return (await res.json()) as T
  }

  async text(path: string): Promise<string> {
    const res = await this.send('GET', path)
    if (!res.ok) throw await apiError(res)
    return res.text()
  }
}

/** The message of an error answer: its envelope's, else the status. */
export async function apiError(res: Response): Promise<Error> {
  const text = await res.text()
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message
    if (typeof message === 'string') return new Error(message)
  } catch {}
  return new Error(`the gateway answered HTTP ${res.status}`)
}

/** `/path/a%2Fb` from segments, each percent-encoded. */
export const path = (...segments: string[]): string =>
  segments.map((s, i) => (i === 0 ? s : `/${encodeURIComponent(s)}`)).join('')

/** `?a=1&b=2` from the defined entries (or nothing). */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v))
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

/** Columns padded to their widest cell; control characters in cells become spaces. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = [head, ...rows].map((row) => row.map((c) => c.replace(/\p{Cc}/gu, ' ')))
  const widths = head.map((_, i) => Math.max(...clean.map((r) => (r[i] ?? '').length)))
  return clean
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** Prints `formatTable`'s table: `printTable(['id', 'name'], [['test', '-']])`. */
export function printTable(head: readonly string[], rows: readonly (readonly string[])[]): void {
  console.log(formatTable(head, rows))
}

/** USD with at least two decimals and at most six: `5.00`, `0.000123`. */
export const usd = (n: number): string => n.toFixed(6).replace(/0{1,4}$/, '')

/** An ISO time from the API, shorter: `2026-05-01 10:00:00Z`; null as `-`. */
export const time = (iso: string | null): string =>
  iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')

/** A nullable cell. */
export const cell = (value: string | number | null | undefined): string =>
  value === null || value === undefined || value === '' ? '-' : String(value)
