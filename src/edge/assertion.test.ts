import { describe, expect, it } from 'vitest'
import { assertionKey, signAssertion, verifyAssertion } from './assertion.js'

const assertion = { key: 'k1', project: 'alpha', request: 'r1', at: 1_000_000, limited: true }

describe('the edge assertion', () => {
  it('verifies what it signed, within a minute', async () => {
    const key = await assertionKey('secret-0123456789abcdef0123456789')
    const signed = await signAssertion(key, assertion)
    expect(await verifyAssertion(key, signed, 1_000_000 + 59_000)).toEqual(assertion)
    expect(await verifyAssertion(key, signed, 1_000_000 + 61_000)).toBeUndefined()
  })

  it('refuses another secret, an altered payload, and garbage', async () => {
    const key = await assertionKey('secret-0123456789abcdef0123456789')
    const signed = await signAssertion(key, assertion)
    const other = await assertionKey('another-secret-0123456789abcdef')
    expect(await verifyAssertion(other, signed, 1_000_000)).toBeUndefined()
    const [payload, signature] = signed.split('.')
    const forged = btoa(JSON.stringify({ ...assertion, project: 'beta' })).replace(/=+$/, '')
    expect(await verifyAssertion(key, `${forged}.${signature}`, 1_000_000)).toBeUndefined()
    expect(await verifyAssertion(key, `${payload}.`, 1_000_000)).toBeUndefined()
    expect(await verifyAssertion(key, 'not an assertion', 1_000_000)).toBeUndefined()
  })
})
