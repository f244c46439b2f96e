/**
 * Writes the files generated from code: the config's JSON Schema and reference, and the error reference.
 * `npm run docs` after changing the config schema or the error codes; a test fails while they are stale.
 */
import { writeFileSync } from 'node:fs'
import { configJsonSchema } from '../src/config/json-schema.js'
import { configReference } from '../src/config/reference.js'
import { errorReference } from '../src/core/error-reference.js'
import { providersDoc } from './providers-doc.js'

const root = new URL('..', import.meta.url)
writeFileSync(new URL('meridian.schema.json', root), `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
writeFileSync(new URL('docs/config-reference.md', root), configReference())
writeFileSync(new URL('docs/errors.md', root), errorReference())
writeFileSync(new URL('docs/providers.md', root), providersDoc())
console.log('wrote meridian.schema.json, docs/config-reference.md, docs/errors.md, docs/providers.md')
