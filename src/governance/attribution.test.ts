import { describe, expect, it } from 'vitest'
import { GatewayError } from '../core/errors.js'
import { attributionOf, parseSession, parseTags } from './attribution.js'

describe('parseTags', () => {
  it('reads comma-separated key=value pairs, trimming spaces', () => {
    expect(parseTags('feature=onboarding, team=growth')).toEqual({ feature: 'onboarding', team: 'growth' })
    expect(parseTags('a=1,,b=two words')).toEqual({ a: '1', b: 'two words' })
  })

  it('is undefined for no header or an empty one', () => {
    expect(parseTags(null)).toBeUndefined()
    expect(parseTags('  ')).toBeUndefined()
    expect(parseTags(',')).toBeUndefined()
  })

  it.each([
    ['feature', 'is not key=value'],
    ['=x', 'is not a valid tag key'],
    ['bad key=x', 'is not a valid tag key'],
    ['a=', 'empty or not printable'],
    ['a=é', 'empty or not printable'],
    ['a=1,a=2', 'given twice'],
    ['a=b=c', 'empty or not printable'],
  ])('refuses %j with a 400 naming the header', (header, message) => {
    let error: unknown
    try {
      parseTags(header)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).status).toBe(400)
    expect((error as GatewayError).param).toBe('x-meridian-tags')
    expect((error as GatewayError).message).toContain(message)
  })

  it('allows at most 16 tags', () => {
    const many = Array.from({ length: 17 }, (_, i) => `k${i}=v`).join(',')
    expect(() => parseTags(many)).toThrow(/at most 16/)
    expect(Object.keys(parseTags(many.split(',').slice(0, 16).join(','))!)).toHaveLength(16)
  })

  it('keeps a tag named like an Object.prototype member as data, and refuses __proto__', () => {
    const tags = parseTags('constructor=x,toString=y')!
    expect(Object.hasOwn(tags, 'constructor') && Object.hasOwn(tags, 'toString')).toBe(true)
    expect([tags.constructor, tags.toString]).toEqual(['x', 'y'])
    expect(() => parseTags('__proto__=y')).toThrow(/not a valid tag key/)
  })
})

describe('parseSession and attributionOf', () => {
  it('reads the session, refusing spaces and overlong ids', () => {
    expect(parseSession('conv-42')).toBe('conv-42')
    expect(parseSession(null)).toBeUndefined()
    expect(() => parseSession('has space')).toThrow(GatewayError)
    expect(() => parseSession('x'.repeat(129))).toThrow(GatewayError)
  })

  it('reads both headers', () => {
    const headers = new Headers({ 'x-meridian-tags': 'feature=search', 'x-meridian-session': 's1' })
    expect(attributionOf(headers)).toEqual({ tags: { feature: 'search' }, session: 's1' })
  })
})
