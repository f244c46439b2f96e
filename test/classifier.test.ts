import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { evaluate, fitWith } from '../scripts/classifier/fit.js'
import { ACCURACY_END, ACCURACY_START, accuracyMarkdown, loadExamples } from '../scripts/classifier/report.js'
import { FIT_CROSS_VALIDATION, FIT_PENALTY, WEIGHTS } from '../src/routing/weights.js'

// The labelled prompts (test/fixtures/routing) were written for this purpose by writers who never saw the
// classifier; each entry's split was fixed by a hash of its id before any tuning.
const examples = loadExamples()

describe('the labelled prompt set', () => {
  it('has at least 300 prompts over the four labels, in several languages, with tools and multi-turn', () => {
    expect(examples.length).toBeGreaterThanOrEqual(300)
    const ids = new Set(examples.map((e) => e.id))
    expect(ids.size).toBe(examples.length)
    for (const label of ['simple', 'code', 'reasoning', 'complex']) {
      expect(examples.filter((e) => e.label === label && e.split === 'heldout').length).toBeGreaterThan(20)
    }
    expect(new Set(examples.map((e) => e.lang)).size).toBeGreaterThanOrEqual(8)
    expect(examples.filter((e) => e.request.tools !== undefined).length).toBeGreaterThan(30)
    const multiTurn = examples.filter(
      (e) => e.request.messages.filter((m) => (m as { role: string }).role === 'user').length > 1,
    )
    expect(multiTurn.length).toBeGreaterThan(40)
  })
})

describe('the classifier on held-out prompts', () => {
  it('labels at least 85% of them right', () => {
    const heldout = evaluate(WEIGHTS, examples, 'heldout')
    expect(heldout.correct / heldout.total).toBeGreaterThanOrEqual(0.85)
  })

  it('runs on weights fitted to the tuning split alone (refitting reproduces them)', () => {
    expect(fitWith(examples, FIT_PENALTY)).toEqual(WEIGHTS)
  })

  it('has its measured accuracy in docs/auto-routing.md (npm run fit-classifier rewrites it)', () => {
    const doc = readFileSync(new URL('../docs/auto-routing.md', import.meta.url), 'utf8')
    const section = doc.slice(
      doc.indexOf(ACCURACY_START) + ACCURACY_START.length + 1,
      doc.indexOf(ACCURACY_END),
    )
    expect(section).toBe(
      accuracyMarkdown(
        evaluate(WEIGHTS, examples, 'heldout'),
        evaluate(WEIGHTS, examples, 'tuning'),
        FIT_CROSS_VALIDATION,
      ),
    )
  })
})
