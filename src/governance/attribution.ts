import { GatewayError } from '../core/errors.js'

/** What a request is attributed to beyond its key and project: its tags and its session. */
export interface Attribution {
  /** `x-meridian-tags: feature=onboarding,team=growth` → `{ feature: 'onboarding', team: 'growth' }`. */
  tags: Readonly<Record<string, string>> | undefined
  /** `x-meridian-session`: a conversation or job id the client chooses. */
  session: string | undefined
}

export const TAGS_HEADER = 'x-meridian-tags'
export const SESSION_HEADER = 'x-meridian-session'

const MAX_TAGS = 16
const TAG_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
const TAG_VALUE = /^[\x21-\x7e]([\x20-\x7e]{0,126}[\x21-\x7e])?$/
const SESSION = /^[\x21-\x7e]{1,128}$/

function bad(header: string, message: string): GatewayError {
  return new GatewayError('MERIDIAN_INVALID_REQUEST', `${header}: ${message}`, { param: header })
}

/**
 * The tags of `x-meridian-tags`: comma-separated `key=value` pairs (keys: letters, digits, `_.:-`, at most 64;
 * values: printable ASCII without commas or `=`, at most 128). The one parser every tier uses, so a tag is
 * counted the same wherever the request was served. A malformed header is the client's 400, naming it.
 *
 * @example parseTags('feature=onboarding, team=growth') // { feature: 'onboarding', team: 'growth' }
 */
export function parseTags(header: string | null): Record<string, string> | undefined {
  if (header === null || header.trim() === '') return undefined
  const tags: Record<string, string> = {}
  let count = 0
  for (const part of header.split(',')) {
    const pair = part.trim()
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq === -1) throw bad(TAGS_HEADER, `"${printable(pair)}" is not key=value`)
    const key = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    if (!TAG_KEY.test(key)) throw bad(TAGS_HEADER, `"${printable(key)}" is not a valid tag key`)
    if (!TAG_VALUE.test(value) || value.includes('='))
      throw bad(TAGS_HEADER, `the value of "${key}" is empty or not printable ASCII`)
    if (Object.hasOwn(tags, key)) throw bad(TAGS_HEADER, `"${key}" is given twice`)
    if (++count > MAX_TAGS) throw bad(TAGS_HEADER, `at most ${MAX_TAGS} tags`)
    tags[key] = value
  }
  return count === 0 ? undefined : tags
}

/** The session of `x-meridian-session`: up to 128 printable ASCII characters without spaces. */
export function parseSession(header: string | null): string | undefined {
  if (header === null || header === '') return undefined
  if (!SESSION.test(header)) throw bad(SESSION_HEADER, 'expected up to 128 printable ASCII characters')
  return header
}

/** Both, from a request's headers. */
export function attributionOf(headers: Headers): Attribution {
  return { tags: parseTags(headers.get(TAGS_HEADER)), session: parseSession(headers.get(SESSION_HEADER)) }
}

function printable(text: string): string {
  return text.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')
}
