import type { z } from 'zod'
import { GatewayError } from '../../core/errors.js'
import { describeIssue } from '../../core/validation.js'

function isJsonType(type: string): boolean {
  const t = type.toLowerCase()
  return t.startsWith('application/json') || t.includes('+json')
}

/**
 * Reads a JSON request body: 415 for a non-JSON content type (a missing one is accepted: some clients send
 * none), 413 past `maxBody` (checked against Content-Length first, then while reading), 400 for bad JSON.
 */
export async function readJsonBody(req: Request, maxBody: number): Promise<unknown> {
  const type = req.headers.get('content-type')
  if (type !== null && !isJsonType(type)) {
    throw new GatewayError(
      'MERIDIAN_UNSUPPORTED_MEDIA_TYPE',
      `unsupported content type "${type}": send application/json`,
    )
  }
  const length = req.headers.get('content-length')
  if (length !== null && Number(length) > maxBody) throw tooLarge(maxBody)
  const text = length !== null ? await req.text() : await readLimited(req, maxBody)
  if (text.length === 0)
    throw new GatewayError('MERIDIAN_INVALID_JSON', 'the request body is empty: send a JSON object')
  try {
    return JSON.parse(text)
  } catch (err) {
    const detail = err instanceof Error ? `: ${err.message}` : ''
    throw new GatewayError('MERIDIAN_INVALID_JSON', `the request body is not valid JSON${detail}`)
  }
}

async function readLimited(req: Request, maxBody: number): Promise<string> {
  if (req.body === null) return ''
  const decoder = new TextDecoder()
  let size = 0
  let text = ''
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > maxBody) throw tooLarge(maxBody)
    text += decoder.decode(chunk, { stream: true })
  }
  return text + decoder.decode()
}

function tooLarge(maxBody: number): GatewayError {
  return new GatewayError(
    'MERIDIAN_BODY_TOO_LARGE',
    `the request body is larger than the limit of ${maxBody} bytes`,
  )
}

/**
 * Validates a parsed body in place; the first problem becomes a 400 naming the field. The caller keeps using
 * its own object, so fields the schema does not know reach the provider untouched.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown): asserts value is z.output<S> {
  const result = schema.safeParse(value)
  if (!result.success) {
    const { message, param } = describeIssue(result.error)
    throw new GatewayError('MERIDIAN_INVALID_REQUEST', message, { param })
  }
}
