/**
 * Gives each entry of a new labelled prompt file its split, once, before any tuning: held-out when the FNV-1a
 * hash of its id is 0 or 1 mod 5 (40 %), tuning otherwise. `npx tsx scripts/classifier/assign-split.ts <file>`.
 * Entries that have a split keep it.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: assign-split.ts <prompts.json>')
const fnv = (s: string) => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}
const entries = JSON.parse(readFileSync(file, 'utf8')) as {
  id: string
  label: string
  lang: string
  split?: string
}[]
const out = entries.map(({ id, label, lang, split, ...rest }) => ({
  id,
  label,
  lang,
  split: split ?? (fnv(id) % 5 < 2 ? 'heldout' : 'tuning'),
  ...rest,
}))
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`)
