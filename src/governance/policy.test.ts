import { describe, expect, it } from 'vitest'
import { GatewayError } from '../core/errors.js'
import { checkModel, compilePolicy, modelMatcher, policySchema } from './policy.js'

function denial(run: () => void): { status: number; body: ReturnType<GatewayError['toJSON']> } {
  try {
    run()
  } catch (err) {
    if (err instanceof GatewayError) return { status: err.status, body: err.toJSON() }
    throw err
  }
  throw new Error('expected a denial')
}

describe('model patterns', () => {
  it('match exact names and prefixes ending in *', () => {
    const match = modelMatcher(['gpt-4o-mini', 'claude-*'])
    expect(['gpt-4o-mini', 'claude-haiku-4-5'].map(match)).toEqual([true, true])
    expect(['gpt-4o', 'gpt-4o-mini-2', 'clau'].map(match)).toEqual([false, false, false])
    expect(modelMatcher(['*'])('anything')).toBe(true)
  })

  it('refuses a * anywhere but at the end', () => {
    expect(policySchema.safeParse({ models: { allow: ['gpt-*-mini'] } }).success).toBe(false)
  })
})

describe('checkModel', () => {
  const policy = compilePolicy({ models: { allow: ['gpt-4o*', 'claude-*'], deny: ['gpt-4o'] } })

  it('admits an allowed model', () => {
    expect(() => checkModel(policy, undefined, 'alpha', 'gpt-4o-mini')).not.toThrow()
  })

  it('denies with 403, naming the rule and the value in error.policy', () => {
    const denied = denial(() => checkModel(policy, undefined, 'alpha', 'gpt-4o'))
    expect(denied.status).toBe(403)
    expect(denied.body.error).toMatchObject({
      type: 'permission_error',
      code: 'MERIDIAN_POLICY_DENIED',
      param: 'model',
      policy: { rule: 'models.deny', value: 'gpt-4o' },
    })
    const notAllowed = denial(() => checkModel(policy, undefined, 'alpha', 'mistral-large-latest'))
    expect(notAllowed.body.error).toMatchObject({
      policy: { rule: 'models.allow', value: 'mistral-large-latest' },
    })
  })

  it("checks the key's own restriction first", () => {
    const keyModels = modelMatcher(['claude-haiku-4-5'])
    const denied = denial(() => checkModel(policy, keyModels, 'alpha', 'gpt-4o-mini'))
    expect(denied.body.error).toMatchObject({ policy: { rule: 'key.models', value: 'gpt-4o-mini' } })
  })

  it('with no policy, allows everything', () => {
    expect(() => checkModel(compilePolicy({}), undefined, 'p', 'whatever')).not.toThrow()
  })
})

describe('compilePolicy', () => {
  it('answers modes, forces and caps', () => {
    const policy = compilePolicy({ deny_modes: ['sport'], force: { code: 'gpt-4o' }, max_tokens: 500 })
    expect(policy.deniesMode('sport')).toBe(true)
    expect(policy.deniesMode('eco')).toBe(false)
    expect(policy.force('code')).toBe('gpt-4o')
    expect(policy.force('simple')).toBeUndefined()
    expect(policy.forces).toBe(true)
    expect(policy.maxTokens).toBe(500)
    expect(compilePolicy({ force: {} }).forces).toBe(false)
  })
})
