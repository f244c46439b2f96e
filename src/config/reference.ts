import { configJsonSchema } from './json-schema.js'

interface Node {
  type?: string | string[]
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  properties?: Record<string, Node>
  items?: Node
  anyOf?: Node[]
  additionalProperties?: Node | boolean
}

function typeOf(node: Node): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ')
  if (node.const !== undefined) return `\`${String(node.const)}\``
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' or ')
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') {
    return `map of ${typeOf(node.additionalProperties)}`
  }
  return Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'any')
}

function rows(node: Node, path: string, out: string[]): void {
  const props = node.properties ?? node.items?.properties
  const prefix = node.items?.properties ? `${path}[]` : path
  if (path !== '') {
    const def = node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``
    out.push(
      `| \`${path}\` | ${typeOf(node)} | ${def} | ${node.description ?? node.items?.description ?? ''} |`,
    )
  }
  if (props)
    for (const [key, child] of Object.entries(props))
      rows(child, prefix === '' ? key : `${prefix}.${key}`, out)
}

/** docs/config-reference.md, generated from the zod schema so the docs cannot drift from the code. */
export function configReference(): string {
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run schema`; do not edit by hand. -->',
    '',
    'Every key of `meridian.yaml`, its type, its default and what it does. Strings may use `${ENV}` or',
    '`${ENV:-default}`. Editors can validate the file against `meridian.schema.json`.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ]
  rows(configJsonSchema() as Node, '', out)
  return `${out.join('\n')}\n`
}
