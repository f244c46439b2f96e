import { readFileSync } from 'node:fs'
import { presetTable } from '../src/providers/openai-compatible/reference.js'
import { parameterTable } from '../src/providers/parameters-reference.js'

/**
 * docs/providers.md: hand-written prose (scripts/templates/providers.*.md) around the generated presets and
 * parameter tables.
 */
export function providersDoc(): string {
  const read = (name: string) => readFileSync(new URL(`./templates/${name}`, import.meta.url), 'utf8')
  return `${read('providers.head.md')}${presetTable()}\n${read('providers.parameters.md')}${parameterTable()}\n${read('providers.tail.md')}`
}
