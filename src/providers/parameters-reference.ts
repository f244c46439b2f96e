import { ANTHROPIC_PARAMETERS } from './anthropic/request.js'
import { GEMINI_PARAMETERS } from './gemini/request.js'

const CELL = { mapped: 'mapped', dropped: 'dropped, warned', rejected: 'rejected (400)' } as const

/**
 * docs/providers.md's parameter table: every OpenAI chat parameter a translating provider knows, and what
 * happens to it per provider. Generated from the providers' own tables, so it cannot drift from the code.
 */
export function parameterTable(): string {
  const names = [...new Set([...Object.keys(ANTHROPIC_PARAMETERS), ...Object.keys(GEMINI_PARAMETERS)])].sort()
  const rows = names.map((name) => {
    const anthropic = Object.hasOwn(ANTHROPIC_PARAMETERS, name) ? ANTHROPIC_PARAMETERS[name] : undefined
    const gemini = Object.hasOwn(GEMINI_PARAMETERS, name) ? GEMINI_PARAMETERS[name] : undefined
    const a = anthropic ? `${CELL[anthropic.handling]}: ${anthropic.note}` : 'dropped, warned'
    const g = gemini ? CELL[gemini] : 'dropped, warned'
    return `| \`${name}\` | passed through | ${a.replaceAll('|', '\\|')} | ${g} |`
  })
  return [
    '| parameter | openai (every preset) | anthropic | gemini |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n')
}
