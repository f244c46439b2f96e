import { z } from 'zod'
import { configSchema } from './schema.js'

/** The config file's JSON Schema, for editors (`# yaml-language-server: $schema=./meridian.schema.json`). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
    title: 'Meridian gateway configuration',
  }
}
