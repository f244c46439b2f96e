import { describe, expect, it } from 'vitest'
import { toGeminiSchema } from './schema.js'

const P = 'tools[0].function.parameters'
const convert = (schema: unknown) => toGeminiSchema(schema, P)

describe('JSON Schema → Gemini schema', () => {
  it('keeps what Gemini understands, nested objects and arrays included', () => {
    const schema = {
      type: 'object',
      description: 'An order',
      properties: {
        id: { type: 'string', description: 'Order id', pattern: '^o_' },
        lines: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1, format: 'int32' } },
            required: ['sku', 'qty'],
          },
        },
        when: { type: 'string', format: 'date-time' },
      },
      required: ['id', 'lines'],
    }
    expect(convert(schema)).toEqual({ schema, dropped: [] })
  })

  it('removes additionalProperties, default, examples and unknown formats, and reports them', () => {
    const { schema, dropped } = convert({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri', default: 'https://example.com', examples: ['https://a.b'] },
      },
    })
    expect(schema).toEqual({ type: 'object', properties: { url: { type: 'string' } } })
    expect(dropped).toEqual([`${P}.additionalProperties`, `${P}.format:uri`, `${P}.default`, `${P}.examples`])
  })

  it('type [T, "null"] → T with nullable', () => {
    expect(convert({ type: ['string', 'null'], description: 'd' }).schema).toEqual({
      type: 'string',
      description: 'd',
      nullable: true,
    })
  })

  it('several non-null types → anyOf', () => {
    expect(convert({ type: ['string', 'integer', 'null'], description: 'd' }).schema).toEqual({
      description: 'd',
      anyOf: [{ type: 'string' }, { type: 'integer' }],
      nullable: true,
    })
  })

  it('anyOf with {type: "null"} → the other member, nullable; oneOf → anyOf', () => {
    expect(convert({ anyOf: [{ type: 'number' }, { type: 'null' }], description: 'n' }).schema).toEqual({
      type: 'number',
      description: 'n',
      nullable: true,
    })
    expect(convert({ oneOf: [{ type: 'number' }, { type: 'string' }] }).schema).toEqual({
      anyOf: [{ type: 'number' }, { type: 'string' }],
    })
  })

  it('const → a one-value enum; string enums typed string; null in an enum → nullable', () => {
    expect(convert({ const: 'x' }).schema).toEqual({ type: 'string', enum: ['x'] })
    expect(convert({ enum: ['a', 'b', null] }).schema).toEqual({
      type: 'string',
      enum: ['a', 'b'],
      nullable: true,
    })
  })

  it('non-string enums move into the description (Gemini enums are strings)', () => {
    expect(convert({ type: 'integer', enum: [1, 2], description: 'Level.' })).toEqual({
      schema: { type: 'integer', description: 'Level. Allowed values: 1, 2.' },
      dropped: [`${P}.enum`],
    })
  })

  it('inlines local $refs from $defs and definitions, with sibling keywords', () => {
    const { schema, dropped } = convert({
      type: 'object',
      properties: {
        home: { $ref: '#/$defs/address', description: 'Home' },
        work: { $ref: '#/definitions/address' },
      },
      $defs: { address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      definitions: { address: { type: 'object', properties: { city: { type: 'string' } } } },
    })
    expect(schema).toEqual({
      type: 'object',
      properties: {
        home: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
          description: 'Home',
        },
        work: { type: 'object', properties: { city: { type: 'string' } } },
      },
    })
    expect(dropped).toEqual([])
  })

  it('refuses a recursive $ref with a 400 naming the parameter', () => {
    const tree = {
      type: 'object',
      properties: { children: { type: 'array', items: { $ref: '#' } } },
    }
    expect(() => convert(tree)).toThrow(expect.objectContaining({ status: 400, param: P }))
    expect(() => convert({ $ref: 'https://example.com/s.json' })).toThrow(/non-local/)
  })

  it('merges allOf', () => {
    expect(
      convert({
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'number' } }, required: ['b'] },
        ],
      }).schema,
    ).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a', 'b'],
    })
  })

  it('drops required names that are not properties, and empty properties', () => {
    expect(convert({ type: 'object', properties: {}, required: ['x'] }).schema).toEqual({ type: 'object' })
    expect(convert({ type: 'object', properties: { a: {} }, required: ['a', 'ghost'] }).schema).toEqual({
      type: 'object',
      properties: { a: {} },
      required: ['a'],
    })
  })

  it('refuses tuples and non-objects', () => {
    expect(() => convert({ type: 'array', items: [{ type: 'string' }] })).toThrow(/tuple/)
    expect(() => convert({ type: 'array', prefixItems: [{ type: 'string' }] })).toThrow(/tuple/)
    expect(() => convert('string')).toThrow(expect.objectContaining({ code: 'MERIDIAN_INVALID_REQUEST' }))
  })
})
