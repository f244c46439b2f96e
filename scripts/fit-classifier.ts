/**
 * Refits the classifier's weights (src/routing/weights.ts) to the tuning split of the labelled prompts and
 * rewrites the accuracy section of docs/auto-routing.md. Run after changing a signal; a test fails while
 * either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { evaluate, fitWeights } from './classifier/fit.js'
import { accuracyMarkdown, loadExamples, weightsSource, withAccuracy } from './classifier/report.js'

const root = new URL('..', import.meta.url)
const examples = loadExamples()
const { weights, penalty, cv } = fitWeights(examples)
console.log(`penalty ${penalty}: ${(cv * 100).toFixed(1)}% in 5-fold cross-validation on the tuning split`)
writeFileSync(new URL('src/routing/weights.ts', root), weightsSource(weights, penalty, cv))
const heldout = evaluate(weights, examples, 'heldout')
const tuning = evaluate(weights, examples, 'tuning')
const section = accuracyMarkdown(heldout, tuning, Math.round(cv * 1000) / 1000)
const docPath = new URL('docs/auto-routing.md', root)
writeFileSync(docPath, withAccuracy(readFileSync(docPath, 'utf8'), section))
console.log(section)
