import { PRESET_NAMES, PRESETS, type Preset } from './presets.js'

/** The presets table of docs/providers.md, generated from PRESETS. */
export function presetTable(): string {
  const rows = PRESET_NAMES.map((name) => {
    const p: Preset = PRESETS[name]
    const rename = p.rename
      ? Object.entries(p.rename)
          .map(([a, b]) => `\`${a}\` → \`${b}\``)
          .join(', ')
      : ''
    return `| \`${name}\` | ${p.baseUrl ? `\`${p.baseUrl}\`` : '(required)'} | ${p.auth === 'bearer' ? '`Authorization: Bearer`' : '`api-key`'} | ${p.keyRequired ? 'yes' : 'no'} | ${p.env ? `\`${p.env}\`` : ''} | ${(p.defaultModels ?? []).map((m) => `\`${m}\``).join(', ')} | ${rename} |`
  })
  return [
    '| preset | default base_url | key sent as | key needed | env var (no-config start) | models it configures | renamed fields |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}
