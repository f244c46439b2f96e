import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../provider.js'

/*
 * JSON Schema (what OpenAI tools and `response_format.json_schema` carry) → the OpenAPI 3.0 subset Gemini's
 * `Schema` accepts (function `parameters`, `generationConfig.responseSchema`). Gemini answers a keyword it does
 * not know with a 400, so everything outside its subset is removed, and each removal is reported as a warning
 * (never silently), except pure metadata (`$schema`, `$id`, `$comment`) which changes nothing.
 */

/** Keywords of Gemini's Schema kept as they are. */
const KEPT = new Set([
  'title',
  'description',
  'nullable',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minProperties',
  'maxProperties',
  'propertyOrdering',
])

/** Keywords removed without a warning: they describe the document, not the value. */
const METADATA = new Set(['$schema', '$id', '$comment', '$defs', 'definitions'])

/** The `format` values Gemini accepts, by type; any other is removed. */
const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
}

const MAX_DEPTH = 64

interface Walk {
  root: JsonObject
  /** The JSON path of the schema in the request, for error messages and warnings. */
  param: string
  /** Keywords removed (reported once each). */
  dropped: Set<string>
}

/**
 * Converts one JSON Schema to Gemini's subset: local `$ref`s inlined (a recursive one is a 400), `type: [T,
 * "null"]` and `anyOf` with `{type: "null"}` → `nullable: true`, `oneOf` → `anyOf`, `allOf` merged, `const` →
 * a one-value `enum`, non-string enums moved into the description (Gemini's enums are strings only), tuple
 * `items` refused, and `additionalProperties`, `default`, `examples` and formats Gemini lacks removed.
 *
 * @example toGeminiSchema({ type: ['string', 'null'] }, 'tools[0].function.parameters')
 *   // → { schema: { type: 'string', nullable: true }, dropped: [] }
 */
export function toGeminiSchema(schema: unknown, param: string): { schema: JsonObject; dropped: string[] } {
  const root = asObject(schema, param)
  const walk: Walk = { root, param, dropped: new Set() }
  const out = convert(root, walk, 0, [])
  return { schema: out, dropped: [...walk.dropped].map((keyword) => `${param}.${keyword}`) }
}

function asObject(value: unknown, param: string): JsonObject {
  if (value === true) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(param, 'is not a JSON Schema object')
  }
  return value as JsonObject
}

function invalid(param: string, problem: string): GatewayError {
  return new GatewayError('MERIDIAN_INVALID_REQUEST', `${param} ${problem}`, { param })
}

function convert(input: JsonObject, walk: Walk, depth: number, refs: readonly string[]): JsonObject {
  if (depth > MAX_DEPTH) throw invalid(walk.param, `nests deeper than ${MAX_DEPTH} levels`)
  let node = input
  if (typeof node.$ref === 'string') {
    const ref = node.$ref
    if (refs.includes(ref))
      throw invalid(walk.param, `has a recursive $ref (${ref}), which Gemini cannot express`)
    const { $ref: _ref, ...siblings } = node
    // Keywords beside the $ref (often a description) refine the target.
    return convert({ ...resolve(ref, walk), ...siblings }, walk, depth + 1, [...refs, ref])
  }
  if (Array.isArray(node.allOf)) node = mergeAllOf(node, walk)
  const union = node.anyOf ?? node.oneOf
  if (Array.isArray(union)) return convertUnion(node, union, walk, depth, refs)

  const out: JsonObject = {}
  let type = node.type
  let nullable = node.nullable === true
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== 'null')
    if (types.length < type.length) nullable = true
    if (types.length > 1) {
      const { type: _type, description, title, nullable: _nullable, ...rest } = node
      const anyOf = types.map((t) => convert({ ...rest, type: t }, walk, depth + 1, refs))
      return withNullable({ ...describe(title, description), anyOf }, nullable)
    }
    type = types[0]
  }
  if (type === 'null') {
    nullable = true
    type = undefined
  }

  let description = typeof node.description === 'string' ? node.description : undefined
  let values: unknown[] | undefined
  if ('const' in node) values = [node.const]
  else if (Array.isArray(node.enum)) values = node.enum
  if (values !== undefined) {
    if (values.includes(null)) {
      nullable = true
      values = values.filter((v) => v !== null)
    }
    if (values.every((v) => typeof v === 'string') && (type === undefined || type === 'string')) {
      type = 'string'
    } else {
      // Gemini's enum is a list of strings; other values would change the argument's type, so they become
      // guidance in the description instead.
      const allowed = `Allowed values: ${values.map((v) => JSON.stringify(v)).join(', ')}.`
      description = description ? `${description} ${allowed}` : allowed
      walk.dropped.add('const' in node ? 'const' : 'enum')
      values = undefined
    }
  }

  if (typeof type === 'string') out.type = type
  else if (type !== undefined)
    throw invalid(walk.param, `has a type Gemini cannot express: ${JSON.stringify(type)}`)

  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case 'type':
      case 'nullable':
      case 'const':
      case 'enum':
      case 'allOf':
        break
      case 'description':
        if (description !== undefined) out.description = description
        break
      case 'format':
        if (typeof type === 'string' && FORMATS[type]?.includes(value as string)) out.format = value
        else walk.dropped.add(`format:${String(value)}`)
        break
      case 'properties':
        out.properties = convertProperties(value, walk, depth, refs)
        break
      case 'required':
        break // after properties: only names that exist
      case 'items':
        if (Array.isArray(value)) throw invalid(walk.param, 'uses tuple items, which Gemini cannot express')
        out.items = convert(asObject(value, walk.param), walk, depth + 1, refs)
        break
      case 'prefixItems':
        throw invalid(walk.param, 'uses tuple items (prefixItems), which Gemini cannot express')
      default:
        if (KEPT.has(key)) out[key] = value
        else if (!METADATA.has(key)) walk.dropped.add(key)
    }
  }
  if (description !== undefined && out.description === undefined) out.description = description
  if (values !== undefined) out.enum = values
  const properties = out.properties as JsonObject | undefined
  if (properties !== undefined) {
    // Gemini rejects an OBJECT with an empty `properties`; an object without it stays free-form.
    if (Object.keys(properties).length === 0) delete out.properties
    const required = Array.isArray(node.required) ? node.required.filter((name) => name in properties) : []
    if (required.length > 0) out.required = required
  }
  return withNullable(out, nullable)
}

function convertProperties(value: unknown, walk: Walk, depth: number, refs: readonly string[]): JsonObject {
  const properties = asObject(value, walk.param)
  const out: JsonObject = {}
  for (const [name, schema] of Object.entries(properties)) {
    out[name] = convert(asObject(schema, walk.param), walk, depth + 1, refs)
  }
  return out
}

/** `anyOf`/`oneOf`: `{type: "null"}` members become `nullable`; a single remaining member is inlined. */
function convertUnion(
  node: JsonObject,
  union: unknown[],
  walk: Walk,
  depth: number,
  refs: readonly string[],
): JsonObject {
  const { anyOf: _anyOf, oneOf: _oneOf, description, title, nullable: isNullable, ...rest } = node
  let nullable = isNullable === true
  const members: JsonObject[] = []
  for (const member of union) {
    const schema = asObject(member, walk.param)
    if (schema.type === 'null' && Object.keys(schema).length === 1) nullable = true
    else members.push(schema)
  }
  if (Object.keys(rest).length > 0) {
    // Keywords beside the union apply to every member.
    for (let i = 0; i < members.length; i++) members[i] = { ...rest, ...members[i] }
  }
  const head = describe(title, description)
  if (members.length === 1) {
    const only = convert(members[0]!, walk, depth + 1, refs)
    return withNullable({ ...only, ...head }, nullable)
  }
  if (members.length === 0) return withNullable(head, true)
  return withNullable({ ...head, anyOf: members.map((m) => convert(m, walk, depth + 1, refs)) }, nullable)
}

/** `allOf` as one schema: properties and required lists united, other keywords first one wins. */
function mergeAllOf(node: JsonObject, walk: Walk): JsonObject {
  const { allOf, ...own } = node
  const merged: JsonObject = {}
  const properties: JsonObject = {}
  const required: unknown[] = []
  for (const member of allOf as unknown[]) {
    let schema = asObject(member, walk.param)
    if (typeof schema.$ref === 'string')
      schema = { ...resolve(schema.$ref, walk), ...schema, $ref: undefined }
    for (const [key, value] of Object.entries(schema)) {
      if (value === undefined || key === '$ref') continue
      if (key === 'properties') Object.assign(properties, value)
      else if (key === 'required' && Array.isArray(value)) required.push(...value)
      else if (!(key in merged)) merged[key] = value
    }
  }
  const out: JsonObject = { ...merged, ...own }
  if (Object.keys(properties).length > 0)
    out.properties = { ...properties, ...(own.properties as JsonObject) }
  if (required.length > 0) out.required = [...new Set([...required, ...((own.required as unknown[]) ?? [])])]
  return out
}

/** A local reference (`#`, `#/$defs/X`, `#/definitions/X`, any JSON pointer into the root). */
function resolve(ref: string, walk: Walk): JsonObject {
  if (!ref.startsWith('#'))
    throw invalid(walk.param, `has a non-local $ref (${ref}), which Gemini cannot fetch`)
  let target: unknown = walk.root
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
    target = typeof target === 'object' && target !== null ? (target as JsonObject)[key] : undefined
  }
  if (target === undefined) throw invalid(walk.param, `has a $ref that points nowhere (${ref})`)
  return asObject(target, walk.param)
}

function describe(title: unknown, description: unknown): JsonObject {
  const out: JsonObject = {}
  if (typeof title === 'string') out.title = title
  if (typeof description === 'string') out.description = description
  return out
}

function withNullable(schema: JsonObject, nullable: boolean): JsonObject {
  if (nullable) schema.nullable = true
  return schema
}
