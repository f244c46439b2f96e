// Checks wire objects against OpenAI's published OpenAPI document, so "OpenAI-compatible" is tested
// against the spec rather than against our own reading of it.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { parse } from 'yaml'

const SPEC_ID = 'openai-openapi'

// shared/ sits beside the repository (locally and in CI); OPENAI_SPEC_PATH points elsewhere when needed.
const SPEC_PATH =
  process.env.OPENAI_SPEC_PATH ??
  fileURLToPath(new URL('../../../shared/specs/openai-openapi.yaml', import.meta.url))

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * The document is OpenAPI 3.1 but still carries 3.0's `nullable: true` in places (stream chunks'
 * `finish_reason`, `usage`, `logprobs`). JSON Schema 2020-12 has no such keyword, and Ajv refuses it
 * next to a `$ref`, so rewrite it as the 3.1 spelling: a "null" type or an `anyOf` with `{type: "null"}`.
 */
function normaliseNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(normaliseNullable)
  if (node === null || typeof node !== 'object') return node
  const out: { [key: string]: Json } = {}
  for (const [key, value] of Object.entries(node)) out[key] = normaliseNullable(value)
  if (out.nullable !== true) return out
  delete out.nullable
  if (typeof out.type === 'string' && out.$ref === undefined) {
    out.type = [out.type, 'null']
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null]
    return out
  }
  const { description, ...schema } = out
  const wrapped: { [key: string]: Json } = { anyOf: [schema, { type: 'null' }] }
  if (description !== undefined) wrapped.description = description
  return wrapped
}

let ajv: Ajv2020 | null = null
const validators = new Map<string, ValidateFunction>()

function compiler(): Ajv2020 {
  if (ajv !== null) return ajv
  const document = normaliseNullable(parse(readFileSync(SPEC_PATH, 'utf8')) as Json)
  // The spec uses formats (unixtime, float) Ajv does not know; they add nothing to a shape check.
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema(document as object, SPEC_ID)
  return ajv
}

/**
 * Validates `value` against `#/components/schemas/<schemaName>` of OpenAI's OpenAPI document.
 * Returns readable error strings, empty when the value conforms. The document is parsed once per test file
 * (about two seconds) and each compiled schema is cached.
 *
 * @example expect(validateAgainstSpec('CreateChatCompletionResponse', body)).toEqual([])
 */
export function validateAgainstSpec(schemaName: string, value: unknown): string[] {
  let validate = validators.get(schemaName)
  if (validate === undefined) {
    const compiled = compiler().compile({ $ref: `${SPEC_ID}#/components/schemas/${schemaName}` })
    validators.set(schemaName, compiled)
    validate = compiled
  }
  if (validate(value)) return []
  return (validate.errors ?? []).map(
    (error) =>
      `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`,
  )
}
